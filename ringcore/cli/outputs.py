"""Outputs that are never half-written: files and folders are written under a
temporary name in the same folder and renamed into place once complete; an
error or Ctrl-C removes them.

Formats: text (``key<TAB>node`` lines, then the further replicas), CSV, TSV
and Parquet (the input's columns, then ``node`` and ``node_2`` ... as strings).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from typing import Any, BinaryIO
from urllib.parse import quote

import numpy as np

from ._common import CliError, UsageError
from .inputs import format_of, need_pyarrow, pyarrow_module

PARQUET_GROUP_ROWS = 1 << 17  # rows a node's Parquet file buffers before writing a row group
SPLIT_PENDING_ROWS = 1 << 20  # rows all of --split-dir's Parquet files buffer together


def output_format(path: str, given: str | None) -> str:
    if path.lower().endswith(".gz"):  # inputs may be; a plain file under that name would not
        raise UsageError(f"--output {path}: gzip output is not written; name it without "
                         ".gz and compress it afterwards")
    if given is not None:
        return given
    fmt = format_of(path)
    ext = os.path.splitext(path.lower().removesuffix(".gz"))[1]
    if fmt == "text" and ext not in (".txt", ".text", ".keys", ".tsv", ".tab"):
        raise UsageError(f"cannot tell the format of {path} from its extension: "
                         "name it .txt, .csv, .tsv or .parquet, or give --output-format")
    return fmt


def node_file_name(name: str, ext: str) -> str:
    """A node's file in a --split-dir folder: its name with every character
    outside letters, digits, '-', '_' and '.' percent-encoded (so 'host:11211'
    becomes 'host%3A11211'), then the format's extension."""
    safe = quote(name, safe="-_.")
    if safe.startswith("."):  # never a hidden file, '.' or '..'
        safe = "%2E" + safe[1:]
    return safe + ext


EXTENSIONS = {"text": ".txt", "csv": ".csv", "tsv": ".tsv", "parquet": ".parquet"}


class Atomic:
    """A file or folder written under a temporary name beside ``path`` and
    moved into place by commit(); discard() (or an exception) removes it."""

    def __init__(self, path: str, force: bool, folder: bool = False) -> None:
        self.path, self.folder = path, folder
        parent = os.path.dirname(os.path.abspath(path))
        if os.path.lexists(path):
            if not force:
                raise CliError(f"{path} exists (add --force to replace it)")
            if os.path.isdir(path) != folder:
                kind = "a folder" if os.path.isdir(path) else "a file"
                raise CliError(f"{path} exists and is {kind}; not replacing it")
        if not os.path.isdir(parent):
            raise CliError(f"cannot write {path}: no folder {parent}")
        prefix = f".{os.path.basename(os.path.normpath(path))}.ringcore-"
        try:
            if folder:
                self.temp = tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=parent)
            else:
                fd, self.temp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=parent)
                os.close(fd)
        except OSError as e:
            raise CliError(f"cannot write in {parent}: {e.strerror or e}") from None

    def commit(self) -> None:
        try:
            self._move()
        except OSError as e:
            raise CliError(f"cannot replace {self.path}: {e.strerror or e}") from None

    def _move(self) -> None:
        if not self.folder:
            os.chmod(self.temp, 0o666 & ~_umask())  # mkstemp's 0600 is not a user file's mode
            os.replace(self.temp, self.path)
            return
        os.chmod(self.temp, 0o777 & ~_umask())
        old = None
        if os.path.lexists(self.path):
            old = self.temp + ".old"
            os.replace(self.path, old)
        try:
            os.replace(self.temp, self.path)
        except OSError:
            if old is not None:  # put the folder that was there back
                os.replace(old, self.path)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        if self.folder:
            shutil.rmtree(self.temp, ignore_errors=True)
        else:
            try:
                os.unlink(self.temp)
            except FileNotFoundError:
                pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- one output in one format ---------------------------------------------------------


def allow_open_files(needed: int) -> None:
    """Raise the soft limit of open files toward the hard one when a
    --split-dir needs more than it allows (1024 is common, a ring can have more nodes)."""
    try:
        import resource
    except ImportError:  # Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        pass


class Sink:
    """Rows in one format written to one binary stream or file path."""

    def write(self, keys: Any, batch: Any, owners: np.ndarray, names: tuple[str, ...]) -> None:
        """keys: the chunk's keys; batch: its Arrow batch (None for text
        input); owners: each row's node indices (a column per replica; -1: none)."""
        raise NotImplementedError


