"""`ringcore route INPUT`: the owner of every key of a file, streamed in chunks."""

from __future__ import annotations

import math
import os
import stat
import sys
from typing import Any

import numpy as np

from ._common import CliError, Progress, UsageError, nodes_text, rate, stdout_binary
from .inputs import Chunk, Input, need_pyarrow
from .outputs import (
    Atomic,
    NotText,
    SplitSinks,
    TableSink,
    TextSink,
    check_text_columns,
    output_format,
)
from .ringfile import ring_from_args

NULL_HELP = "--nulls skip drops such rows, --nulls keep writes them without a node"


def add_arguments(parser: Any) -> None:
    parser.add_argument("input", help="a file of keys: text lines, .csv, .tsv or .parquet; "
                        "'-' reads text lines from standard input")
    parser.add_argument("--format", choices=("text", "csv", "tsv", "parquet"),
                        help="the input's format (default: from its extension; text otherwise)")
    parser.add_argument("--column", help="the key column of CSV or Parquet input "
                        "(needed when there is more than one)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--output", "-o", metavar="FILE",
                     help="write the rows with the owner in a 'node' column; the format "
                     "follows the extension (.txt: key<TAB>node lines, .csv, .tsv, .parquet). "
                     "Default: standard output (text lines, or CSV for CSV/Parquet input)")
    out.add_argument("--split-dir", metavar="DIR",
                     help="write each node's rows to DIR/<node>.<ext>, in the input's format")
    parser.add_argument("--output-format", choices=("text", "csv", "tsv", "parquet"),
                        help="the output's format when its extension does not say")
    parser.add_argument("--node-column", default="node",
                        help="name of the owner column (default: node; replicas add _2, _3 ...)")
    parser.add_argument("--replicas", type=int, default=1, metavar="N",
                        help="the first N distinct nodes of each key (default 1)")
    parser.add_argument("--distinct-zones", action="store_true",
                        help="with --replicas: replicas in distinct zones")
    parser.add_argument("--bounded", type=float, metavar="EPS",
                        help="bounded loads: no node gets more than ceil((1 + EPS) x mean) "
                        "keys (reads a file twice and holds its keys in memory)")
    parser.add_argument("--nulls", choices=("error", "skip", "keep"), default="error",
                        help="null keys (CSV's empty fields, Parquet's nulls): an error "
                        "(default), dropped, or written with no node")
    parser.add_argument("--force", action="store_true", help="replace an existing output")
    parser.add_argument("--chunk-rows", type=int, default=1 << 20, metavar="ROWS",
                        help="rows read and routed at a time (default 1048576)")
    parser.add_argument("--threads", type=int, help="threads per chunk (default: the cores)")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress bar and no summary line")


