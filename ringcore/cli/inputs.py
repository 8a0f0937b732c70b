"""Keys from files, read in chunks so that memory stays flat.

Formats: text (one key a line: a file, a named pipe or ``-`` for standard
input; ``\\n`` or ``\\r\\n`` line ends), CSV and TSV (a header row; every
column is read as text, an empty field is a null) and Parquet (columns keep
their types). ``.gz`` text and CSV are read through gzip. The format follows
the file's extension unless --format names it.
"""

from __future__ import annotations

import gzip
import importlib
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from ._common import CliError, UsageError

FORMATS = ("text", "csv", "tsv", "parquet")
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet",
               ".pq": "parquet", ".txt": "text", ".text": "text", ".keys": "text"}
READ_BYTES = 1 << 20


# Arrow's CSV reader reads ahead on its own I/O threads, through the Python
# file object it is given. A reader dropped before its end (an error, a closed
# pipe) may leave such a read waiting for the GIL; if the interpreter shuts down
# meanwhile, Python ends that thread inside Arrow's C++ and the process aborts
# ("terminate called without an active exception", as in apache/arrow#34314,
# seen once under the sanitizer run). The console script exits without the
# shutdown while any reader is unfinished (see ringcore.cli.console).
_unfinished_readers = 0


def unfinished_readers() -> int:
    """How many CSV readers were opened and not read to their end."""
    return _unfinished_readers


def format_of(path: str, given: str | None = None) -> str:
    """The format of a path: --format, else its extension (text when unknown)."""
    if given is not None:
        return given
    if path == "-":
        return "text"
    name = path.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return _EXTENSIONS.get(os.path.splitext(name)[1], "text")


def need_pyarrow(what: str) -> Any:
    try:
        return importlib.import_module("pyarrow")
    except ImportError:
        raise CliError(f"{what} needs pyarrow: pip install 'ringcore[cli]'") from None


def pyarrow_module(name: str) -> Any:
    """pyarrow.<name> (csv, parquet), once need_pyarrow has passed."""
    return importlib.import_module(f"pyarrow.{name}")


@dataclass
class Chunk:
    """Rows ``start .. start + rows`` of an input: ``keys`` (a list of bytes for
    text, else an Arrow array) and, for CSV and Parquet, the whole ``batch``."""

    start: int
    keys: Any
    batch: Any = None

    @property
    def rows(self) -> int:
        return len(self.keys)


class _Counted(io.RawIOBase):
    """A binary stream that counts the bytes read through it (for progress)
    and can replay bytes already read (a CSV header) before the rest."""

    def __init__(self, raw: BinaryIO, replay: bytes = b"") -> None:
        self.raw, self.replay, self.done = raw, replay, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self.replay:
            n = min(len(view), len(self.replay))
            view[:n] = self.replay[:n]
            self.replay = self.replay[n:]
            return n
        data = self.raw.read(len(view))
        n = len(data)
        view[:n] = data
        self.done += n
        return n