class TextSink(Sink):
    """key<TAB>node lines (then the further replicas); no node: an empty field."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.tabs: list[bytes] = []
        self.names: tuple[str, ...] = ()

    def write(self, keys: Any, batch: Any, owners: np.ndarray, names: tuple[str, ...]) -> None:
        if names != self.names:
            self.names = names
            self.tabs = [b"\t" + n.encode("utf-8") for n in names] + [b"\t"]  # [-1]: none
        tabs = self.tabs
        keys = text_keys(keys)
        matrix = owner_matrix(owners)
        if matrix.shape[1] == 1:
            lines = [k + tabs[i] for k, i in zip(keys, matrix[:, 0].tolist())]
        else:
            lines = [k + b"".join([tabs[i] for i in row]) for k, row in zip(keys, matrix.tolist())]
        if lines:
            self.stream.write(b"\n".join(lines) + b"\n")


def text_keys(keys: Any) -> list[bytes]:
    """Keys as bytes lines: text input's as read, Arrow values as UTF-8 text
    (a null as an empty field)."""
    if isinstance(keys, list):
        return keys
    return [b"" if k is None else k if isinstance(k, bytes) else str(k).encode("utf-8")
            for k in keys.to_pylist()]


class TableSink(Sink):
    """CSV, TSV or Parquet, to a path or a binary stream."""

    def __init__(self, target: str | BinaryIO, fmt: str, node_columns: list[str]) -> None:
        self.pa = need_pyarrow(f"writing {fmt.upper()}")
        self.target, self.format, self.node_columns = target, fmt, node_columns
        self.writer: Any = None
        self.header = True
        self.pending: list[Any] = []
        self.pending_rows = 0
        self.schema: Any = None

    def table(self, keys: Any, batch: Any, nodes: list[Any]) -> Any:
        pa = self.pa
        if batch is None:  # text input: the keys become a 'key' column
            column = pa.array(keys, pa.binary())
            try:
                column = column.cast(pa.string())
            except pa.ArrowInvalid:
                raise NotText(_first_not_utf8(keys), "a key is not UTF-8 text: write "
                              "text output (.txt) to keep keys as bytes") from None
            batch = pa.record_batch([column], names=["key"])
        arrays = list(batch.columns) + list(nodes)
        names = list(batch.schema.names) + self.node_columns
        return pa.Table.from_arrays(arrays, names=names)

    def write(self, keys: Any, batch: Any, owners: np.ndarray, names: tuple[str, ...]) -> None:
        self.write_table(self.table(keys, batch, node_arrays(self.pa, owners, names)))

    def write_table(self, table: Any) -> None:
        if self.schema is None:
            self.schema = table.schema
        if self.format == "parquet":
            self.pending.append(table)
            self.pending_rows += table.num_rows
            if self.pending_rows >= PARQUET_GROUP_ROWS:
                self.flush()
        else:
            self._csv(table)

    def flush(self) -> None:
        if self.format != "parquet" or not self.pending:
            return
        pq = pyarrow_module("parquet")

        table = self.pa.concat_tables(self.pending)
        self.pending, self.pending_rows = [], 0
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.target, table.schema)
        self.writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def _csv(self, table: Any) -> None:
        pacsv = pyarrow_module("csv")

        delimiter = "\t" if self.format == "tsv" else ","
        buffer = io.BytesIO()
        if self.header:  # pyarrow quotes every name of a header; csv quotes where needed
            text = io.StringIO()
            csv.writer(text, delimiter=delimiter, lineterminator="\n").writerow(
                table.schema.names)
            buffer.write(text.getvalue().encode("utf-8"))
            self.header = False
        # quote only where a value needs it; pyarrow's "needed" quotes every string
        start = buffer.tell()
        try:
            pacsv.write_csv(table, buffer, pacsv.WriteOptions(
                include_header=False, delimiter=delimiter, quoting_style="none"))
        except self.pa.ArrowInvalid:
            buffer.seek(start)
            buffer.truncate()
            try:
                pacsv.write_csv(table, buffer, pacsv.WriteOptions(
                    include_header=False, delimiter=delimiter, quoting_style="needed"))
            except self.pa.ArrowInvalid as e:  # never drop the rows silently
                raise CliError(f"cannot write {self.format.upper()}: {e}") from None
        self._stream().write(buffer.getvalue())

    def _stream(self) -> BinaryIO:
        if self.writer is None:
            self.writer = (open(self.target, "wb") if isinstance(self.target, str)
                           else self.target)
        return self.writer

    def close(self, empty_schema: Any = None) -> None:
        """Write what is buffered; a file that got no rows still gets the
        header (CSV) or schema (Parquet) of ``empty_schema``."""
        if self.schema is None and empty_schema is not None:
            self.write_table(empty_schema.empty_table())
        self.flush()
        if self.writer is not None and (self.format == "parquet"
                                        or isinstance(self.target, str)):
            self.writer.close()
        self.writer = None


class NotText(CliError):
    """A value that text output formats cannot hold; ``row`` is its index in the chunk."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row


