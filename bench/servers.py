"""Server processes the bench starts and always stops: the bare baseline and Trava nodes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """One server in its own session (Ctrl-C in the terminal does not reach it: the harness
    stops it); `start()` waits, bounded, until /healthz answers 200."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path, port: int) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.log_path = log_dir / f"{name}-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /healthz within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def bare_server(secret: str, log_dir: Path) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "bench.bare_server", "--port", str(port), "--secret", secret]
    return ServerProcess("bare", argv, dict(os.environ), log_dir, port)


def trava_node(env: dict[str, str], log_dir: Path, name: str = "trava") -> ServerProcess:
    """`python -m realtime.runtime.serve` (the `make run` entry point) with the open-files limit raised."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "bench.with_nofile",
        "realtime.runtime.serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    return ServerProcess(name, argv, {**env, "NODE_ID": f"bench-{name}-{port}"}, log_dir, port)
