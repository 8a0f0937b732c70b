"""RingLayout (the immutable ring), the dialect registry and the executor."""

import pickle
import threading

import numpy as np
import pytest

import ringcore
import ringcore._keys
from ringcore import RingLayout, _exec, _layout, dialects, layout
from ringcore._batch import batch_keys
from ringcore.dialects import DEFAULT, Dialect, get_dialect

NODES = {"a": 1.0, "b": 2.0, "c": 0.5, "d🙂": 1.0}
KEYS = [f"user:{i}" for i in range(2000)] + [b"raw", 7, 2**63]


def test_layout_reads_match_the_mutable_ring():
    ring = ringcore.HashRing(NODES, vnodes=40)
    frozen = RingLayout(NODES, vnodes=40)
    assert frozen == ring.layout
    assert frozen.nodes == ring.nodes and frozen.weights == ring.weights
    assert np.array_equal(frozen.route(KEYS), ring.route(KEYS))
    assert np.array_equal(frozen.hash_keys(KEYS), ring.hash_keys(KEYS))
    assert frozen.ownership() == ring.ownership()
    for key in KEYS[:50]:
        assert frozen.get_node(key) == ring.get_node(key)
        assert frozen.get_nodes(key, 3) == ring.get_nodes(key, 3)
    assert repr(frozen).startswith("RingLayout(") and "points=" in repr(frozen)
    assert len(frozen) == 4 and "b" in frozen and "z" not in frozen


def test_with_and_without_node_return_new_layouts():
    base = RingLayout(NODES, vnodes=40)
    grown = base.with_node("e", 1.5)
    assert base.nodes == tuple(NODES) and grown.nodes == tuple(NODES) + ("e",)
    assert grown == RingLayout({**NODES, "e": 1.5}, vnodes=40)
    assert grown.without_node("e") == base
    shrunk = base.without_node("b")
    assert shrunk == RingLayout({k: w for k, w in NODES.items() if k != "b"}, vnodes=40)
    with pytest.raises(ValueError, match="already"):
        base.with_node("a")
    with pytest.raises(KeyError, match="'zz'"):
        base.without_node("zz")


def test_a_layout_pickles_as_its_arrays_without_rehashing(monkeypatch):
    frozen = RingLayout(NODES, vnodes=40)
    blob = pickle.dumps(frozen)
    ring_blob = pickle.dumps(ringcore.HashRing.from_layout(frozen))

    def refuse(*args):
        raise AssertionError("unpickling re-hashed the points")

    monkeypatch.setattr(layout, "_place", refuse)
    monkeypatch.setattr(layout, "_node_points", refuse)
    again = pickle.loads(blob)
    assert again == frozen and type(again) is RingLayout
    ring = pickle.loads(ring_blob)
    assert ring.layout == frozen and type(ring) is ringcore.HashRing


def unaligned(array: np.ndarray) -> np.ndarray:
    """The same values in a buffer that starts one byte past an aligned one."""
    raw = np.zeros(array.nbytes + 1, dtype=np.uint8)
    raw[1:] = np.frombuffer(array.tobytes(), dtype=np.uint8)
    out = np.frombuffer(raw.data, dtype=array.dtype, offset=1, count=len(array))
    assert array.itemsize == 1 or not out.flags.aligned
    return out


def test_unaligned_arrays_are_read_as_well_as_aligned_ones():
    """Out-of-band pickle buffers (protocol 5, dask's transfers) start anywhere;
    the C copy reads whole words, so the arrays are aligned before it runs."""
    frozen = RingLayout(NODES, vnodes=40)
    again = RingLayout.from_arrays(frozen.weights, unaligned(frozen.positions),
                                   unaligned(frozen.owners), vnodes=40)
    assert again == frozen
    assert list(again.route(["k1", "k2", "k3"])) == list(frozen.route(["k1", "k2", "k3"]))
    buffers: list[pickle.PickleBuffer] = []
    blob = pickle.dumps(frozen, protocol=5, buffer_callback=buffers.append)
    moved = [unaligned(np.frombuffer(b.raw(), dtype=np.uint8)) for b in buffers]
    assert pickle.loads(blob, buffers=moved) == frozen


