"""The `ringcore` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(
            "usage: ringcore bench [--nodes N] [--vnodes V] [--keys K] [--int-keys K]\n"
            "                      [--repeat R] [--threads T] [--json] [--plot FILE.png]"
        )
        print("\n  bench   route synthetic keys through every path and print keys/s side by side")
        return 0 if argv else 2
    if argv[0] == "bench":
        from .benchmark import main as bench_main

        return bench_main(argv[1:])
    print(f"ringcore: unknown command {argv[0]!r} (try 'ringcore bench')", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