class Input:
    """One input: its path, format, key column and size (for progress)."""

    def __init__(self, path: str, fmt: str | None = None, column: str | None = None,
                 chunk_rows: int = 1 << 20) -> None:
        self.path, self.format, self.column = path, format_of(path, fmt), column
        self.chunk_rows = chunk_rows
        self.columns: list[str] | None = None  # known once reading starts (CSV, Parquet)
        if chunk_rows < 1:  # 0 would yield empty chunks forever
            raise UsageError(f"--chunk-rows must be >= 1, got {chunk_rows}")
        if self.format == "text" and column is not None:
            raise UsageError(f"--column applies to CSV and Parquet input, not text ({path})")
        if self.format == "parquet" and path == "-":
            raise UsageError("Parquet input must be a file, not standard input")
        if path != "-" and not os.path.exists(path):
            raise CliError(f"cannot read {path}: no such file")
        if path != "-" and os.path.isdir(path):
            raise CliError(f"cannot read {path}: it is a folder")
        self._stream: _Counted | None = None
        self._parquet: Any = None

    @property
    def name(self) -> str:
        return "standard input" if self.path == "-" else self.path

    # -- progress ------------------------------------------------------------------------

    def total(self) -> tuple[int | None, str]:
        """(what progress counts up to, its unit): bytes of a file, rows of Parquet."""
        if self.format == "parquet":
            return self._parquet_file().metadata.num_rows, "rows"
        if self.path == "-" or self.path.lower().endswith(".gz"):
            return None, "bytes"
        try:
            size = os.stat(self.path).st_size
        except OSError:
            return None, "bytes"
        return (size or None), "bytes"

    def done(self, rows: int) -> int:
        if self.format == "parquet":
            return rows
        return self._stream.done if self._stream is not None else 0

    # -- reading ------------------------------------------------------------------------

    def chunks(self) -> Iterator[Chunk]:
        if self.format == "text":
            return self._text_chunks()
        if self.format == "parquet":
            return self._parquet_chunks()
        return self._csv_chunks()

    def _open(self) -> _Counted:
        try:
            if self.path == "-":
                if sys.stdin is None:  # the shell closed it (<&-)
                    raise CliError("cannot read standard input: it is closed")
                raw: BinaryIO = sys.stdin.buffer
            else:
                raw = open(self.path, "rb")
                if self.path.lower().endswith(".gz"):
                    raw = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        except OSError as e:
            raise CliError(f"cannot read {self.path}: {e.strerror or e}") from None
        self._stream = _Counted(raw)
        return self._stream

    def _read(self, stream: _Counted, size: int) -> bytes:
        try:
            return stream.read(size) or b""
        except (OSError, EOFError) as e:
            raise CliError(f"cannot read {self.name}: {getattr(e, 'strerror', None) or e}") from None

    def _text_chunks(self) -> Iterator[Chunk]:
        stream = self._open()
        start, lines = 0, []
        rest: list[bytes] = []  # the pieces of a line not ended yet (a long line spans blocks)
        try:
            while True:
                block = self._read(stream, READ_BYTES)
                cut = block.rfind(b"\n") + 1
                if cut:
                    lines += _split_lines(b"".join(rest + [block[:cut - 1]]))
                    rest = [block[cut:]]
                elif block:
                    rest.append(block)
                elif any(rest):  # the end: a last line without its newline still counts
                    lines += _split_lines(b"".join(rest))
                taken = 0
                while len(lines) - taken >= self.chunk_rows or (not block and taken < len(lines)):
                    keys = lines[taken:taken + self.chunk_rows]
                    yield Chunk(start, keys)
                    start += len(keys)
                    taken += len(keys)
                del lines[:taken]  # once a block: slicing off each chunk would be quadratic
                if not block:
                    return
        finally:
            self._close()

    def _csv_chunks(self) -> Iterator[Chunk]:
        global _unfinished_readers
        pa = need_pyarrow(f"reading {self.format.upper()}")
        import csv

        pacsv = pyarrow_module("csv")

        stream = self._open()
        delimiter = "\t" if self.format == "tsv" else ","
        try:
            header = stream.raw.readline()
            stream.done += len(header)
            try:
                text = header.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise CliError(f"{self.name}: the header row is not UTF-8") from None
            names = next(csv.reader([text], delimiter=delimiter), [])
            if not names:
                raise CliError(f"{self.name}: no header row")
            self.columns = names
            key = self._key_column(names)
            stream.replay = header
            _unfinished_readers += 1
            try:  # open_csv reads and parses the first block already
                reader = pacsv.open_csv(
                    io.BufferedReader(stream, buffer_size=READ_BYTES),
                    read_options=pacsv.ReadOptions(block_size=4 * READ_BYTES),
                    parse_options=pacsv.ParseOptions(delimiter=delimiter),
                    convert_options=pacsv.ConvertOptions(
                        column_types={n: pa.string() for n in names},
                        strings_can_be_null=True, null_values=[""],
                        quoted_strings_can_be_null=False),
                )
            except (pa.ArrowInvalid, OSError) as e:
                raise CliError(f"{self.name}: {_first_line(e)}") from None
            start = 0
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    _unfinished_readers -= 1  # its read-ahead reached the end
                    return
                except (pa.ArrowInvalid, OSError) as e:
                    raise CliError(f"{self.name}: {_first_line(e)}") from None
                for piece in _pieces(batch, self.chunk_rows):
                    yield Chunk(start, piece.column(key), piece)
                    start += piece.num_rows
        finally:
            self._close()

    def _parquet_file(self) -> Any:
        if self._parquet is None:
            need_pyarrow("reading Parquet")
            pq = pyarrow_module("parquet")

            try:
                # without pre-buffering, a row group's column chunks are read as
                # they are decoded: half the peak memory (measured)
                self._parquet = pq.ParquetFile(self.path, pre_buffer=False)
            except OSError as e:
                raise CliError(f"cannot read {self.path}: {e.strerror or e}") from None
            except Exception as e:  # pyarrow raises ArrowInvalid for a file that is not Parquet
                raise CliError(f"{self.path}: not a Parquet file ({_first_line(e)})") from None
        return self._parquet

    def _parquet_chunks(self) -> Iterator[Chunk]:
        pf = self._parquet_file()
        names = pf.schema_arrow.names
        self.columns = list(names)
        key = self._key_column(names)
        start = 0
        try:
            for batch in pf.iter_batches(batch_size=self.chunk_rows):
                yield Chunk(start, batch.column(key), batch)
                start += batch.num_rows
        except OSError as e:
            raise CliError(f"cannot read {self.path}: {_first_line(e)}") from None
        finally:
            self._close()

    def _key_column(self, names: list[str]) -> int:
        if self.column is None:
            if len(names) == 1:
                self.column = names[0]
                return 0
            raise UsageError(f"{self.name} has {len(names)} columns: choose the key column "
                             f"with --column ({', '.join(names)})")
        if self.column not in names:
            raise CliError(f"{self.name}: no column {self.column!r} (columns: {', '.join(names)})")
        if names.count(self.column) > 1:
            raise CliError(f"{self.name}: {names.count(self.column)} columns are named "
                           f"{self.column!r}; --column cannot tell which holds the keys")
        return names.index(self.column)

    def _close(self) -> None:
        if self._stream is not None and self.path != "-":
            self._stream.raw.close()
        if self._parquet is not None:
            self._parquet.close()


