"""The C layout checked from C (tests/c/check_layout.c): big and small rings
of both widths, which Python cannot build yet (no 32-bit dialect so far)."""

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ["rc_layout.c", "rc_lookup.c", "rc_hash.c", "rc_keys.c"]


def test_layouts_of_both_widths_agree_with_a_binary_search(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    program = tmp_path / "check_layout"
    subprocess.run([compiler, "-O2", "-I", str(ROOT / "ext"),
                    str(ROOT / "tests" / "c" / "check_layout.c"),
                    *[str(ROOT / "ext" / name) for name in SOURCES], "-o", str(program)],
                   check=True, capture_output=True)
    result = subprocess.run([str(program)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("0 of 1000000 lookups wrong") == 4
