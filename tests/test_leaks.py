"""No leaks: memory and reference counts stay flat over many calls of every
call path, the error paths included.

The loops run in fresh subprocesses (tests/_leakcheck.py, two at a time, each
with half of the cases) so that nothing but the calls allocates while they
are measured. Each case is warmed up, then run for three windows of LOOPS
calls; for each measure the smallest growth over the windows must stay
within a slack that one leaked Python object per call, or one leaked 64-byte
allocation per call, would exceed:

* ``sys.getallocatedblocks()`` (pymalloc blocks: Python objects): <= 0.4 per
  call (one leaked object per call adds 1 per call; pandas' object path moves
  it by up to about 60 blocks per window without any trend);
* bytes in use in the C heap (glibc ``mallinfo2``; numpy data, C scratch
  buffers, big objects): <= 16 * LOOPS (64 leaked bytes per call add at least
  64 * LOOPS);
* ``pyarrow.total_allocated_bytes()``: the same 16 * LOOPS;
* ``sys.getrefcount`` of the keys, the input container or array and the ring:
  exactly 0;
* ``sys.gettotalrefcount()`` (debug builds of CPython only): <= 0.4 per call;
* resident set size (/proc/self/statm): <= 64 KiB per window (coarse: pages
  come and go in whole 4 KiB units and freed heap memory stays resident).

RINGCORE_STRESS_SECONDS (default 2) scales LOOPS (250 by default).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import _leakcheck
import pytest

import ringcore

SECONDS = float(os.environ.get("RINGCORE_STRESS_SECONDS", "2"))
LOOPS = max(250, int(125 * SECONDS))
WORKER = Path(__file__).resolve().parent / "_leakcheck.py"
PROCESSES = 2

BLOCK_SLACK = LOOPS * 2 // 5
BYTE_SLACK = 16 * LOOPS
RSS_SLACK = 64 * 1024

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc/self/statm and glibc's mallinfo2")

# Under AddressSanitizer (scripts/check-sanitizers.sh preloads it) freed memory
# waits in a quarantine, so resident memory grows, and glibc's mallinfo2 no
# longer sees the heap: only the Python-level measures mean anything there.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


@pytest.fixture(scope="module")
def measured() -> dict:
    names = list(_leakcheck.CASES)
    env = dict(os.environ, PYTHONPATH=str(Path(ringcore.__file__).resolve().parent.parent))
    procs = [
        subprocess.Popen([sys.executable, str(WORKER), str(LOOPS), *names[i::PROCESSES]],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for i in range(PROCESSES)
    ]
    results: dict = {}
    summaries = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=120 + 3 * LOOPS)
            assert proc.returncode == 0, f"the leak worker failed:\n{err}"
            part = json.loads(out)
            summaries.append(part.pop("_summary"))
            results.update(part)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    results["_summary"] = summaries
    return results


@pytest.mark.parametrize("name", list(_leakcheck.CASES))
def test_flat_memory_and_refcounts(measured, name):
    got = measured[name]
    if "skipped" in got:
        pytest.skip(got["skipped"])
    where = f"{name} ({got['loops']} calls x {got['windows']} windows): {got}"
    assert all(d == 0 for d in got["refs"]), f"refcounts moved: {where}"
    assert got["blocks"] <= BLOCK_SLACK, f"Python objects leak: {where}"
    if got["malloc"] is not None and not UNDER_ASAN:
        assert got["malloc"] <= BYTE_SLACK, f"C heap memory leaks: {where}"
    if got["arrow"] is not None:
        assert got["arrow"] <= BYTE_SLACK, f"Arrow memory leaks: {where}"
    if got["total_refs"] is not None:
        assert got["total_refs"] <= BLOCK_SLACK, f"references leak: {where}"
    if got["rss"] is not None and not UNDER_ASAN:
        assert got["rss"] <= RSS_SLACK, f"resident memory grows: {where}"


def test_the_measurements_ran(measured, record_testsuite_property):
    summaries = measured["_summary"]
    calls = sum(s["calls"] for s in summaries)
    seconds = max(s["seconds"] for s in summaries)
    rss_growth = max(s["rss_growth"] or 0 for s in summaries)
    line = (f"[leaks] {sum(s['cases'] for s in summaries)} cases, {calls:,} calls "
            f"({LOOPS} x 3 windows each) in {seconds:.1f} s per process, "
            f"RSS growth over a whole process {rss_growth / 1024:.0f} KiB")
    print("\n" + line)
    record_testsuite_property("leak_summary", line)
    if not all(s["malloc_probe"] for s in summaries):
        print("  (no glibc mallinfo2 here: the C heap was not measured)")
    measured_cases = [k for k, v in measured.items() if k != "_summary" and "skipped" not in v]
    # cases of optional packages this machine lacks (pyarrow on an emulated ARM root) are
    # allowed to skip; at most two others
    missing = [k for k, v in measured.items()
               if k != "_summary" and v.get("skipped", "").startswith("needs ")]
    assert len(measured_cases) >= len(_leakcheck.CASES) - len(missing) - 2