def check_text_columns(batch: Any, fmt: str) -> None:
    """Raise NotText at the first value of a binary column that is not UTF-8:
    CSV and TSV hold text, and pyarrow would refuse the whole chunk."""
    pa = need_pyarrow(f"writing {fmt.upper()}")
    for name, column in zip(batch.schema.names, batch.columns):
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if not _is_bytes(pa, column.type):
            continue
        try:
            column.cast(pa.binary()).cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise NotText(_first_not_utf8(column.to_pylist()),
                          f"column {name!r} holds bytes that are not UTF-8 text, which "
                          f"{fmt.upper()} cannot hold: write .parquet or .txt output") from None


def _is_bytes(pa: Any, kind: Any) -> bool:
    is_view = getattr(pa.types, "is_binary_view", None)  # pyarrow >= 16
    return (pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
            or pa.types.is_fixed_size_binary(kind) or bool(is_view and is_view(kind)))


def _first_not_utf8(values: list) -> int:
    for i, value in enumerate(values):
        if isinstance(value, bytes):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return i
    return 0


def owner_matrix(owners: np.ndarray) -> np.ndarray:
    """Owners as one column per replica (route gives a vector; reshape(n, -1)
    cannot size a chunk of no rows)."""
    return owners if owners.ndim == 2 else owners[:, np.newaxis]


def node_arrays(pa: Any, owners: np.ndarray, names: tuple[str, ...]) -> list[Any]:
    """One Arrow dictionary array of node names per column of owners
    (negative: null)."""
    dictionary = pa.array(list(names), pa.string())
    columns = owner_matrix(owners)
    result = []
    for c in range(columns.shape[1]):
        indices = np.ascontiguousarray(columns[:, c])
        mask = indices < 0
        result.append(pa.DictionaryArray.from_arrays(
            pa.array(indices, pa.int32(), mask=mask if mask.any() else None), dictionary))
    return result


class SplitSinks:
    """One file per node in a folder, each in the input's format: a row goes
    to the file of every node its key routes to (one, or its replicas)."""

    def __init__(self, folder: str, fmt: str, names: tuple[str, ...], label: str) -> None:
        self.format, self.names = fmt, names
        ext = EXTENSIONS[fmt]
        self.paths = [os.path.join(folder, node_file_name(n, ext)) for n in names]
        self.streams: list[Any] = []
        self.sinks: list[Any] = []
        self.schema: Any = None
        allow_open_files(len(names) + 64)
        try:
            for path in self.paths:
                if fmt == "text":
                    stream = open(path, "wb")
                    self.streams.append(stream)
                    self.sinks.append(stream)
                else:
                    self.sinks.append(TableSink(path, fmt, []))
        except OSError as e:
            for stream in self.streams:  # else no descriptor is left to remove the folder
                stream.close()
            raise CliError(f"cannot write {label}: {e.strerror or e} "
                           f"({len(names)} nodes: one open file each)") from None

    def write(self, keys: Any, batch: Any, owners: np.ndarray, names: tuple[str, ...] = ()) -> None:
        matrix = owner_matrix(owners)
        width = matrix.shape[1]
        flat = matrix.reshape(-1)
        order = np.argsort(flat, kind="stable")  # by node, rows in input order within it
        rows = (order // width) if width > 1 else order
        bounds = np.searchsorted(flat[order], np.arange(len(self.names) + 1))
        if self.format == "text":
            keys = text_keys(keys)
            ordered = np.asarray(keys, dtype=object)[rows]
            for node, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
                if hi > lo:
                    self.sinks[node].write(b"\n".join(ordered[lo:hi].tolist()) + b"\n")
            return
        pa = self.sinks[0].pa
        if batch is None:
            batch = self.sinks[0].table(keys, None, []).to_batches()[0]
        self.schema = batch.schema
        table = pa.Table.from_batches([batch]).take(pa.array(rows, pa.int64()))
        for node, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            if hi > lo:
                self.sinks[node].write_table(table.slice(lo, hi - lo))
        if self.format == "parquet":
            # each node buffers a row group; with many nodes those buffers hold
            # slices of every chunk so far: past the budget, write them all out
            if sum(sink.pending_rows for sink in self.sinks) > SPLIT_PENDING_ROWS:
                for sink in self.sinks:
                    sink.flush()

    def close(self, schema: Any = None) -> None:
        for stream in self.streams:
            stream.close()
        if self.format != "text":
            for sink in self.sinks:
                sink.close(empty_schema=schema or self.schema)

