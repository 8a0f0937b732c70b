"""The core's XXH3-64 is bit-exact against the xxhash package."""

import random

import pytest
import xxhash

import ringcore

pytestmark = pytest.mark.filterwarnings("error")


def test_every_length_up_to_2048():
    rng = random.Random(1)
    for length in range(2049):
        for data in (rng.randbytes(length), b"\xff" * length, bytes(length)):
            assert ringcore.xxh3_64(data) == xxhash.xxh3_64_intdigest(data), length


def test_random_long_lengths():
    rng = random.Random(2)
    lengths = [rng.randrange(2049, 1 << 20) for _ in range(40)] + [1 << 20, 4096, 4097]
    for length in lengths:
        data = rng.randbytes(length)
        assert ringcore.xxh3_64(data) == xxhash.xxh3_64_intdigest(data), length


def test_int_keys_hash_their_little_endian_bytes():
    rng = random.Random(3)
    values = [0, 1, 2**63, 2**64 - 1, 2**32 - 1, 2**32] + [rng.getrandbits(64) for _ in range(5000)]
    for v in values:
        assert ringcore.hash_key(v) == xxhash.xxh3_64_intdigest(v.to_bytes(8, "little"))


def test_buffers_of_other_formats_hash_their_raw_bytes():
    import array

    data = array.array("I", [1, 2, 3])
    assert ringcore.xxh3_64(data) == xxhash.xxh3_64_intdigest(data.tobytes())
    assert ringcore.xxh3_64(memoryview(b"abcdef")[1:4]) == xxhash.xxh3_64_intdigest(b"bcd")
