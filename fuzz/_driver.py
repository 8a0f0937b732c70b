"""Shared driver of the fuzz harnesses.

A harness defines ``test_one_input(data: bytes)`` and ends with
``_driver.main(test_one_input)``. When atheris imports (and
RINGCORE_FUZZ_NO_ATHERIS is not set) libFuzzer drives it and every libFuzzer
flag passes through. Otherwise a plain driver feeds it random inputs from
os.urandom, honouring -max_total_time=N, -runs=N, -max_len=N, -timeout=N and
-artifact_prefix=P, in a forked child so that a crash or a hang is still
reported with its input. Input files given as arguments are run once each, in
this process, printing the decoded case (how findings are reproduced).
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import re
import signal
import struct
import sys
import time
import traceback

atheris = None
if not os.environ.get("RINGCORE_FUZZ_NO_ATHERIS"):
    try:
        import atheris  # type: ignore[no-redef]
    except ImportError:
        atheris = None

# Set when inputs are replayed from files: harnesses then print what they decoded.
VERBOSE = bool(os.environ.get("RINGCORE_FUZZ_VERBOSE"))

# What a public call may raise for bad input, short of a finding.
CLEAN = (TypeError, ValueError, OverflowError, LookupError, IndexError)


class Finding(AssertionError):
    """A disagreement or a broken invariant: the harness found a bug."""


def note(describe) -> None:
    """Print describe() (a callable, so quiet runs pay nothing) when replaying."""
    if VERBOSE:
        print(describe(), flush=True)


def _replaying() -> bool:
    return any(not a.startswith("-") and os.path.isfile(a) for a in sys.argv[1:])


def instrumented():
    """Context manager: instrument ringcore's Python modules and the harnesses'
    decoding helpers imported inside it (coverage feedback for libFuzzer, so
    not when replaying files)."""
    if atheris is None or _replaying():
        return contextlib.nullcontext()
    return atheris.instrument_imports(
        include=["ringcore", "_keys", "_arrays", "_dialects", "_placers",
                 "_internals_dialects"])


class Reader:
    """Decodes fuzz bytes into choices. Reads past the end give zeros, so any
    input decodes to some case and small inputs to simple ones."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def left(self) -> int:
        return max(0, len(self.data) - self.pos)

    def byte(self) -> int:
        pos = self.pos
        self.pos = pos + 1
        return self.data[pos] if pos < len(self.data) else 0

    def int(self, lo: int, hi: int) -> int:
        """An int in [lo, hi], from as few bytes as the span needs."""
        span = hi - lo
        if span <= 0:
            return lo
        if span < 256:
            return lo + self.byte() % (span + 1)
        size = (span.bit_length() + 7) // 8
        raw = self.data[self.pos : self.pos + size]
        self.pos += size
        return lo + int.from_bytes(raw, "little") % (span + 1)

    def bool(self) -> bool:
        return bool(self.byte() & 1)

    def chance(self, one_in: int) -> bool:
        return self.byte() % one_in == 0

    def pick(self, options):
        return options[self.int(0, len(options) - 1)]

    def bytes(self, n: int) -> bytes:
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw

    def blob(self, max_len: int) -> bytes:
        return self.bytes(self.int(0, max_len))


# -- running ------------------------------------------------------------------------


def main(test_one_input) -> None:
    """Run a harness: replay files, fuzz with atheris, or fuzz with random inputs."""
    args = sys.argv[1:]
    files = [a for a in args if not a.startswith("-") and os.path.isfile(a)]
    if files:
        sys.exit(_replay(test_one_input, files))
    if atheris is not None:
        _instrument_harness(test_one_input)
        atheris.Setup(sys.argv, test_one_input)
        atheris.Fuzz()
        return
    sys.exit(_plain(test_one_input, args))


def _instrument_harness(test_one_input) -> None:
    """Let libFuzzer see the branches of the harness's own decoding."""
    module = sys.modules[test_one_input.__module__]
    for value in list(vars(module).values()):
        candidates = [value]
        if isinstance(value, type) and value.__module__ == module.__name__:
            candidates = list(vars(value).values())
        for func in candidates:
            if getattr(func, "__module__", None) == module.__name__ and hasattr(func, "__code__"):
                with contextlib.suppress(Exception):
                    atheris.instrument_func(func)


def _replay(test_one_input, files: list[str]) -> int:
    global VERBOSE
    VERBOSE = True
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        print(f"--- {path} ({len(data)} bytes)", flush=True)
        try:
            test_one_input(data)
        except Exception:
            traceback.print_exc()
            print(f"FINDING reproduced by {path}", flush=True)
            return 1
        print("no finding", flush=True)
    return 0


