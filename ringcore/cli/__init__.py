"""The `ringcore` command: lookup, route, stats, plan and bench.

Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted. Errors
are one line on standard error (--debug shows the traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

from .._version import __version__
from ._common import CliError, UsageError

COMMANDS = ("lookup", "route", "stats", "plan", "bench")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _ring_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    group = parser.add_argument_group("the ring")
    group.add_argument("--ring", metavar="FILE",
                       help="a ring file (.toml or .json: a 'nodes' list of tables with "
                       "'name', optional 'weight' and 'zone'; optional 'vnodes', 'dialect')")
    group.add_argument("--nodes", metavar="A,B,C", help="node names, comma-separated, weight 1")
    group.add_argument("--vnodes", type=int, help="points per unit of weight (overrides the file)")
    group.add_argument("--dialect", help="ringcore (default), ketama, libmemcached or "
                       "libmemcached-weighted (overrides the file)")


def _keys_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "csv", "tsv", "parquet"),
                        help="the format of --keys (default: from its extension)")
    parser.add_argument("--column", help="the key column of CSV or Parquet --keys")
    parser.add_argument("--nulls", choices=("error", "skip"), default="error",
                        help="null keys in --keys: an error (default) or left out")
    parser.add_argument("--chunk-rows", type=int, default=1 << 20, metavar="ROWS",
                        help="keys read at a time (default 1048576)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ringcore", description="Consistent hashing from the command line.")
    parser.add_argument("--version", action="version", version=f"ringcore {__version__}")
    debug = _Parser(add_help=False)
    debug.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("lookup", parents=[debug], help="the node (and replicas) of each key",
                       description="One line per key: key<TAB>owner, then the further replicas.")
    p.add_argument("keys", nargs="+", metavar="KEY", help="keys, as text")
    p.add_argument("--replicas", type=int, default=1, metavar="N")
    p.add_argument("--distinct-zones", action="store_true", help="replicas in distinct zones")
    p.add_argument("--json", action="store_true", help="print JSON")
    _ring_options(p)

    from . import route

    p = sub.add_parser("route", parents=[debug], help="route every key of a file, in chunks",
                       description="Route the keys of a text, CSV or Parquet file in chunks: "
                       "the rows with their node, or one file per node.")
    route.add_arguments(p)
    _ring_options(p)

    p = sub.add_parser("stats", parents=[debug], help="how evenly the ring spreads keys",
                       description="Per node: points, share of the hash space and, with --keys, "
                       "the keys it gets; then the spread.")
    p.add_argument("--keys", metavar="INPUT", help="a file of keys to count per node")
    _keys_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw the ring and the load bars")
    p.add_argument("--force", action="store_true", help="replace an existing plot")
    _ring_options(p)

    p = sub.add_parser("plan", parents=[debug], help="what moves from one ring to another",
                       description="What moves when the ring OLD becomes NEW (a second ring "
                       "file, or OLD with nodes added and removed): the moved fraction, the "
                       "transfers between nodes, the largest moving ranges.")
    p.add_argument("old", metavar="OLD", help="ring file of the ring as it is")
    p.add_argument("new", metavar="NEW", nargs="?",
                   help="ring file of the ring to be (or give --add / --remove)")
    p.add_argument("--add", metavar="NODE", action="append", default=[],
                   help="NEW is OLD with this node added (repeatable; NAME or NAME=WEIGHT)")
    p.add_argument("--remove", metavar="NODE", action="append", default=[],
                   help="NEW is OLD without this node (repeatable)")
    p.add_argument("--keys", metavar="INPUT", help="a file of keys: count the ones that move")
    _keys_options(p)
    p.add_argument("--top", type=int, default=10, metavar="K",
                   help="how many of the largest moving ranges to list (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw the transfer matrix")
    p.add_argument("--force", action="store_true", help="replace an existing plot")

    sub.add_parser("bench", help="benchmark every routing path against its peers",
                   description="(see 'ringcore bench --help')", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "bench":
        return _guarded(lambda: _bench(argv[1:]), "bench", "--debug" in argv)
    parser = build_parser()
    if not argv:
        parser.print_help(sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, a usage error: argparse's status
        return done.code if isinstance(done.code, int) else 2
    return _guarded(lambda: _run(args), args.command, args.debug)


def console() -> NoReturn:
    """The `ringcore` console script: main(), then its exit status."""
    status = main()
    inputs = sys.modules.get(f"{__name__}.inputs")
    if inputs is not None and inputs.unfinished_readers():
        # an Arrow read-ahead may still be in flight: leave without the
        # interpreter's shutdown (see inputs._unfinished_readers); outputs are
        # complete or removed by now, only the standard streams need flushing
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status)
    sys.exit(status)


def _bench(argv: list[str]) -> int:
    from ..benchmark import main as bench_main

    return bench_main([a for a in argv if a != "--debug"])


def _run(args: Any) -> int:
    if args.command == "lookup":
        from .lookup import run
    elif args.command == "route":
        from .route import run
    elif args.command == "stats":
        from .stats import run
    else:
        from .plan import run
    return run(args)


def _guarded(fn: Any, command: str, debug: bool) -> int:
    """fn(), its failures as one line on standard error and an exit status."""
    prog = f"ringcore {command}"
    try:
        return fn()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except CliError as e:
        if debug:
            raise
        hint = f" (see '{prog} --help')" if isinstance(e, UsageError) else ""
        print(f"{prog}: error: {e}{hint}", file=sys.stderr)
        return e.code
    except MemoryError:
        if debug:
            raise
        print(f"{prog}: error: out of memory (try a smaller --chunk-rows)", file=sys.stderr)
        return 1
    except Exception as e:
        if debug:
            raise
        text = str(e).strip().splitlines()
        print(f"{prog}: error: {type(e).__name__}: {text[0] if text else ''} "
              "(--debug shows where)", file=sys.stderr)
        return 1


def _quiet_stdout() -> None:
    """After the reader of standard output went away (`| head`): no second
    error when Python flushes it at exit."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