def run(args: Any) -> int:
    _check_arguments(args)
    ring = ring_from_args(args)
    layout = ring.snapshot()  # one version of the ring for the whole run
    if not len(layout.nodes):
        raise CliError("the ring has no nodes")
    if args.replicas > len(layout.nodes):
        raise CliError(f"--replicas {args.replicas}: the ring has {nodes_text(len(layout.nodes))}")
    source = Input(args.input, args.format, args.column, args.chunk_rows)
    node_columns = [args.node_column] + [f"{args.node_column}_{i}"
                                         for i in range(2, args.replicas + 1)]
    router = _Router(layout, args, source)

    if args.split_dir is not None:
        fmt = args.output_format or source.format
    elif args.output is not None:
        fmt = output_format(args.output, args.output_format)
    else:
        fmt = args.output_format or {"text": "text", "tsv": "tsv"}.get(source.format, "csv")
    if fmt != "text":
        need_pyarrow(f"writing {fmt.upper()}")
    target: Atomic | None = None
    if args.split_dir is not None:
        _check_split_dir(args.split_dir, args.input)
        target = Atomic(args.split_dir, args.force, folder=True)
    elif args.output is not None:
        target = Atomic(args.output, args.force)
    rows = 0
    sink: Any = None
    try:
        if args.bounded is not None:
            router.bounded = _bounded_owners(layout, args, source)
            source = router.source = Input(args.input, args.format, args.column, args.chunk_rows)
        if target is not None and args.split_dir is not None:
            sink = SplitSinks(target.temp, fmt, layout.nodes, args.split_dir)
        elif fmt == "text":
            stream = open(target.temp, "wb") if target else stdout_binary()
            sink = TextSink(stream)
        else:
            sink = TableSink(target.temp if target else stdout_binary(), fmt, node_columns)
        total, unit = source.total()
        with Progress(total, unit, enabled=not args.quiet) as progress:
            try:
                for chunk in source.chunks():
                    _check_columns(source, node_columns, fmt, args.split_dir)
                    keys, batch, owners = router.route(chunk)
                    try:
                        if fmt in ("csv", "tsv") and batch is not None:
                            check_text_columns(batch, fmt)
                        sink.write(keys, batch, owners, layout.nodes)
                    except NotText as e:
                        raise CliError(f"{source.name}: row {router.row_of(chunk, e.row)}: "
                                       f"{e}") from None
                    rows += chunk.rows
                    progress.update(source.done(rows))
                if args.split_dir is not None:
                    sink.close(_empty_schema(source, fmt))
                elif fmt == "text":
                    if target:
                        stream.close()
                    else:
                        stream.flush()
                else:
                    sink.close(_empty_schema(source, fmt, node_columns))
            except BrokenPipeError:
                raise
            except OSError as e:  # reading errors are CliErrors already: this is a write
                where = args.split_dir or args.output or "standard output"
                raise CliError(f"cannot write {where}: {e.strerror or e}") from None
            elapsed = progress.elapsed
        if target is not None:
            target.commit()
    except BaseException:
        if target is not None:
            _close_quietly(sink)
            target.discard()
        raise
    if not args.quiet:
        where = args.split_dir or args.output
        print(f"ringcore route: {rate(rows, elapsed)}" + (f" -> {where}" if where else ""),
              file=sys.stderr)
    return 0


def _check_arguments(args: Any) -> None:
    """Usage errors (exit status 2), found before anything is read or written."""
    if args.replicas < 1:
        raise UsageError(f"--replicas must be >= 1, got {args.replicas}")
    if args.chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be >= 1, got {args.chunk_rows}")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be >= 1, got {args.threads}")
    if not args.node_column:
        raise UsageError("--node-column must not be empty")
    if args.bounded is not None:
        if args.replicas != 1:
            raise UsageError("--bounded assigns one node a key; it does not take --replicas")
        if not (args.bounded > 0 and math.isfinite(args.bounded)):
            raise UsageError(f"--bounded EPS must be finite and > 0, got {args.bounded}")
        if args.input == "-" or stat.S_ISFIFO(_mode(args.input)):
            raise UsageError("--bounded reads its input twice: give a file, not a pipe")
    if args.distinct_zones and args.replicas == 1:
        raise UsageError("--distinct-zones goes with --replicas N (N >= 2)")
    if args.split_dir is not None and args.nulls == "keep":
        raise UsageError("--nulls keep writes rows without a node: it goes with --output, "
                         "not --split-dir")


def _check_split_dir(folder: str, input_path: str) -> None:
    """--force replaces the whole folder: never when the input is in it."""
    if input_path == "-" or not os.path.isdir(folder):
        return
    inside = os.path.realpath(input_path)
    top = os.path.realpath(folder)
    if os.path.commonpath([inside, top]) == top:
        raise CliError(f"--split-dir {folder} holds the input {input_path}: replacing the "
                       "folder would delete it (choose another folder)")


def _close_quietly(sink: Any) -> None:
    """Close what a failed run left open (before its files are removed)."""
    streams = []
    if isinstance(sink, TextSink):
        streams = [sink.stream]
    elif isinstance(sink, SplitSinks):
        streams = sink.streams + [s.writer for s in sink.sinks if isinstance(s, TableSink)]
    elif isinstance(sink, TableSink):
        streams = [sink.writer]
    for stream in streams:
        try:
            if stream is not None and stream is not getattr(sys.stdout, "buffer", None):
                stream.close()
        except Exception:
            pass


def _mode(path: str) -> int:
    try:
        return os.stat(path).st_mode
    except OSError:
        return 0