def test_equality_needs_the_same_points_not_only_the_same_config():
    frozen = RingLayout(NODES, vnodes=40)
    owners = frozen.owners.copy()
    owners[[0, 1]] = owners[[1, 0]]
    forged = RingLayout.from_arrays(frozen.weights, frozen.positions, owners, vnodes=40)
    if owners[0] != owners[1]:
        assert forged != frozen
    assert RingLayout.from_arrays(frozen.weights, frozen.positions, frozen.owners,
                                  vnodes=40) == frozen


def test_a_mutable_ring_starts_from_a_layout_and_shares_it():
    frozen = RingLayout(NODES, vnodes=40)
    ring = ringcore.HashRing.from_layout(frozen)
    assert ring.layout is frozen
    ring.add_node("e")
    assert ring.layout is not frozen and frozen.nodes == tuple(NODES)
    with pytest.raises(TypeError):
        ringcore.HashRing.from_layout(ring)


def test_layout_memory_is_lent_read_only_and_used_once():
    frozen = RingLayout(NODES, vnodes=40)
    memory = frozen.positions.base
    while not isinstance(memory, _layout.LayoutMemory):
        memory = memory.obj if isinstance(memory, memoryview) else memory.base
    view = memoryview(memory)
    # a small ring: positions and owners each in memory of their own
    assert view.readonly and view.nbytes == (len(frozen.positions) + 1) * 8
    owner_memory = frozen.owners.base
    while not isinstance(owner_memory, _layout.LayoutMemory):
        owner_memory = owner_memory.obj if isinstance(owner_memory, memoryview) else owner_memory.base
    assert memoryview(owner_memory).nbytes == (len(frozen.owners) + 1) * 4
    assert frozen.memory_bytes == view.nbytes + memoryview(owner_memory).nbytes + frozen.table.nbytes
    with pytest.raises(TypeError):
        view[0] = 1
    with pytest.raises(ValueError, match="WRITEABLE"):
        np.frombuffer(memory, dtype=np.uint8).setflags(write=True)
    empty = _layout.LayoutMemory()
    assert len(empty) == 0 and memoryview(empty).nbytes == 0
    # memory a layout holds (points or table) never makes another layout
    table_memory = memoryview(frozen.table).obj
    while not isinstance(table_memory, _layout.LayoutMemory):
        table_memory = table_memory.obj if isinstance(table_memory, memoryview) else table_memory.base
    for held in (memory, owner_memory, table_memory):
        npoints = len(held) // 16 - 1  # as many records as its bytes hold
        with pytest.raises(ValueError):
            _layout.make_layout(RingLayout, frozen.names, frozen.node_weights, 40, DEFAULT,
                                DEFAULT.hasher, held, npoints)
    points, n = _layout.points_from_arrays(frozen.positions, frozen.owners)
    _layout.make_layout(RingLayout, frozen.names, frozen.node_weights, 40, DEFAULT,
                        DEFAULT.hasher, points, n)
    with pytest.raises(ValueError, match="another layout"):
        _layout.make_layout(RingLayout, frozen.names, frozen.node_weights, 40, DEFAULT,
                            DEFAULT.hasher, points, n)


def test_trusted_points_still_need_their_owners():
    # points merged for 5 nodes cannot make a layout of 4 names
    frozen = RingLayout(NODES, vnodes=4)
    points, n = _layout.merge_node(frozen, np.array([5, 9], np.uint64), 4,
                                   np.zeros(4, np.uint8))
    with pytest.raises(ValueError):
        _layout.make_layout(RingLayout, frozen.names, frozen.node_weights, 4, DEFAULT,
                            DEFAULT.hasher, points, n)
    with pytest.raises(ValueError):  # a new node's points must come sorted
        _layout.merge_node(frozen, np.array([9, 5], np.uint64), 4, np.zeros(4, np.uint8))


