"""What every command shares: its errors, tables, JSON and progress on standard error."""

from __future__ import annotations

import importlib
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO


class CliError(Exception):
    """A failure reported as one line on standard error, exit status 1."""

    code = 1


class UsageError(CliError):
    """Arguments that do not make sense together: exit status 2."""

    code = 2


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]],
                 right: Sequence[bool] | None = None) -> str:
    """Columns padded to their widest cell; numbers (``right``) aligned right."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    if right is None:
        right = [False] * len(header)
    lines = []
    for row in cells:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def percent(fraction: float) -> str:
    return "nan" if math.isnan(fraction) else f"{100 * fraction:.2f}%"


def ratio(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.3f}"


def dump_json(value: Any) -> None:
    """JSON for scripts: NaN becomes null (strict JSON readers refuse NaN)."""
    write_stdout(json.dumps(_finite(value), indent=2) + "\n")


def stdout_binary() -> BinaryIO:
    """Standard output for bytes; an error when the shell closed it (``>&-``)."""
    if sys.stdout is None:
        raise CliError("cannot write standard output: it is closed")
    return sys.stdout.buffer


def nodes_text(count: int) -> str:
    """'1 node', '3 nodes'."""
    return f"{count:,} node" + ("" if count == 1 else "s")


def publish(report: dict, args: Any, text: Callable[[dict], str],
            draw: Callable[[str], None]) -> int:
    """A command's report: as JSON (--json) or a table on standard output,
    then drawn to --plot when given."""
    if args.json:
        dump_json(report)
    else:
        write_stdout(text(report) + "\n")
    if args.plot:
        draw(args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def write_stdout(data: str | bytes) -> None:
    """Write and flush standard output, a failure (a full disk) as one line.
    BrokenPipeError (``| head``) passes through: main() keeps it quiet."""
    out = stdout_binary()
    try:
        out.write(data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data)
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        raise CliError(f"cannot write standard output: {e.strerror or e}") from None


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def rate(rows: int, seconds: float) -> str:
    """'1,000,000 rows in 0.52 s (1.9M rows/s)'."""
    per_s = rows / seconds if seconds > 0 else math.inf
    if per_s >= 1e6:
        speed = f"{per_s / 1e6:.1f}M"
    elif per_s >= 1e3:
        speed = f"{per_s / 1e3:.1f}k"
    else:
        speed = f"{per_s:.0f}"
    return f"{rows:,} rows in {seconds:.2f} s ({speed} rows/s)"


class Progress:
    """A progress bar on standard error when it is a terminal (rich, else
    tqdm, else nothing), counting ``unit`` up to ``total`` (None: unknown)."""

    def __init__(self, total: int | None, unit: str, enabled: bool = True) -> None:
        self.started = time.perf_counter()
        self._bar: Any = None
        self._rich: Any = None
        if not (enabled and sys.stderr.isatty()):
            return
        try:
            rp = importlib.import_module("rich.progress")

            columns = [rp.TextColumn("{task.description}"), rp.BarColumn(),
                       rp.TaskProgressColumn(), rp.TimeRemainingColumn()]
            if unit == "bytes":
                columns.insert(3, rp.TransferSpeedColumn())
            console = importlib.import_module("rich.console").Console(stderr=True)
            self._rich = rp.Progress(*columns, console=console, transient=True)
            self._rich.start()
            self._bar = self._rich.add_task("ringcore", total=total)
            return
        except ImportError:
            pass
        try:
            tqdm = importlib.import_module("tqdm")

            self._bar = tqdm.tqdm(total=total, unit="B" if unit == "bytes" else " " + unit,
                                  unit_scale=True, file=sys.stderr, leave=False)
        except ImportError:
            pass

    def update(self, done: int) -> None:
        """Set the count reached so far."""
        if self._rich is not None:
            self._rich.update(self._bar, completed=done)
        elif self._bar is not None:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self._bar is not None:
            self._bar.close()
        self._rich = self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started
