"""Ring operations in batch (SPEC.md 10-12): replica sets, bounded loads,
loads; snapshots and versions. The core against the reference, and the
properties of each operation as properties."""

import math
import pickle
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import key_lists, ring_configs

import ringcore
from ringcore import HashRing, Load, RingLayout, reference

Core, Ref = HashRing, reference.HashRing

KEYS = [f"key-{i}" for i in range(3000)]
NODES = {"a": 1.0, "b": 2.0, "c": 0.5, "d": 1.0, "e": 1.5}


def make(cls=Core, nodes=NODES, vnodes=40):
    return cls(nodes, vnodes=vnodes)


# -- replica sets ----------------------------------------------------------------------


@given(ring_configs(max_points=800), key_lists, st.data())
def test_route_replicas_agrees_with_the_reference_and_get_nodes(cfg, keys, data):
    core, ref = cfg.build(Core), cfg.build(Ref)
    n = data.draw(st.integers(0, len(core)))
    keys = [k for k in keys if k is not None]
    got = core.route_replicas(keys, n)
    assert got.dtype == np.int32 and got.shape == (len(keys), n)
    assert np.array_equal(got, ref.route_replicas(keys, n))
    for key, row in zip(keys, got.tolist()):
        if n:
            assert [core.nodes[i] for i in row] == core.get_nodes(key, n)


@given(ring_configs(min_nodes=2, max_nodes=12, max_points=2000), st.data())
def test_replica_rows_are_distinct_and_start_with_the_owner(cfg, data):
    ring = cfg.build(Core)
    n = data.draw(st.integers(1, len(ring)))
    hashes = np.array(data.draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=50)),
                      dtype=np.uint64)
    keys = hashes.astype(object).tolist()
    rows = ring.route_replicas(keys, n)
    assert np.array_equal(rows[:, 0], ring.route(keys))
    for row in rows.tolist():
        assert len(set(row)) == n and all(0 <= i < len(ring) for i in row)


def test_route_replicas_every_key_format_gives_the_same_rows():
    pa = pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    ring = make()
    expected = ring.route_replicas(KEYS, 3)
    for keys in (np.array(KEYS), pa.array(KEYS), pa.chunked_array([KEYS[:7], KEYS[7:]]),
                 pd.Series(KEYS), tuple(KEYS), iter(KEYS)):
        assert np.array_equal(ring.route_replicas(keys, 3), expected), type(keys)
    ints = np.arange(-50, 5000, dtype=np.int64)
    assert np.array_equal(ring.route_replicas(ints, 2),
                          ring.route_replicas(ints.tolist(), 2))


def test_route_replicas_keeps_the_shape_of_the_keys():
    ring = make()
    keys = np.arange(24, dtype=np.uint64).reshape(2, 3, 4)
    got = ring.route_replicas(keys, 2)
    assert got.shape == (2, 3, 4, 2)
    assert np.array_equal(got.reshape(-1, 2), ring.route_replicas(keys.reshape(-1), 2))


def test_route_replicas_threads_do_not_change_the_rows():
    ring = make(vnodes=160)
    keys = np.arange(300_000, dtype=np.uint64)
    one = ring.route_replicas(keys, 3, threads=1)
    assert np.array_equal(ring.route_replicas(keys, 3, threads=2), one)
    assert np.array_equal(ring.route_replicas(keys, 3), one)


def test_route_replicas_on_a_big_ring_matches_the_walk():
    """Rows of a big ring (line table; index from the line's fast path)."""
    ring = HashRing([f"n{i}" for i in range(4000)], vnodes=160)  # 640k points: big
    assert ring.layout.big
    keys = np.random.default_rng(5).integers(0, 2**64, 20_000, dtype=np.uint64)
    rows = ring.route_replicas(keys, 4)
    for key, row in zip(keys[:300].tolist(), rows[:300].tolist()):
        assert [ring.nodes[i] for i in row] == ring.get_nodes(key, 4)
    assert np.array_equal(rows[:, 0], ring.route(keys))



