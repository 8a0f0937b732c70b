"""The C layout checked from C (tests/c/check_layout.c): big and small rings
of both widths, which Python cannot build yet (no 32-bit dialect so far),
their lookups and the tables derived on updates, under AddressSanitizer and
UBSan where the compiler has them."""

import subprocess

import pytest
from _c_check import VARIANTS, environment, missing, program

from ringcore._lanes import lane_kernels


# plain C: no SIMD, and the 32-bit multiplies of rc_mul64
@pytest.mark.parametrize("simd", list(VARIANTS.values()), ids=list(VARIANTS))
def test_layouts_of_both_widths_agree_with_a_binary_search(simd):
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    # built under ASan and UBSan where the compiler has them; conftest.py starts
    # the build in the background when this test is collected
    result = subprocess.run([str(program(simd))], capture_output=True, text=True, timeout=600,
                            env=environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" 0 of 1000000 lookups wrong") == 6
    assert result.stdout.count("derived tables: 0 wrong") == 6
    # the lanes (rc_lanes.h) against scalar hashes, in every kernel this CPU runs
    kernels = len(lane_kernels()[0]) if simd else 1
    assert f"lanes: {kernels} kernels, 0 wrong" in result.stdout