def test_big_layouts_route_every_format_like_small_ones():
    names = [f"n{i}" for i in range(4)]
    big = RingLayout(names, vnodes=140_000)  # 560,000 points: the big layout
    assert big.big and len(big.lines) > 0
    keys = [f"k{i}" for i in range(50_000)]
    hashed = big.hash_keys(keys)
    expected = np.append(big.owners, big.owners[0])[np.searchsorted(big.positions, hashed)]
    assert np.array_equal(big.route(keys), expected)
    assert np.array_equal(big.route(np.array(keys)), expected)
    assert np.array_equal(big.route(keys, threads=2), expected)
    ints = np.arange(50_000, dtype=np.uint64)
    assert np.array_equal(big.route(ints), big.route_hashes(big.hash_keys(ints)))
    # nulls and bad keys in the pipeline that hashes ahead of its lookups, at every offset
    pa = pytest.importorskip("pyarrow")
    with_nulls = [None if i % 37 in (0, 5) else key for i, key in enumerate(keys[:5000])]
    routed = big.route(pa.array(with_nulls), null=-7)
    want = np.where([key is None for key in with_nulls], -7, expected[:5000])
    assert np.array_equal(routed, want)
    for at in (0, 1, 15, 16, 63, 64, 65, 130, 4999):
        bad = pa.array(keys[:at] + [None] + keys[at + 1:5000])
        with pytest.raises(ValueError, match=rf"keys\[{at}\] is null"):
            big.route(bad)
        short = big.route(pa.array(keys[:at + 1]))
        assert np.array_equal(short, expected[:at + 1])
    reference_ring = ringcore.reference.HashRing(names, vnodes=140_000)
    for key in keys[:200]:
        assert big.get_nodes(key, 3)[0] == big.get_node(key)
        assert big.get_nodes(key, 3) == reference_ring.get_nodes(key, 3)


# -- dialects ------------------------------------------------------------------------


def test_the_registry_names_the_default_dialect():
    assert get_dialect() is DEFAULT and get_dialect("ringcore") is DEFAULT
    assert get_dialect({"id": "ringcore"}) is DEFAULT and get_dialect(DEFAULT) is DEFAULT
    assert get_dialect(DEFAULT.get_config()) is DEFAULT
    assert pickle.loads(pickle.dumps(DEFAULT)) is DEFAULT
    assert "ringcore" in dialects.available_dialects()
    assert DEFAULT.ring_size == 2**64
    assert ringcore.HashRing(["a"], dialect="ringcore") == ringcore.HashRing(["a"])
    assert ringcore.HashRing(["a"]).dialect is DEFAULT


@pytest.mark.parametrize("bad, error", [
    ("ketama-typo", ValueError), ({"id": "x"}, ValueError), ({"name": "ringcore"}, ValueError),
    ({"id": "ringcore", "extra": 1}, ValueError), (3, TypeError), (b"ringcore", TypeError),
])
def test_unknown_dialects_are_clear_errors(bad, error):
    with pytest.raises(error):
        get_dialect(bad)
    with pytest.raises(error):
        ringcore.HashRing(["a"], dialect=bad)


def test_a_dialect_name_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        dialects.register_dialect(Dialect("ringcore", DEFAULT.hash_kind, DEFAULT.points_kind, 64,
                                          "again"))
    with pytest.raises(TypeError):
        dialects.register_dialect("ringcore")
    with pytest.raises(ValueError):  # a combination the C does not have
        Dialect("bad-bits", DEFAULT.hash_kind, DEFAULT.points_kind, 32, "XXH3 on 32 bits")


# -- the executor --------------------------------------------------------------------


def _rows(part, out, lo, hi):
    out[:] = np.arange(lo, hi)[:, None] * 10 + np.arange(out.shape[1])


def test_the_executor_writes_rows_of_a_width():
    batch = batch_keys(np.arange(300_000, dtype=np.uint64))
    out = _exec.map_keys(batch, np.int64, 2, _rows, None, width=3)
    assert out.shape == (300_000, 3)
    assert np.array_equal(out[:, 0], np.arange(300_000) * 10)
    assert np.array_equal(out[:, 2], np.arange(300_000) * 10 + 2)
    empty = _exec.map_keys(batch_keys(np.empty(0, np.uint64)), np.int32, None, _rows, None,
                           width=4)
    assert empty.shape == (0, 4)