@pytest.mark.parametrize("nodes", [4000, 70_000], ids=["compact-lines", "lines"])
def test_point_indices_of_big_rings_match_a_binary_search(nodes):
    """The index kernel behind replica rows and bounded loads, on both kinds
    of line table: hashes on points, beside them (ties take the slow path)
    and at random."""
    layout = RingLayout([f"n{i}" for i in range(nodes)], vnodes=160 if nodes < 10_000 else 8)
    assert layout.big
    positions = layout.positions
    on_points = positions[::37]
    rng = np.random.default_rng(9)
    for h in (on_points, on_points + np.uint64(1), on_points - np.uint64(1),
              rng.integers(0, 2**64, 50_000, dtype=np.uint64),
              np.array([0, 2**64 - 1, positions[-1], positions[0]], dtype=np.uint64)):
        h = np.ascontiguousarray(h)
        got = np.empty(len(h), dtype=np.int32)
        layout.route_hashes_into(h, got, True)
        expected = np.searchsorted(positions, h, side="left") % len(positions)
        assert np.array_equal(got, expected)


@pytest.mark.parametrize("cls", [Core, Ref], ids=["core", "reference"])
def test_route_replicas_edges(cls):
    ring = make(cls)
    assert ring.route_replicas(KEYS[:5], 0).shape == (5, 0)
    assert ring.route_replicas([], 3).shape == (0, 3)
    assert ring.route_replicas(np.array([], dtype=np.uint64), 2).shape == (0, 2)
    assert ring.route_replicas(KEYS[:4], len(ring)).shape == (4, len(ring))
    with pytest.raises(ValueError, match="number of nodes"):
        ring.route_replicas(KEYS[:4], len(ring) + 1)
    with pytest.raises(ValueError, match=">= 0"):
        ring.route_replicas(KEYS[:4], -1)
    for bad in (1.0, "2", None, True):
        with pytest.raises(TypeError, match="n must be an int"):
            ring.route_replicas(KEYS[:4], bad)
    with pytest.raises(ringcore.EmptyRingError):
        cls([]).route_replicas(["a"], 1)
    assert cls([]).route_replicas([], 1).shape == (0, 1)
    with pytest.raises(TypeError, match=r"keys\[1\]"):  # None without null= (SPEC.md 8)
        ring.route_replicas(["a", None, "b"], 2)
    rows = ring.route_replicas(["a", None, "b"], 2, null=-7)
    assert rows[1].tolist() == [-7, -7] and (rows[[0, 2]] >= 0).all()


def test_route_replicas_bad_key_names_its_index(cls):
    ring = make(cls)
    with pytest.raises(TypeError, match=r"keys\[2\]"):
        ring.route_replicas(["a", "b", 1.5], 2)


def test_replica_rows_are_kept_with_the_layout_and_bounded():
    layout = make().snapshot()
    layout.route_replicas(KEYS, 2)
    rows = layout.derived[("replicas", 2, False)]
    layout.route_replicas(KEYS, 2)
    assert layout.derived[("replicas", 2, False)] is rows and not rows.flags.writeable
    with pytest.raises(ValueError):
        rows.flags.writeable = True  # kept rows cannot be changed under later calls
    for n in (1, 3, 4, 5):
        layout.route_replicas(KEYS, n)
    assert len(layout.derived) <= 2


def test_replica_rows_of_checks_its_arguments():
    layout = make().snapshot()
    with pytest.raises(ValueError, match="one class per node"):
        layout.replica_rows_of(2, np.zeros(2, dtype=np.int32))
    with pytest.raises(ValueError, match="number of nodes"):
        layout.replica_rows_of(9, np.arange(5, dtype=np.int32))
    with pytest.raises(ValueError, match="distinct classes"):
        layout.replica_rows_of(3, np.array([0, 0, 1, 1, 0], dtype=np.int32))
    with pytest.raises(ringcore.EmptyRingError):
        RingLayout().replica_rows_of(1, np.zeros(0, dtype=np.int32))


# -- bounded loads -------------------------------------------------------------------


def capacities(ring, epsilon, nkeys):
    total = math.fsum(ring.weights.values())
    return [min(math.ceil((1.0 + epsilon) * nkeys * w / total), nkeys)
            for w in ring.weights.values()]


@given(ring_configs(max_points=600), st.lists(st.text(max_size=6), max_size=300),
       st.sampled_from([1e-9, 0.01, 0.1, 0.25, 1.0, 7.5]))
