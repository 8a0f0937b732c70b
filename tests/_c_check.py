"""Builds of tests/c/check_layout.c for tests/test_c_layout.py.

The sanitized builds take minutes (the unrolled lane kernels), so conftest.py
starts them on a background thread as soon as collection has selected the C
check: the compiler runs on the machine's other core while the rest of the
suite runs, and the test only waits for what is left. One build at a time.
"""

import atexit
import os
import pathlib
import shutil
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ["rc_layout.c", "rc_lookup.c", "rc_hash.c", "rc_keys.c", "rc_md5.c", "rc_lanes.c"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]
VARIANTS = {"simd": True, "plain-c": False}

_builds: dict[bool, Future] = {}
_pool: ThreadPoolExecutor | None = None
_workdir: str | None = None
_running: set = set()


def environment() -> dict:
    """The environment of the compiler and the check: no sanitizer runtime
    inherited from this process (scripts/check-sanitizers.sh preloads one),
    no leak checks (LeakSanitizer cannot run under qemu or a tracer)."""
    env = {key: value for key, value in os.environ.items() if key != "LD_PRELOAD"}
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    return env


def missing() -> str | None:
    """Why the check cannot be built here, or None."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        return "no C compiler"
    if not all((ROOT / "ext" / name).exists() for name in SOURCES):
        return "the C sources are not beside these tests"
    return None


def _build(simd: bool) -> pathlib.Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert _workdir is not None
    program = pathlib.Path(_workdir) / ("check_layout_simd" if simd else "check_layout_plain")
    # plain C: no SIMD, the portable XXH3 and the 32-bit multiplies of rc_mul64;
    # -fno-var-tracking: the unrolled lane kernels take minutes to compile with it
    command = [compiler, "-O2", "-g", "-fno-var-tracking",
               *([] if simd else ["-DRC_NO_SIMD", "-DRC_XXH3_PORTABLE"]),
               "-I", str(ROOT / "ext"), str(ROOT / "tests" / "c" / "check_layout.c"),
               *[str(ROOT / "ext" / name) for name in SOURCES], "-o", str(program)]
    if _compile(command[:1] + SANITIZE + command[1:])[0] != 0:  # no sanitizer runtime
        status, output = _compile(command)
        if status != 0:
            raise RuntimeError(f"building the C check failed ({status}): {' '.join(command)}\n"
                               + output[-4000:])
    return program


def _compile(command) -> tuple[int, str]:
    """Run the compiler: its status and output. One that is still running
    when the session ends is killed."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=environment()) as process:
        _running.add(process)
        try:
            output = process.communicate()[0]
        finally:
            _running.discard(process)
    return process.returncode, output.decode(errors="replace")


def start(variants) -> None:
    """Start building each of `variants` (True: SIMD, False: plain C) in the
    background, in order; a variant already started is left alone."""
    global _pool, _workdir
    if missing() is not None:
        return
    if _pool is None:
        _workdir = tempfile.mkdtemp(prefix="ringcore-check-layout-")
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="check-layout-build")
        atexit.register(_cleanup)
    for simd in variants:
        if simd not in _builds:
            _builds[simd] = _pool.submit(_build, simd)


def program(simd: bool) -> pathlib.Path:
    """The built check (building it now when it was not started)."""
    start([simd])
    return _builds[simd].result()


def _cleanup() -> None:
    for process in list(_running):
        process.kill()
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
    if _workdir is not None:
        shutil.rmtree(_workdir, ignore_errors=True)