def _check_columns(source: Input, node_columns: list[str], fmt: str, split: Any) -> None:
    columns = ["key"] if source.format == "text" else source.columns
    if split is None and fmt != "text" and columns:
        for name in node_columns:
            if name in columns:
                raise UsageError(f"{source.name} already has a column {name!r}: "
                                 "name the owner column with --node-column")


class _Router:
    """The owners of each chunk's keys, nulls handled as --nulls says."""

    def __init__(self, layout: Any, args: Any, source: Input) -> None:
        self.layout, self.args, self.source = layout, args, source
        self.bounded: np.ndarray | None = None
        self.kept: np.ndarray | None = None  # the chunk's rows left after --nulls skip

    def row_of(self, chunk: Chunk, index: int) -> int:
        """The input's row number (from 1) of row ``index`` of a routed chunk."""
        if self.kept is not None and index < len(self.kept):
            index = int(self.kept[index])
        return chunk.start + index + 1

    def route(self, chunk: Chunk) -> tuple[Any, Any, np.ndarray]:
        keys, batch = chunk.keys, chunk.batch
        args, layout = self.args, self.layout
        null = None
        self.kept = None
        if not isinstance(keys, list) and keys.null_count:
            if args.nulls == "error":
                first = _first_null(keys)
                raise CliError(f"{self.source.name}: row {chunk.start + first + 1}: null key "
                               f"in column {self.source.column!r} ({NULL_HELP})")
            if args.nulls == "skip":
                valid = keys.is_valid()
                self.kept = np.flatnonzero(np.asarray(valid.to_numpy(zero_copy_only=False)))
                if self.bounded is not None:
                    owners = self.bounded[chunk.start:chunk.start + chunk.rows][self.kept]
                batch = batch.filter(valid)
                keys = keys.filter(valid)
                if self.bounded is not None:
                    return keys, batch, owners
            else:
                null = -1
        if self.bounded is not None:
            return keys, batch, self.bounded[chunk.start:chunk.start + chunk.rows]
        try:
            if args.replicas == 1:
                owners = layout.route(keys, threads=args.threads, null=null)
            else:
                owners = layout.route_replicas(keys, args.replicas, threads=args.threads,
                                               null=null, distinct_zones=args.distinct_zones)
        except (TypeError, ValueError) as e:
            raise CliError(f"{self.source.name}: column {self.source.column!r}: {e}") from None
        return keys, batch, owners


def _first_null(keys: Any) -> int:
    valid = np.asarray(keys.is_valid().to_numpy(zero_copy_only=False))
    return int(np.argmin(valid))


def _bounded_owners(layout: Any, args: Any, source: Input) -> np.ndarray:
    """Pass one of --bounded: every key of the file, assigned at once."""
    pieces: list[Any] = []
    arrow = False
    for chunk in source.chunks():
        keys = chunk.keys
        if not isinstance(keys, list):
            arrow = True
            if keys.null_count and args.nulls == "error":
                raise CliError(f"{source.name}: row {chunk.start + _first_null(keys) + 1}: "
                               f"null key in column {source.column!r} ({NULL_HELP})")
        pieces.append(keys)
    if arrow:
        pa = need_pyarrow("--bounded on Arrow keys")

        keys = pa.chunked_array(pieces).combine_chunks() if pieces else pa.array([], pa.string())
    else:
        keys = [k for piece in pieces for k in piece]
    try:
        return layout.assign_bounded(keys, args.bounded, threads=args.threads,
                                     null=None if args.nulls == "error" else -1)
    except (TypeError, ValueError) as e:
        raise CliError(f"{source.name}: {e}") from None


def _empty_schema(source: Input, fmt: str, node_columns: list[str] | None = None) -> Any:
    """The schema of an output that got no rows (its header or Parquet schema)."""
    if fmt == "text":
        return None
    pa = need_pyarrow("writing")

    if source.format == "parquet":
        schema = source._parquet_file().schema_arrow
    elif source.format in ("csv", "tsv") and source.columns:
        schema = pa.schema([(n, pa.string()) for n in source.columns])
    else:
        schema = pa.schema([("key", pa.string())])
    for name in node_columns or ():
        schema = schema.append(pa.field(name, pa.dictionary(pa.int32(), pa.string())))
    return schema