def test_bounded_loads_agree_with_the_reference_and_hold_their_properties(cfg, keys, eps):
    core, ref = cfg.build(Core), cfg.build(Ref)
    got = core.assign_bounded(keys, eps)
    assert got.dtype == np.int32 and got.shape == (len(keys),)
    assert np.array_equal(got, ref.assign_bounded(keys, eps))
    # no node over capacity; a key whose first choice had room keeps it
    cap = capacities(core, eps, len(keys))
    load = [0] * len(core)
    for first, chosen in zip(core.route(keys).tolist(), got.tolist()):
        if load[first] < cap[first]:
            assert chosen == first
        else:
            assert chosen != first and load[chosen] < cap[chosen]
        load[chosen] += 1
    assert all(count <= c for count, c in zip(load, cap))
    assert np.array_equal(core.assign_bounded(keys, eps), got)  # same input, same output


def test_bounded_loads_walk_clockwise_past_full_nodes():
    """A key whose node is full goes to the next node clockwise with room."""
    ring = make(vnodes=10)
    keys = np.arange(5000, dtype=np.uint64)
    got = ring.assign_bounded(keys, 0.05)
    cap = capacities(ring, 0.05, len(keys))
    load = [0] * len(ring)
    hashes = ring.hash_keys(keys)
    positions, owners = ring.positions, ring.owners
    for h, chosen in zip(hashes.tolist(), got.tolist()):
        i = int(np.searchsorted(positions, np.uint64(h), side="left")) % len(positions)
        while load[owners[i]] >= cap[owners[i]]:
            i = (i + 1) % len(positions)
        assert chosen == owners[i]
        load[chosen] += 1
    assert max(ld / c for ld, c in zip(load, cap)) <= 1.0


def test_bounded_loads_on_a_big_ring_and_threads():
    ring = HashRing([f"n{i}" for i in range(3500)], vnodes=160)
    assert ring.layout.big
    keys = np.random.default_rng(2).integers(0, 2**64, 200_000, dtype=np.uint64)
    one = ring.assign_bounded(keys, 0.25, threads=1)
    assert np.array_equal(ring.assign_bounded(keys, 0.25, threads=2), one)
    counts = np.bincount(one, minlength=len(ring))
    assert counts.max() <= math.ceil(1.25 * len(keys) / len(ring))


@pytest.mark.parametrize("cls", [Core, Ref], ids=["core", "reference"])
def test_bounded_loads_edges(cls):
    ring = make(cls)
    for bad in (0, 0.0, -0.1, math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="epsilon"):
            ring.assign_bounded(KEYS[:3], bad)
    for bad in ("0.1", None, True, [0.1]):
        with pytest.raises(TypeError, match="epsilon"):
            ring.assign_bounded(KEYS[:3], bad)
    assert ring.assign_bounded([], 0.5).shape == (0,)
    assert cls([]).assign_bounded([], 0.5).shape == (0,)
    with pytest.raises(ringcore.EmptyRingError):
        cls([]).assign_bounded(["a"], 0.5)
    got = ring.assign_bounded(["a", None, "b", None], 0.5, null=-3)
    assert got[[1, 3]].tolist() == [-3, -3]
    assert np.array_equal(got[[0, 2]], ring.assign_bounded(["a", "b"], 0.5))
    # a huge epsilon: nobody is ever full; every key keeps its owner
    assert np.array_equal(ring.assign_bounded(KEYS, 1e300), ring.route(KEYS))


def test_bounded_loads_capacity_checks_in_the_core():
    layout = make().snapshot()
    start = np.zeros(10, dtype=np.int32)
    out = np.empty(10, dtype=np.int32)
    with pytest.raises(ValueError, match="capacities"):  # room for 5 of 10 keys
        layout.assign_bounded_into(start, np.ones(5, dtype=np.int64), -1, out)
    with pytest.raises(ValueError, match="capacities"):  # a point index past the ring
        layout.assign_bounded_into(np.full(10, 10**6, dtype=np.int32),
                                   np.full(5, 10, dtype=np.int64), -1, out)
    with pytest.raises(ValueError, match="one value per node"):
        layout.assign_bounded_into(start, np.ones(4, dtype=np.int64), -1, out)
    load = layout.assign_bounded_into(start, np.full(5, 2, dtype=np.int64), -1, out)
    assert load.tolist() == [2] * 5


# -- loads -----------------------------------------------------------------------------


