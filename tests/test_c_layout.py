"""The C layout checked from C (tests/c/check_layout.c): big and small rings
of both widths, which Python cannot build yet (no 32-bit dialect so far),
their lookups and the tables derived on updates, under AddressSanitizer and
UBSan where the compiler has them."""

import os
import pathlib
import shutil
import subprocess

import pytest

from ringcore._lanes import lane_kernels

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ["rc_layout.c", "rc_lookup.c", "rc_hash.c", "rc_keys.c", "rc_md5.c", "rc_lanes.c"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]


# plain C: no SIMD, and the 32-bit multiplies of rc_mul64
@pytest.mark.parametrize("simd", [True, False], ids=["simd", "plain-c"])
def test_layouts_of_both_widths_agree_with_a_binary_search(tmp_path, simd):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    if not all((ROOT / "ext" / name).exists() for name in SOURCES):
        pytest.skip("the C sources are not beside these tests")
    # neither the compiler nor the check inherits a sanitizer runtime preloaded
    # into this process (scripts/check-sanitizers.sh does that)
    env = {key: value for key, value in os.environ.items() if key != "LD_PRELOAD"}
    # no leak checks: LeakSanitizer cannot run under emulation (qemu) or a tracer
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    program = tmp_path / "check_layout"
    # -fno-var-tracking: the unrolled lane kernels take minutes to compile with it
    command = [compiler, "-O2", "-g", "-fno-var-tracking", *([] if simd else ["-DRC_NO_SIMD", "-DRC_XXH3_PORTABLE"]), "-I", str(ROOT / "ext"),
               str(ROOT / "tests" / "c" / "check_layout.c"),
               *[str(ROOT / "ext" / name) for name in SOURCES], "-o", str(program)]
    built = subprocess.run(command[:1] + SANITIZE + command[1:], capture_output=True, env=env)
    if built.returncode != 0:  # no sanitizer runtime: the plain build
        subprocess.run(command, check=True, capture_output=True, env=env)
    result = subprocess.run([str(program)], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" 0 of 1000000 lookups wrong") == 6
    assert result.stdout.count("derived tables: 0 wrong") == 6
    # the lanes (rc_lanes.h) against scalar hashes, in every kernel this CPU runs
    kernels = len(lane_kernels()[0]) if simd else 1
    assert f"lanes: {kernels} kernels, 0 wrong" in result.stdout
