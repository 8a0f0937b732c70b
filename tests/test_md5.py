"""The project's own MD5 (RFC 1321), which the ketama dialects hash with:
the RFC's test suite and hashlib on every length around the block edges."""

import hashlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringcore._keys import md5

# RFC 1321, appendix A.5
RFC_SUITE = {
    b"": "d41d8cd98f00b204e9800998ecf8427e",
    b"a": "0cc175b9c0f1b6a831c399e269772661",
    b"abc": "900150983cd24fb0d6963f7d28e17f72",
    b"message digest": "f96b697d7cb7938d525a2f31aaf161d0",
    b"abcdefghijklmnopqrstuvwxyz": "c3fcd3d76192e4007dfb496cca67e13b",
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789":
        "d174ab98d277d9f5a5611c2c9f419d9f",
    b"1234567890" * 8: "57edf4a22be3c955ac49da2e2107b67a",
}


@pytest.mark.parametrize("data, digest", RFC_SUITE.items(), ids=range(len(RFC_SUITE)))
def test_rfc_1321_suite(data, digest):
    assert md5(data).hex() == digest


def test_every_length_around_the_block_edges():
    rng = np.random.default_rng(0)
    for n in list(range(0, 300)) + [4095, 4096, 4097, 1 << 20]:
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert md5(data) == hashlib.md5(data).digest(), n


@given(st.binary(max_size=500))
def test_md5_is_hashlibs(data):
    assert md5(data) == hashlib.md5(data).digest()


def test_md5_takes_bytes_like_objects_only():
    data = bytearray(b"hello world")
    assert md5(data) == md5(memoryview(data)) == md5(bytes(data))
    assert md5(memoryview(b"xhello worldx")[1:-1]) == md5(b"hello world")
    assert md5(np.arange(10, dtype=np.int32)) == hashlib.md5(np.arange(10, dtype=np.int32)).digest()
    strided = np.arange(20, dtype=np.uint8)[::2]
    assert md5(strided) == hashlib.md5(strided.tobytes()).digest()
    with pytest.raises(TypeError, match="encode it first"):
        md5("text")
    with pytest.raises(TypeError, match="bytes-like"):
        md5(12)