@given(ring_configs(max_points=600), key_lists)
def test_load_agrees_with_the_reference_and_counts_route(cfg, keys):
    core, ref = cfg.build(Core), cfg.build(Ref)
    keys = [k for k in keys if k is not None]
    got = core.load(keys)
    assert got == ref.load(keys)
    assert got.counts.tolist() == np.bincount(core.route(keys), minlength=len(core)).tolist()
    assert got.total == len(keys) and got.nodes == core.nodes


def test_load_summary():
    load = Load(("a", "b", "c", "d"), [10, 30, 20, 20])
    assert load.mean == 20 and load.max_over_mean == 1.5
    assert load.stdev_over_mean == pytest.approx(math.sqrt(50) / 20)
    assert load.most == ("b", 30) and load.least == ("a", 10)
    assert load.as_dict() == {"a": 10, "b": 30, "c": 20, "d": 20}
    assert "max/mean=1.500" in repr(load)
    assert not load.counts.flags.writeable
    empty = Load((), [])
    assert empty.total == 0 and math.isnan(empty.max_over_mean)
    with pytest.raises(ValueError, match="one count per node"):
        Load(("a",), [1, 2])


def test_load_skip_nulls(cls):
    ring = make(cls)
    with pytest.raises(TypeError, match=r"keys\[1\]"):
        ring.load(["a", None])
    assert ring.load(["a", None, "b"], skip_nulls=True).total == 2
    with pytest.raises(TypeError, match="skip_nulls"):
        ring.load(["a"], skip_nulls=1)


# -- snapshots and versions ------------------------------------------------------------


def test_snapshot_is_one_version_that_updates_do_not_change():
    ring = make()
    snap = ring.snapshot()
    assert isinstance(snap, RingLayout) and snap.version == ring.version == 0
    before = snap.route(KEYS)
    ring.add_node("f")
    ring.remove_node("a")
    assert ring.version == 2 and snap.version == 0
    assert snap.nodes == tuple(NODES) and np.array_equal(snap.route(KEYS), before)
    assert ring.snapshot().version == 2 and ring.snapshot() is ring.snapshot()
    # a failed update changes no version
    with pytest.raises(KeyError):
        ring.remove_node("zz")
    assert ring.version == 2


def test_versions_survive_pickle_and_do_not_change_equality(cls):
    ring = make(cls)
    ring.add_node("f")
    again = pickle.loads(pickle.dumps(ring))
    assert again.version == ring.version == 1
    assert again == ring and make(cls) != ring
    fresh = make(cls)
    fresh.add_node("f")
    rebuilt = cls({**NODES, "f": 1.0}, vnodes=40)
    assert rebuilt == fresh and rebuilt.version == 0 and fresh.version == 1
    if cls is Core:
        snap = pickle.loads(pickle.dumps(ring.snapshot()))
        assert snap.version == 1 and snap == ring.snapshot()


def test_snapshot_pattern_under_concurrent_updates():
    """Names and indices read from one snapshot always agree, while another
    thread adds and removes nodes."""
    ring = make(vnodes=20)
    stop = threading.Event()

    def churn():
        while not stop.is_set():
            ring.add_node("tmp")
            ring.remove_node("tmp")

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        for _ in range(200):
            snap = ring.snapshot()
            owners = snap.route(KEYS[:200])
            names = [snap.nodes[i] for i in owners.tolist()]
            assert names == [snap.get_node(k) for k in KEYS[:200]]
            rows = snap.route_replicas(KEYS[:50], 2)
            assert np.array_equal(rows[:, 0], owners[:50])
    finally:
        stop.set()
        worker.join()


# -- zones -----------------------------------------------------------------------------

ZONED = {"a": {"weight": 2, "zone": "eu-1a"}, "b": {"zone": "eu-1a"}, "c": {"zone": "eu-1b"},
         "d": 1.5, "e": {"weight": 0.5, "zone": "eu-1c"}, "f": {"zone": "eu-1b"}}


@st.composite
def zoned_rings(draw):
    cfg = draw(ring_configs(min_nodes=1, max_nodes=9, max_points=900))
    zones = st.one_of(st.none(), st.sampled_from(["z1", "z2", "z3", "zone é"]))
    nodes = {name: {"weight": w, "zone": draw(zones)} for name, w in cfg.weights.items()}
    return nodes, cfg.vnodes


