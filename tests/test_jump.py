"""Jump consistent hash: bit-exact with the paper's algorithm (written out
here) and the jump-consistent-hash package, in batch; JumpHash over names."""

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ringcore
from ringcore.jump import JumpHash, jump_hash


def paper_jump(key: int, buckets: int) -> int:
    """Lamping and Veach's code, step by step in Python (64-bit wrap, double division)."""
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) % 2**64
        j = int((b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


@given(st.lists(st.integers(0, 2**64 - 1), max_size=50), st.integers(1, 2**31 - 1))
def test_jump_hash_is_the_papers_algorithm(keys, buckets):
    got = jump_hash(np.array(keys, dtype=np.uint64), buckets)
    assert got.dtype == np.int32 and got.tolist() == [paper_jump(k, buckets) for k in keys]
    assert jump_hash(keys, buckets).tolist() == got.tolist()  # any iterable of ints


def test_jump_hash_of_every_batch_length_around_its_lanes():
    """Keys land at different times in the lanes that jump them side by side
    (each lane takes the next key as its own lands): every batch length from
    none to a few lanes' worth, every key at its own place."""
    keys = np.random.default_rng(5).integers(0, 2**64, 40, dtype=np.uint64)
    for buckets in (1, 2, 100, 2**31 - 1):
        want = [paper_jump(k, buckets) for k in keys.tolist()]
        for n in range(41):
            assert jump_hash(keys[:n], buckets).tolist() == want[:n], (buckets, n)


def test_jump_hash_matches_the_jump_consistent_hash_package():
    jump = pytest.importorskip("jump")
    keys = np.random.default_rng(0).integers(0, 2**64, 20_000, dtype=np.uint64)
    for buckets in (1, 2, 3, 7, 1000, 65_537, 2**31 - 1):
        got = jump_hash(keys, buckets)
        assert got.tolist() == [jump.hash(int(k), buckets) for k in keys.tolist()], buckets


def test_jump_hash_moves_only_keys_to_the_new_bucket():
    keys = np.random.default_rng(1).integers(0, 2**64, 200_000, dtype=np.uint64)
    before = jump_hash(keys, 10)
    after = jump_hash(keys, 11)
    moved = before != after
    assert (after[moved] == 10).all()
    assert abs(moved.mean() - 1 / 11) < 0.01
    assert np.bincount(after).min() > 0.9 * len(keys) / 11


def test_jump_hash_batches_threads_and_shapes():
    keys = np.random.default_rng(2).integers(0, 2**64, 300_000, dtype=np.uint64)
    one = jump_hash(keys, 97, threads=1)
    assert np.array_equal(jump_hash(keys, 97, threads=2), one)
    assert jump_hash(keys.reshape(300, 1000), 97).shape == (300, 1000)
    assert jump_hash(np.empty(0, dtype=np.uint64), 5).shape == (0,)
    pa = pytest.importorskip("pyarrow")
    assert np.array_equal(jump_hash(pa.array(keys[:1000]), 97), one[:1000])


@pytest.mark.parametrize("buckets, exc", [(0, ValueError), (-1, ValueError), (2**31, ValueError),
                                          (1.5, TypeError), ("3", TypeError), (True, TypeError)])
def test_jump_hash_rejects_bad_buckets(buckets, exc):
    with pytest.raises(exc, match="buckets"):
        jump_hash([1, 2], buckets)


def test_jump_hash_rejects_bad_keys():
    with pytest.raises(ValueError):
        jump_hash([-1], 3)
    with pytest.raises(TypeError):
        jump_hash(["a"], 3)
    with pytest.raises(TypeError):
        jump_hash(np.array([1.5]), 3)


def test_jump_ring_routes_like_its_buckets():
    ring = JumpHash([f"n{i}" for i in range(12)])
    ints = np.random.default_rng(3).integers(0, 2**64, 5000, dtype=np.uint64)
    assert np.array_equal(ring.route(ints), jump_hash(ints, 12))  # uint64 keys jump directly
    assert ring.get_node(ints[7]) == ring.nodes[jump_hash(ints[7:8], 12)[0]]
    keys = [f"user:{i}" for i in range(3000)] + [b"raw", 42, -1]
    expected = jump_hash(ringcore.HashRing(["x"]).hash_keys(keys), 12)
    assert np.array_equal(ring.route(keys), expected)  # others on their XXH3-64 key hash
    assert [ring.get_node(k) for k in keys] == [ring.nodes[i] for i in expected.tolist()]
    assert np.array_equal(ring.route(np.array(keys[:3000])), expected[:3000])
    assert ring.route([]).shape == (0,)


def test_jump_ring_updates_and_limits():
    ring = JumpHash(["a", "b", "c"])
    keys = [f"k{i}" for i in range(20_000)]
    before = ring.route(keys)
    ring.add_node("d")
    after = ring.route(keys)
    assert (after[before != after] == 3).all() and "d" in ring and len(ring) == 4
    with pytest.raises(ValueError, match="only the last node"):
        ring.remove_node("b")
    assert ring.nodes == ("a", "b", "c", "d")
    ring.remove_node("d")
    assert np.array_equal(ring.route(keys), before)
    with pytest.raises(KeyError, match="'zz'"):
        ring.remove_node("zz")
    with pytest.raises(ValueError, match="already"):
        ring.add_node("a")
    with pytest.raises(TypeError, match="no weights"):
        JumpHash({"a": 1.0})
    with pytest.raises(ValueError, match="duplicate"):
        JumpHash(["a", "a"])
    with pytest.raises(ringcore.EmptyRingError):
        JumpHash([]).get_node("k")
    with pytest.raises(ringcore.EmptyRingError):
        JumpHash([]).route(["k"])
    assert JumpHash([]).route([]).shape == (0,)
    assert pickle.loads(pickle.dumps(ring)) == ring
    assert repr(ring) == "JumpHash(['a', 'b', 'c'])"


def test_uint64_scalars_and_arrays_jump_on_values_lists_on_key_hashes():
    """The documented rule: an array (route) and a numpy.uint64 (get_node) by
    value, so get_node of an array's item agrees with route of the array;
    numpy scalars inside a list are keys like any int."""
    from ringcore import JumpHash, hash_key

    ring = JumpHash([f"n{i}" for i in range(7)])
    keys = np.random.default_rng(9).integers(0, 2**64, 200, dtype=np.uint64)
    by_array = ring.route(keys)
    assert [ring.get_node(k) for k in keys] == [ring.nodes[i] for i in by_array]
    assert ring.route(keys.astype(">u8")).tolist() == by_array.tolist()
    by_list = ring.route(list(keys))
    hashed = jump_hash(np.array([hash_key(int(k)) for k in keys], dtype=np.uint64), 7)
    assert by_list.tolist() == hashed.tolist()
