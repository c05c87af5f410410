"""The checkout's local configuration: a git-ignored `.env` beside `manage.py`.

`make setup` (so `make run` and `make test` too) writes it once, if it is missing, with a
random `SECRET_KEY` and `DEBUG=1`:

    python -m trava.localenv          # writes .env unless it exists; prints what it did

`trava.settings` reads it for every entry point (`manage.py`, `python -m realtime.runtime.serve`,
the tests) through django-environ; variables already in the process environment win.
`TRAVA_ENV_FILE` names another file; set it empty to read none. A production node has no
`.env` (the Docker image excludes it) and gets its configuration from the environment.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_ENV_FILE = BASE_DIR / ".env"

TEMPLATE = """\
# Local development settings, written once by `make setup` (python -m trava.localenv).
# Not in git: the key below is this checkout's own. Variables set in the environment win.
# Any variable of the README's configuration table may be added here.
SECRET_KEY={secret_key}
DEBUG=1
"""


def env_file() -> Path | None:
    """The file to read: `TRAVA_ENV_FILE` when set (empty: none), else `<checkout>/.env`."""
    named = os.environ.get("TRAVA_ENV_FILE")
    if named is None:
        return DEFAULT_ENV_FILE
    return Path(named) if named.strip() else None


def read_local_env() -> Path | None:
    """Load the file into os.environ without overriding what is already set.

    Returns the file read, or None when there is none. Child processes (daphne nodes the
    tests start, `make cluster`) inherit the result through the environment.
    """
    path = env_file()
    if path is None or not path.is_file():
        return None
    environ.Env.read_env(path, overwrite=False)
    return path


def new_secret_key() -> str:
    """67 URL-safe characters: nothing a .env parser could take for a quote, `$` or `#`."""
    return secrets.token_urlsafe(50)


def write_local_env(path: Path = DEFAULT_ENV_FILE) -> bool:
    """Write a fresh development .env at `path` unless one exists. True when written."""
    try:
        # O_EXCL: never overwrite a file another process wrote meanwhile.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(TEMPLATE.format(secret_key=new_secret_key()))
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_ENV_FILE
    if write_local_env(path):
        print(f"trava: wrote {path} (a random SECRET_KEY, DEBUG=1); it stays out of git")
    else:
        print(f"trava: {path} exists, left as it is")
    return 0


if __name__ == "__main__":
    sys.exit(main())