def test_an_ordered_run_is_one_pass_in_key_order_on_the_calling_thread():
    seen = []

    def kernel(part, out, lo, hi):
        seen.append((lo, hi, threading.current_thread() is threading.main_thread()))
        out[:] = 0

    def list_kernel(keys, out):
        seen.append(("list", len(keys)))
        out[:] = 0

    _exec.map_keys(batch_keys(list(range(10))), np.int32, 2, kernel, list_kernel, ordered=True)
    assert seen == [("list", 10)]
    big = batch_keys(np.arange(300_000, dtype=np.uint64))
    seen.clear()
    _exec.map_keys(big, np.int32, 2, kernel, list_kernel, ordered=True)
    assert seen == [(0, 300_000, True)]
    seen.clear()
    _exec.map_keys(big, np.int32, 2, kernel, list_kernel)
    assert sorted(s[:2] for s in seen) == [(0, 150_000), (150_000, 300_000)]


def test_the_executor_raises_the_earliest_error_after_every_range():
    done = []

    def kernel(part, out, lo, hi):
        done.append(lo)
        raise ValueError(f"range {lo}")

    with pytest.raises(ValueError, match="range 0$"):
        _exec.map_keys(batch_keys(np.arange(300_000, dtype=np.uint64)), np.int32, 2, kernel,
                       None)
    assert sorted(done) == [0, 150_000]
    with pytest.raises(ValueError):
        _exec.map_keys(batch_keys([1]), np.int32, 1, kernel, lambda k, o: None, width=-1)


# -- internals called directly (found by fuzz/fuzz_internals.py) ----------------------


class LyingOwners(np.ndarray):
    def min(self, *args, **kwargs):
        return 0

    def max(self, *args, **kwargs):
        return 0


def test_sorted_points_are_trusted_for_the_owners_they_hold_not_what_callers_say():
    owners = np.array([-1_000_000, -1_000_000], np.int32).view(LyingOwners)
    points, n = _layout.sort_placed(np.array([2**63, 2**64 - 1], np.uint64), owners, 64)
    with pytest.raises(ValueError):
        _layout.make_layout(RingLayout, ("a",), (1.0,), 1, DEFAULT, DEFAULT.hasher, points, n)

    class Seven(int):
        def __int__(self):
            return 7

    points, n = _layout.sort_placed(np.array([5, 9], np.uint64),
                                    np.array([Seven(-5), 0], dtype=object), 64)
    with pytest.raises(ValueError):
        _layout.make_layout(RingLayout, ("a",), (1.0,), 1, DEFAULT, DEFAULT.hasher, points, n)
    with pytest.raises(ValueError):  # owners beyond int32: not an OverflowError
        _layout.sort_placed(np.array([5], np.uint64), np.array([2**63], np.uint64), 64)


def test_a_layout_made_without_its_constructor_is_an_empty_ring():
    bare = _layout.LayoutBase.__new__(_layout.LayoutBase)
    batch = ringcore._keys.KeyBatch.from_numpy(np.arange(3))
    with pytest.raises(ringcore.EmptyRingError):
        bare.route_batch_into(batch, np.zeros(3, np.int32), 0, 3)
    with pytest.raises(ringcore.EmptyRingError):
        bare.get_node("k")
    with pytest.raises(ringcore.EmptyRingError):
        bare.route_list_into(["a"], np.zeros(1, np.int32))
    assert bare.names == () and len(bare.positions) == 0
    for array in (bare.owners, bare.table, bare.positions):
        with pytest.raises(ValueError):
            array.flags.writeable = True


