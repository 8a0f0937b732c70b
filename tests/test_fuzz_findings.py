"""Regressions for what fuzzing the dialects, jump and rendezvous hashing
found (fuzz/fuzz_ring_ops.py, fuzz/fuzz_internals.py): small, fixed cases."""

import numpy as np
import pytest

from ringcore import HashRing


def test_plan_of_a_32_bit_ring_measures_its_own_hash_space():
    """A plan between two ketama rings measured its ranges in 2**64 hashes:
    moved_fraction came out near 5e-11 while a fifth of the keys moved, and
    a range wrapping past the last point counted 2**64 - gap hashes."""
    old = HashRing(["a", "b", "c"], dialect="ketama")
    new = HashRing(["a", "b", "c", "d"], dialect="ketama")
    plan = old.diff(new)
    sizes = plan.sizes.tolist()
    expected = [(end - start) % 2**32 for start, end in zip(plan.starts.tolist(),
                                                             plan.ends.tolist())]
    assert sizes == expected
    assert plan.moved_hashes == sum(expected)
    assert plan.moved_fraction == sum(expected) / 2**32
    assert plan.moved_fraction == pytest.approx(new.ownership()["d"])
    assert sum(plan.transfer().values()) == pytest.approx(plan.moved_fraction)
    # a wrapping range: the empty ring's side is one range over the whole ring
    whole = HashRing([], dialect="libmemcached").diff(HashRing(["x"], dialect="libmemcached"))
    assert whole.sizes.tolist() == [2**32] and whole.moved_fraction == 1.0
    assert whole.transfer() == {(None, "x"): 1.0}
    back = HashRing(["x", "y"], dialect="ketama").diff(HashRing(["y"], dialect="ketama"))
    assert 0 < back.moved_fraction < 1
    assert back.moved_fraction == pytest.approx(
        HashRing(["x", "y"], dialect="ketama").ownership()["x"])
    # the default ring is unchanged: 0 still stands for the whole 2**64 ring
    default = HashRing([]).diff(HashRing(["x"]))
    assert default.sizes.tolist() == [0] and default.moved_fraction == 1.0
    assert np.array_equal(default.sizes, np.zeros(1, dtype=np.uint64))


@pytest.mark.parametrize("vnodes", [2**62, 2**62 + 2**61, 2**63, 2**1100])
def test_libmemcached_refuses_vnodes_past_the_point_limit(vnodes):
    """HashRing(["a", "b"], vnodes=2**62, dialect="libmemcached") built a
    ring of two nodes and no points: the int64 sum of the counts wrapped
    below the limit and each count was cast to uint32. 2**63 and more raised
    OverflowError where every other dialect raises ValueError."""
    with pytest.raises(ValueError, match="more than"):
        HashRing(["a", "b"], vnodes=vnodes, dialect="libmemcached")
    with pytest.raises(ValueError, match="more than"):
        HashRing(["a", "b"], vnodes=vnodes, dialect="ketama")
    with pytest.raises(ValueError, match="more than"):
        HashRing(["a", "b"], vnodes=vnodes)
    # the weighted dialect's counts come from the weights alone
    assert len(HashRing(["a", "b"], vnodes=vnodes, dialect="libmemcached-weighted").positions) == 320


@pytest.mark.parametrize("dialect", ["ketama", "libmemcached", "libmemcached-weighted"])
def test_dialect_weights_beyond_the_arithmetic_are_a_clean_value_error(dialect):
    """Weights whose sum is inf (binary64, or binary32 in libmemcached's
    weighted counts) gave NaN counts: 'cannot convert float NaN to integer'
    and numpy overflow warnings. Now a ValueError that names the node."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for nodes in ({"a": 1e308, "b": 1e308}, {"a": 2.0**200, "b": 1.0}):
            with pytest.raises(ValueError, match="node 'a'|node 'b'"):
                HashRing(nodes, dialect=dialect)


def test_rendezvous_kernels_read_offsets_that_share_memory_with_out():
    """rendezvous_scores / rendezvous_route checked the offsets, then read
    them again while writing out: an out over the offsets' own memory
    turned a score into an offset, and memcpy read far outside the node
    texts (a segfault). They read a private copy now."""
    from ringcore._layout import rendezvous_route, rendezvous_scores

    def shared(view_dtype):
        memory = np.zeros(8, dtype=np.int64)
        offsets = memory[:4]
        offsets[:] = [0, 1, 2, 3]
        return offsets, memory.view(view_dtype)[2:5]  # out's first slots are offsets[1]

    alone = np.empty(3, dtype=np.uint32)
    rendezvous_scores(b"abc", np.array([0, 1, 2, 3]), b"k" * 10, alone)
    offsets, out = shared(np.uint32)
    rendezvous_scores(b"abc", offsets, b"k" * 10, out)
    assert out.tolist() == alone.tolist()

    rank = np.array([0, 1, 2], dtype=np.int32)
    alone = np.empty(3, dtype=np.int32)
    keys = [b"k", b"key", b"other key"]
    rendezvous_route(b"abc", np.array([0, 1, 2, 3]), rank, keys, alone)
    offsets, out = shared(np.int32)
    rendezvous_route(b"abc", offsets, rank, keys, out)
    assert out.tolist() == alone.tolist()
    ranks_in_out = np.array([0, 1, 2], dtype=np.int32)  # out over the ranks
    rendezvous_route(b"abc", np.array([0, 1, 2, 3]), ranks_in_out, keys, ranks_in_out)
    assert ranks_in_out.tolist() == alone.tolist()


def test_rendezvous_reads_keys_by_their_type_and_value():
    """RendezvousHash scored int(key) and bytes(key), so an int subclass's
    __int__ and a bytes subclass's __bytes__ chose the node, and an int
    subclass whose __class__ claims str raised TypeError (str.__str__ of an
    int); SPEC.md 1 reads a key's own value by its type."""
    from ringcore import RendezvousHash

    class LyingInt(int):
        def __int__(self):
            return 7

        __index__ = __int__

    class IntPosingAsStr(int):
        __class__ = property(lambda self: str)  # type: ignore[assignment]

    class LyingBytes(bytes):
        def __bytes__(self):
            return b"other"

    ring = RendezvousHash([f"n{i}" for i in range(12)])
    for key, plain in ((LyingInt(123456), 123456), (IntPosingAsStr(65536), 65536),
                       (LyingBytes(b"abc"), b"abc")):
        assert ring.get_node(key) == ring.get_node(plain)
        assert ring.scores(key).tolist() == ring.scores(plain).tolist()
        assert ring.get_nodes(key, 3) == ring.get_nodes(plain, 3)
        assert ring.route([key, plain]).tolist() == [ring.route([plain])[0]] * 2
    with pytest.raises(TypeError):
        ring.get_node(True)


def test_jump_routes_a_big_endian_uint64_array_on_its_values():
    """JumpHash.route took only a native uint64 array's values as the keys
    to jump on; the same values in a '>u8' array were hashed as int keys
    first, so byte order changed the node."""
    from ringcore import JumpHash, jump_hash

    ring = JumpHash([f"n{i}" for i in range(5)])
    values = np.array([8100340726662267588, 7371255164621608169, 0, 2**64 - 1], dtype=np.uint64)
    expected = jump_hash(values, 5)
    for keys in (values, values.astype(">u8"), values.astype(">u8")[::-1][::-1],
                 values.reshape(2, 2).astype(">u8")):
        assert ring.route(keys).reshape(-1).tolist() == expected.tolist()
    assert [ring.get_node(v) for v in values] == [ring.nodes[i] for i in expected]