def _flags(args: list[str]) -> dict[str, str]:
    flags = {}
    for arg in args:
        match = re.fullmatch(r"-(\w+)=(.*)", arg)
        if match:
            flags[match.group(1)] = match.group(2)
        else:
            print(f"plain driver: ignoring argument {arg!r}", file=sys.stderr)
    return flags


def _save(data: bytes, prefix: str, kind: str) -> str:
    path = f"{prefix}{kind}-{hashlib.sha1(data).hexdigest()}"
    with open(path, "wb") as f:
        f.write(data)
    return path


def _report(data: bytes, prefix: str, kind: str) -> None:
    path = _save(data, prefix, kind)
    shown = data.hex() if len(data) <= 512 else data[:512].hex() + "..."
    print(
        f"==== {kind}: input of {len(data)} bytes saved to {path}\n"
        f"==== hex: {shown}\n"
        f"==== reproduce: {sys.executable} {sys.argv[0]} {path}",
        file=sys.stderr,
        flush=True,
    )


def _plain(test_one_input, args: list[str]) -> int:
    flags = _flags(args)
    total_time = float(flags.get("max_total_time", 0))
    runs = int(flags.get("runs", -1))
    max_len = max(1, int(flags.get("max_len", 1024)))
    timeout = float(flags.get("timeout", 60))
    prefix = flags.get("artifact_prefix", "")
    if total_time <= 0:
        total_time = float("inf")  # as libFuzzer: until -runs, a finding or ^C
    print(f"plain driver (atheris not in use): max_total_time={total_time} runs={runs} "
          f"max_len={max_len}", file=sys.stderr, flush=True)
    # Shared with the child: [runs done: u64][input length: u32][reported: u32][input].
    shared = mmap.mmap(-1, 16 + max_len)
    if not hasattr(os, "fork"):
        return _loop(test_one_input, shared, total_time, runs, max_len, prefix)
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            code = _loop(test_one_input, shared, total_time, runs, max_len, prefix)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return _supervise(pid, shared, timeout, prefix)


def _loop(test_one_input, shared, total_time, runs, max_len, prefix) -> int:
    start = time.monotonic()
    deadline = start + total_time
    done = 0
    last_print = start
    sizes = (16, 64, 256, max_len)
    while runs < 0 or done < runs:
        now = time.monotonic()
        if now >= deadline:
            break
        if now - last_print >= 10:
            print(f"#{done} runs, {done / (now - start):.0f} exec/s", file=sys.stderr, flush=True)
            last_print = now
        cap = sizes[os.urandom(1)[0] % 4]
        data = os.urandom(int.from_bytes(os.urandom(2), "little") % (min(cap, max_len) + 1))
        struct.pack_into("<QI", shared, 0, done, len(data))
        shared[16 : 16 + len(data)] = data
        try:
            test_one_input(data)
        except Exception:
            traceback.print_exc()
            _report(data, prefix, "crash")
            struct.pack_into("<I", shared, 12, 1)
            return 1
        done += 1
    elapsed = max(time.monotonic() - start, 1e-9)
    print(f"Done {done} runs in {elapsed:.0f} s ({done / elapsed:.0f} exec/s), no finding",
          file=sys.stderr, flush=True)
    return 0


def _in_flight(shared) -> tuple[int, bytes]:
    done, length = struct.unpack_from("<QI", shared, 0)
    return done, bytes(shared[16 : 16 + length])


def _supervise(pid: int, shared, timeout: float, prefix: str) -> int:
    """Wait for the child; report the input it died on or hung in."""
    seen, since = -1, time.monotonic()
    try:
        while True:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got:
                break
            time.sleep(0.1)
            done, _ = _in_flight(shared)
            if done != seen:
                seen, since = done, time.monotonic()
            elif time.monotonic() - since > timeout:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                print(f"==== timeout: one input ran for more than {timeout:.0f} s",
                      file=sys.stderr)
                _report(_in_flight(shared)[1], prefix, "timeout")
                return 1
    except KeyboardInterrupt:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return 130
    if os.WIFSIGNALED(status):
        print(f"==== the fuzzed process died of signal {os.WTERMSIG(status)}", file=sys.stderr)
        _report(_in_flight(shared)[1], prefix, "crash")
        return 1
    code = os.waitstatus_to_exitcode(status)
    reported = struct.unpack_from("<I", shared, 12)[0]
    if code and not reported:  # e.g. AddressSanitizer, which exits with 1 by default
        print(f"==== the fuzzed process exited with {code}", file=sys.stderr)
        _report(_in_flight(shared)[1], prefix, "crash")
        return 1
    return code