def zone_count(ring):
    return len({("zone", z) if z is not None else ("node", name)
                for name, z in ring.zones.items()})


@given(zoned_rings(), st.lists(st.text(max_size=8), max_size=60), st.data())
def test_distinct_zone_replicas_agree_and_never_repeat_a_zone(rings, keys, data):
    nodes, vnodes = rings
    core, ref = Core(nodes, vnodes=vnodes), Ref(nodes, vnodes=vnodes)
    assert core.zones == ref.zones == {name: s["zone"] for name, s in nodes.items()}
    n = data.draw(st.integers(0, zone_count(core)))
    got = core.route_replicas(keys, n, distinct_zones=True)
    assert np.array_equal(got, ref.route_replicas(keys, n, distinct_zones=True))
    for key, row in zip(keys, got.tolist()):
        names = [core.nodes[i] for i in row]
        if n:
            assert names == core.get_nodes(key, n, distinct_zones=True)
            assert names == ref.get_nodes(key, n, distinct_zones=True)
            assert names[0] == core.get_node(key)
        marks = [core.zones[m] or ("node", m) for m in names]
        assert len(set(marks)) == len(marks)


def test_zones_without_zones_are_the_node_walk():
    ring = make()
    keys = KEYS[:500]
    assert np.array_equal(ring.route_replicas(keys, 4, distinct_zones=True),
                          ring.route_replicas(keys, 4))
    assert ring.get_nodes("k", 3, distinct_zones=True) == ring.get_nodes("k", 3)


def test_distinct_zones_walk_skips_a_taken_zone():
    """Checked against a walk written here over the ring's points."""
    ring = Core(ZONED, vnodes=30)
    positions, owners = ring.positions, ring.owners
    for key in KEYS[:300]:
        h = int(ring.hash_keys([key])[0])
        i = int(np.searchsorted(positions, np.uint64(h), side="left")) % len(positions)
        taken, zones = [], set()
        while len(taken) < 4:
            name = ring.nodes[owners[i]]
            zone = ring.zones[name] or name
            if zone not in zones:
                zones.add(zone)
                taken.append(name)
            i = (i + 1) % len(positions)
        assert ring.get_nodes(key, 4, distinct_zones=True) == taken


@pytest.mark.parametrize("cls", [Core, Ref], ids=["core", "reference"])
def test_zone_settings_and_errors(cls):
    ring = cls(ZONED, vnodes=10)
    assert ring.zones["a"] == "eu-1a" and ring.zones["d"] is None
    assert ring.weights["a"] == 2.0 and ring.weights["b"] == 1.0
    assert "'zone': 'eu-1a'" in repr(ring)
    assert zone_count(ring) == 4
    with pytest.raises(ValueError, match="number of zones"):
        ring.get_nodes("k", 5, distinct_zones=True)
    with pytest.raises(ValueError, match="number of zones"):
        ring.route_replicas(["k"], 5, distinct_zones=True)
    with pytest.raises(ValueError, match="number of nodes"):
        ring.get_nodes("k", 7, distinct_zones=True)
    with pytest.raises(TypeError, match="distinct_zones"):
        ring.get_nodes("k", 2, distinct_zones=1)
    with pytest.raises(TypeError, match="distinct_zones"):
        ring.route_replicas(["k"], 2, distinct_zones="yes")
    with pytest.raises(ValueError, match="unknown setting 'vnodes'"):
        cls({"a": {"weight": 1, "vnodes": 3}})
    with pytest.raises(TypeError, match="zone of node 'a'"):
        cls({"a": {"zone": 3}})
    with pytest.raises(ValueError, match="zone of node 'a'"):
        cls({"a": {"zone": ""}})
    with pytest.raises(ValueError, match="weight of node 'a'"):
        cls({"a": {"weight": 0, "zone": "z"}})
    before = ring.zones
    with pytest.raises(TypeError, match="zone of node 'g'"):
        ring.add_node("g", zone=b"eu")
    assert ring.zones == before and "g" not in ring
    ring.add_node("g", 1.0, "eu-1d")
    assert ring.zones["g"] == "eu-1d" and zone_count(ring) == 5
    ring.remove_node("a")
    assert "a" not in ring.zones and ring.zones["b"] == "eu-1a"