def _split_lines(data: bytes) -> list[bytes]:
    """The lines of data (no final newline), each without its \\r\\n or \\n."""
    lines = data.split(b"\n")
    if b"\r" in data:
        return [line[:-1] if line.endswith(b"\r") else line for line in lines]
    return lines


def _pieces(batch: Any, rows: int) -> Iterator[Any]:
    for offset in range(0, batch.num_rows, rows):
        yield batch.slice(offset, rows)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def key_chunks(args: Any, progress_enabled: bool = True) -> Iterator[Any]:
    """The keys of --keys chunk by chunk (--nulls error or skip), with a
    progress bar; what stats and plan count."""
    from ._common import Progress

    source = Input(args.keys, args.format, args.column, args.chunk_rows)
    total, unit = source.total()
    rows = 0
    with Progress(total, unit, enabled=progress_enabled and not args.quiet) as progress:
        for chunk in source.chunks():
            keys = chunk.keys
            if not isinstance(keys, list) and keys.null_count:
                if args.nulls == "error":
                    import numpy as np

                    valid = np.asarray(keys.is_valid().to_numpy(zero_copy_only=False))
                    raise CliError(f"{source.name}: row {chunk.start + int(np.argmin(valid)) + 1}: "
                                   f"null key in column {source.column!r} "
                                   "(--nulls skip leaves such rows out)")
                keys = keys.drop_null()
            yield source, keys
            rows += chunk.rows
            progress.update(source.done(rows))
