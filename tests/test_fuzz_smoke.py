"""Every fuzz harness (fuzz/fuzz_*.py) runs for RINGCORE_FUZZ_SECONDS seconds
(default 20) and finds nothing: coverage-guided with atheris (the `fuzz`
extra), on the harnesses' own random driver without it. Skipped only where
the checkout's fuzz/ folder is absent (tests copied elsewhere)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
HARNESSES = sorted(FUZZ.glob("fuzz_*.py"))
SECONDS = int(os.environ.get("RINGCORE_FUZZ_SECONDS", "20"))


# harnesses that build Arrow arrays (fuzz_internals through fuzz/guarded.py)
NEED_PYARROW = {"fuzz_arrow", "fuzz_internals"}


@pytest.mark.parametrize("harness", HARNESSES, ids=[h.stem for h in HARNESSES])
def test_harness_finds_nothing(harness, tmp_path):
    if harness.stem in NEED_PYARROW:
        pytest.importorskip("pyarrow")
    # From a scratch directory: the findings land there, and `import ringcore`
    # finds the installed package (the script's own folder, fuzz/, is first
    # on sys.path, never the checkout's root).
    command = [sys.executable, str(harness), f"-max_total_time={SECONDS}",
               f"-artifact_prefix={tmp_path}{os.sep}", "-timeout=120"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                          timeout=SECONDS * 3 + 180)
    if done.returncode != 0:
        # libFuzzer's progress lines ("#123 NEW cov: ...") would bury the finding
        errors = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("#"))
        pytest.fail(f"{harness.name} exited with {done.returncode}:\n"
                    f"{done.stdout[-6000:]}\n{errors[-8000:]}", pytrace=False)