@pytest.mark.parametrize("cls", [Core, Ref], ids=["core", "reference"])
def test_zones_survive_pickle_and_take_part_in_equality(cls):
    ring = cls(ZONED, vnodes=10)
    again = pickle.loads(pickle.dumps(ring))
    assert again == ring and again.zones == ring.zones
    unzoned = cls({name: s if not isinstance(s, dict) else s.get("weight", 1)
                   for name, s in ZONED.items()}, vnodes=10)
    assert unzoned != ring
    assert np.array_equal(unzoned.positions, ring.positions)  # zones place no points
    if cls is Core:
        snap = pickle.loads(pickle.dumps(ring.snapshot()))
        assert snap.zones == ring.zones and snap == ring.snapshot()
        assert RingLayout.from_arrays(ZONED, ring.positions, ring.owners, vnodes=10) == snap


def test_zone_names_are_plain_str():
    class Zone(str):
        pass

    ring = Core({"a": {"zone": Zone("z")}})
    assert type(ring.zones["a"]) is str
    ring.add_node("b", zone=Zone("y"))
    assert type(ring.zones["b"]) is str


# -- names in batch --------------------------------------------------------------------


def test_names_of_is_vectorised_over_the_snapshot_nodes():
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    snap = make().snapshot()
    owners = snap.route(KEYS[:100] + [None], null=-1)
    expected = [snap.get_node(k) for k in KEYS[:100]] + [None]
    cat = snap.names_of(owners)
    assert isinstance(cat, pd.Categorical) and list(cat.categories) == list(snap.nodes)
    assert [None if pd.isna(v) else v for v in cat] == expected
    arr = snap.names_of(owners, format="arrow")
    assert isinstance(arr, pa.DictionaryArray)
    assert arr.dictionary.to_pylist() == list(snap.nodes) and arr.to_pylist() == expected
    assert arr.null_count == 1
    empty = snap.names_of(np.empty(0, dtype=np.int32), format="arrow")
    assert len(empty) == 0 and empty.dictionary.to_pylist() == list(snap.nodes)
    with pytest.raises(ValueError, match="past the 5 nodes"):
        snap.names_of(np.array([0, 5]))
    with pytest.raises(ValueError, match="format"):
        snap.names_of(owners, format="polars")
    with pytest.raises(TypeError, match="1-D"):
        snap.names_of(snap.route_replicas(KEYS[:3], 2))
    with pytest.raises(TypeError, match="1-D"):
        snap.names_of(np.array([0.0, 1.0]))


def test_replica_rows_from_many_threads_at_once():
    """Threads asking for rows of several n (and zones) on one snapshot: every
    answer right, the kept rows bounded, no error from the shared cache."""
    snap = Core(ZONED, vnodes=50).snapshot()
    keys = np.arange(20_000, dtype=np.uint64)
    expected = {(n, z): Ref(ZONED, vnodes=50).route_replicas(keys[:300], n, distinct_zones=z)
                for n in (1, 2, 3) for z in (False, True)}
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(30):
                n, z = int(rng.integers(1, 4)), bool(rng.integers(0, 2))
                got = snap.route_replicas(keys, n, distinct_zones=z)
                assert np.array_equal(got[:300], expected[(n, z)])
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert len(snap.derived) <= 2


def test_take_rows_edges():
    from ringcore._layout import take_rows

    buf = np.arange(16, dtype=np.int32)  # rows and out over the same memory: moved, not garbled
    take_rows(buf[1:13].reshape(3, 4), np.array([0, 1, 2], np.int32), buf[0:12].reshape(3, 4), -1)
    assert buf[:12].tolist() == list(range(1, 13))
    out = np.zeros((1, 1), np.int32)
    take_rows(np.zeros((0, 1), np.int32), np.array([-1], np.int32), out, -5)  # no rows: nulls
    assert out.tolist() == [[-5]]
    with pytest.raises(ValueError, match=r"indices\[0\] = 5"):
        take_rows(np.zeros((2, 0), np.int32), np.array([5], np.int32), np.zeros((1, 0), np.int32), -1)
    with pytest.raises(ValueError, match=r"indices\[1\] = 0"):
        take_rows(np.zeros((0, 2), np.int32), np.array([-1, 0], np.int32), np.zeros((2, 2), np.int32), 0)