def test_internal_calls_refuse_none_and_wrong_types():
    frozen = RingLayout(NODES, vnodes=4)
    out = np.zeros(1, np.int32)
    with pytest.raises(TypeError):
        frozen.route_batch_into(None, out, 0, 0)
    with pytest.raises(TypeError):
        frozen.route_list_into(None, out)
    with pytest.raises(TypeError):
        frozen.route_hashes_into(None, out)
    with pytest.raises(TypeError):
        _layout.merge_node(frozen, None, 4, np.zeros(4, np.uint8))
    with pytest.raises(TypeError):
        _layout.place_nodes(DEFAULT.hasher, [memoryview(np.arange(2, dtype=np.int64))],
                            np.ones(1, np.uint32), np.zeros(1, np.int32))
    with pytest.raises(TypeError):
        DEFAULT.hasher.hash_batch(None, np.zeros(1, np.uint64), 0, 0)


def test_a_layout_from_arrays_gives_every_node_a_point():
    with pytest.raises(ValueError, match="at least one point"):
        RingLayout.from_arrays(["a", "b"], np.array([5], np.uint64), np.array([0], np.int32))


def test_a_big_build_on_threads_equals_the_one_thread_sort():
    names = [f"node-{i}" for i in range(1200)]  # 192,000 points: placed and sorted on threads
    built = RingLayout(names, vnodes=160)
    raw = sorted((name.encode(), i) for i, name in enumerate(names))
    positions = np.concatenate([DEFAULT.hasher.node_points(name, 160) for name, _ in raw])
    owners = np.repeat(np.array([i for _, i in raw], dtype=np.int32), 160)
    points, n = _layout.sort_placed(positions, owners, 64)
    expected = _layout.make_layout(RingLayout, built.names, built.node_weights, 160, DEFAULT,
                                   DEFAULT.hasher, points, n)
    assert expected == built
    assert np.array_equal(np.sort(positions), built.positions)


# made by the first format (ringcore 0.1 before layouts): HashRing({"a": 1.0, "b": 2.0,
# "c🙂": 0.5}, vnodes=8) pickled with protocol 2
OLD_PICKLE = (
    b"\x80\x02cringcore.ring\n_restore\nq\x00cringcore.ring\nHashRing\nq\x01]q\x02(X\x01\x00"
    b"\x00\x00aq\x03G?\xf0\x00\x00\x00\x00\x00\x00\x86q\x04X\x01\x00\x00\x00bq\x05G@\x00"
    b"\x00\x00\x00\x00\x00\x00\x86q\x06X\x05\x00\x00\x00c\xf0\x9f\x99\x82q\x07G?\xe0\x00"
    b"\x00\x00\x00\x00\x00\x86q\x08eK\x08\x87q\tRq\n."
)


def test_pickles_of_the_first_format_still_load():
    ring = pickle.loads(OLD_PICKLE)
    assert ring == ringcore.HashRing({"a": 1.0, "b": 2.0, "c🙂": 0.5}, vnodes=8)
    # what the old code answered for these keys
    assert ring.get_node("k") == "a"
    assert ring.route(["x", "y", "z"]).tolist() == [1, 2, 0]
    assert ring.positions[:3].tolist() == [199182445281158425, 1480528559295545228,
                                           1927640311433054912]


# -- tables derived on updates -----------------------------------------------------------


def _rebuilt(made):
    """The same points with the table built from scratch."""
    return RingLayout.from_arrays(made.weights, made.positions, made.owners, vnodes=made.vnodes)


def _merged(frozen, positions, flags=None):
    positions = np.sort(np.asarray(positions, dtype=np.uint64))
    flags = np.zeros(len(frozen.names), np.uint8) if flags is None else flags
    points, n = _layout.merge_node(frozen, positions, len(frozen.names), flags)
    assert points.derived_table
    made = _layout.make_layout(RingLayout, frozen.names + ("new",),
                               frozen.node_weights + (1.0,), frozen.vnodes, DEFAULT,
                               DEFAULT.hasher, points, n)
    assert not points.derived_table  # taken by the layout
    assert made.table_derived  # and used, not rebuilt
    return made


