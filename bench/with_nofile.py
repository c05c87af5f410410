"""`python -m bench.with_nofile MODULE ARGS...`: raise RLIMIT_NOFILE to the hard limit, then
run MODULE as __main__ in this same process (so the harness knows the server's pid)."""

from __future__ import annotations

import resource
import runpy
import sys


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
