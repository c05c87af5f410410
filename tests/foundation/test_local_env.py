"""The checkout's .env: written once with a random key, read by every entry point under
the process environment, and no built-in key anywhere (issues 12 and 15)."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers import ROOT, free_port
from trava.localenv import write_local_env

SHOW = "from django.conf import settings; print(settings.DEBUG); print(settings.SECRET_KEY)"


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DJANGO_SETTINGS_MODULE": "trava.settings"}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def key_of(env_file: Path) -> str:
    (line,) = [line for line in env_file.read_text().splitlines() if line.startswith("SECRET_KEY=")]
    return line.split("=", 1)[1]


def test_setup_writes_a_private_random_env_once(tmp_path: Path) -> None:
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    result = run(["-m", "trava.localenv", str(first)], {})
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout
    assert write_local_env(second) is True
    assert "DEBUG=1" in first.read_text().splitlines()
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert len(key_of(first)) >= 50 and key_of(first) != key_of(second)

    # Never overwritten: the key (and tokens signed with it) survive every later setup.
    before = first.read_text()
    again = run(["-m", "trava.localenv", str(first)], {})
    assert again.returncode == 0 and "exists" in again.stdout
    assert first.read_text() == before


def test_env_file_is_git_ignored_and_kept_out_of_images() -> None:
    assert subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT).returncode == 0
    assert ".env" in (ROOT / ".dockerignore").read_text().splitlines()


def test_manage_py_reads_the_env_file_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    write_local_env(env_file)

    # Nothing in the environment: DEBUG and the key come from the file (the README's
    # `manage.py createsuperuser` / `ws_tail` in a checkout after `make setup`).
    from_file = run(["manage.py", "shell", "-v", "0", "-c", SHOW], {"TRAVA_ENV_FILE": str(env_file)})
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout.split() == ["True", key_of(env_file)]

    # The process environment takes precedence over the file, variable by variable.
    override = {"TRAVA_ENV_FILE": str(env_file), "DEBUG": "0", "SECRET_KEY": "k" * 60}
    from_env = run(["manage.py", "shell", "-v", "0", "-c", SHOW], override)
    assert from_env.returncode == 0, from_env.stderr
    assert from_env.stdout.split() == ["False", "k" * 60]


def test_the_server_entry_point_reads_the_env_file(tmp_path: Path) -> None:
    """`python -m realtime.runtime.serve` (what `make run` execs) with nothing but the file."""
    env_file = tmp_path / ".env"
    write_local_env(env_file)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TRAVA_ENV_FILE": str(env_file),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "realtime.runtime.serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError(f"no /healthz (exit {server.poll()}): {server.communicate(timeout=5)[1]}")
    finally:
        server.terminate()
        server.communicate(timeout=20)

    without = run(["-m", "realtime.runtime.serve", "--port", str(port)], {"TRAVA_ENV_FILE": "", "DEBUG": "1"})
    assert without.returncode != 0
    assert "SECRET_KEY is not set" in without.stderr


def test_no_built_in_key_even_with_debug_on(tmp_path: Path) -> None:
    """The fixed development key is gone: DEBUG on without a key and without a .env stops
    with one line that says how to get one, instead of signing tokens with a public key."""
    result = run(["manage.py", "check"], {"DEBUG": "1", "TRAVA_ENV_FILE": str(tmp_path / "missing.env")})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "trava: SECRET_KEY is not set: run `make setup` (writes a development .env) or export it"
    ]


def test_production_without_env_file_refuses_a_missing_key() -> None:
    result = run(["manage.py", "check"], {"DEBUG": "0", "TRAVA_ENV_FILE": ""})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "trava: SECRET_KEY must be set when DEBUG is off (export SECRET_KEY=...)"
    ]


def test_malformed_numbers_stop_with_one_clear_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    write_local_env(env_file)
    result = run(["manage.py", "check"], {"TRAVA_ENV_FILE": str(env_file), "WS_RATE_BURST": "lots"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["trava: WS_RATE_BURST must be an integer, got 'lots'"]