def _crafted(npoints, nnodes, seed, top=2**64):
    """A layout of sorted random positions below top with runs of one owner
    and a few positions shared by two points."""
    rng = np.random.default_rng(seed)
    positions = np.sort(rng.integers(0, top, npoints, dtype=np.uint64, endpoint=False))
    positions[100:104] = positions[100]  # ties
    owners = rng.integers(0, nnodes, npoints).astype(np.int32)
    owners[:nnodes] = np.arange(nnodes)  # every node owns a point
    owners[[0, 20]] = [20, 0]  # point 0 is n20's, point 1 n1's
    owners[-50:] = 1  # a run at the end, wrapping to point 0's owner
    owners[500:530] = 2
    return RingLayout.from_arrays([f"n{i}" for i in range(nnodes)], positions, owners)


def _units(layout):
    """(number of table units, unit of a position, start of unit e): the
    guide table's buckets, or the line table's lines."""
    if layout.big:
        count = len(layout.lines)
        return count, lambda pos: (int(pos) * count) >> 64, lambda e: -(-(e << 64) // count)
    count = len(layout.table)
    shift = 64 - count.bit_length() + 1
    return count, lambda pos: int(pos) >> shift, lambda e: e << shift


@pytest.mark.parametrize("top", [2**64, 2**63])  # the upper half empty: units past the last
# the guide table, compact lines (16-bit owners), lines
@pytest.mark.parametrize("npoints, nnodes", [(3_000, 40), (600_000, 4_000), (600_000, 70_000)])
def test_tables_derived_on_updates_equal_tables_built_from_scratch(npoints, nnodes, top):
    frozen = _crafted(npoints, nnodes, npoints, top)
    assert frozen.big == (npoints > 2**19)
    positions = frozen.positions
    _, unit_of, unit_start = _units(frozen)
    lows = [0, 1, 2**64 - 1, 2**64 - 2]
    at_old = [int(positions[0]), int(positions[100]), int(positions[-1]), int(positions[777])]
    # unit starts, one of them of a unit with no old point, and the positions next to them
    units = [unit_of(p) for p in positions]
    empty = np.flatnonzero(np.diff(units) > 1).tolist() + [len(units) - 1]
    starts = [unit_start(units[0]), unit_start(units[empty[0]] + 1)]
    starts += [s - 1 for s in starts if s > 0] + [s + 1 for s in starts]
    rng = np.random.default_rng(1)
    # a crowded line (more points than slots) for big layouts: eleven points at its start
    crowded = [starts[1] + k for k in range(11)]
    cases = [lows, at_old, starts, lows + at_old + starts, crowded,
             rng.integers(0, 2**64, 160, dtype=np.uint64).tolist(),
             [int(positions[-1]) + 1, 2**64 - 1], [5] * 3]
    for case in cases:
        for flags in (None, np.ones(len(frozen.names), np.uint8)):
            made = _merged(frozen, case, flags)
            assert np.array_equal(made.table, _rebuilt(made).table), case
    for name in ("n0", "n1", "n2", "n20", f"n{nnodes - 1}"):
        points, _ = _layout.remove_node(frozen, frozen.index[name])
        assert points.derived_table
        made = frozen.without_node(name)
        assert made.table_derived
        assert np.array_equal(made.table, _rebuilt(made).table), name
    # a chain of updates: derived tables, and the points the update should leave
    made = frozen
    for step in range(6):
        before = made
        if step % 2 == 0:
            name = f"extra{step}"  # sorts before every "n..." name: first among equals
            made = made.with_node(name)
            new = np.asarray(DEFAULT.hasher.node_points(name.encode(), 160), dtype=np.uint64)
            positions = np.concatenate([before.positions, new])
            owners = np.concatenate([before.owners, np.full(160, len(before.names), np.int32)])
            order = np.lexsort((np.r_[np.ones(len(before.positions)), np.zeros(160)], positions))
            want_positions, want_owners = positions[order], owners[order]
        else:
            gone = before.index[f"n{step}"]
            made = made.without_node(f"n{step}")
            kept = before.owners != gone
            want_positions = before.positions[kept]
            want_owners = before.owners[kept] - (before.owners[kept] > gone)
        assert made.table_derived
        assert np.array_equal(made.table, _rebuilt(made).table)
        assert np.array_equal(made.positions, want_positions)
        assert np.array_equal(made.owners, want_owners)


def test_updates_that_change_the_table_shape_rebuild_it():
    frozen = RingLayout({"a": 1.0}, vnodes=64)  # 64 points: adding 64 more grows the table
    grown = frozen.with_node("b")
    assert len(grown.table) > len(frozen.table)
    points, _ = _layout.merge_node(frozen, np.arange(64, dtype=np.uint64), 1, np.zeros(1, np.uint8))
    assert not points.derived_table and not grown.table_derived
    assert np.array_equal(grown.table, _rebuilt(grown).table)
    shrunk = grown.without_node("a")
    assert len(shrunk.table) < len(grown.table) and not shrunk.table_derived
    assert not _layout.remove_node(grown, 0)[0].derived_table
    assert np.array_equal(shrunk.table, _rebuilt(shrunk).table)
    assert len(shrunk.without_node("b").names) == 0


def test_a_ring_that_outgrows_16_bit_owners_changes_its_lines():
    names = [f"n{i}" for i in range(65_535)]  # the most nodes compact lines hold
    frozen = RingLayout(names, vnodes=9)  # 589,815 points: big
    assert frozen.big and frozen.compact
    grown = frozen.with_node("one more")
    assert grown.big and not grown.compact and not grown.table_derived
    assert np.array_equal(grown.table, _rebuilt(grown).table)
    shrunk = grown.without_node("n7")
    assert shrunk.compact and not shrunk.table_derived
    assert np.array_equal(shrunk.table, _rebuilt(shrunk).table)
    hashes = np.random.default_rng(2).integers(0, 2**64, 200_000, dtype=np.uint64)
    for made in (frozen, grown, shrunk):
        want = np.append(made.owners, made.owners[0])[np.searchsorted(made.positions, hashes)]
        assert np.array_equal(made.route_hashes(hashes), want)


def test_memory_kept_for_reuse_never_exceeds_what_lives():
    frozen = _crafted(600_000, 40, 3)  # blocks of megabytes: kept for reuse when freed
    grown = frozen.with_node("x")
    kept, live = _layout.kept_memory()
    assert kept <= live
    del grown  # its blocks are kept: a layout of their size lives
    kept_after, live_after = _layout.kept_memory()
    assert kept < kept_after <= live_after
    again = frozen.with_node("x")  # takes them back
    assert _layout.kept_memory()[0] < kept_after
    assert np.array_equal(again.table, _rebuilt(again).table)
    del again, frozen
    kept_end, live_end = _layout.kept_memory()
    assert kept_end <= live_end


def test_a_layout_refuses_names_it_could_not_index():
    # the name index is made when first asked for; unhashable names fail up front
    points, n = _layout.points_from_arrays(np.array([5, 9], np.uint64), np.array([0, 1], np.int32))
    with pytest.raises(TypeError):
        _layout.make_layout(RingLayout, (["unhashable"], "b"), (1.0, 1.0), 4, DEFAULT,
                            DEFAULT.hasher, points, n)


def test_saved_arrays_checked_on_threads_are_checked_across_their_ranges():
    n = 400_000  # split across the cores: each range sorted, the boundary not
    half = np.arange(n // 2, dtype=np.uint64) * 1000
    owners = np.zeros(n, np.int32)
    owners[-1] = 1  # node 1 owns a point in the last range only
    with pytest.raises(ValueError, match="not sorted"):
        RingLayout.from_arrays(["a", "b"], np.concatenate([half + 10**12, half]), owners)
    made = RingLayout.from_arrays(["a", "b"], np.arange(n, dtype=np.uint64), owners)
    assert made.owners[-1] == 1
    with pytest.raises(ValueError, match="at least one point"):
        RingLayout.from_arrays(["a", "b", "c"], np.arange(n, dtype=np.uint64), owners)
