"""Stress: reader threads route every input format while writer threads add
and remove nodes; every answer is the whole answer of one ring version.

Two writers move the ring through a small, closed set of versions (weights
included, node order included). Before the threads start, the answer of every
one of those versions is computed on frozen rings, single-threaded, and
spot-checked against the pure-Python reference. Then, for every batch a reader
gets back:

* without ``return_nodes``: the int32 result is byte for byte the answer of
  exactly one version, never a mixture of two;
* with ``return_nodes=True``: the returned names tuple is one of the versions,
  the indices are that version's answer, and mapping the indices through the
  tuple gives the owner names that version assigns.

Single-key calls (``get_node``, ``get_nodes``) must answer as some version
does. Batches run with ``threads=1`` and with ``threads=2``/``None`` on
batches large enough (>= 2 x 65,536 keys) that the thread pool splits them.

How long each stress test runs: ``RINGCORE_STRESS_SECONDS`` (default 2).
``pytest -s`` shows the counts (lookups, batches, keys, writes, seconds); they
are also recorded as junit test-suite properties (``--junitxml``).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

import ringcore
from ringcore import _threads, reference

pa = pytest.importorskip("pyarrow")

try:
    import pandas as pd
except ImportError:  # pragma: no cover - pandas is a test extra
    pd = None
try:
    import polars as pl
except ImportError:  # pragma: no cover - polars is a test extra
    pl = None

SECONDS = float(os.environ.get("RINGCORE_STRESS_SECONDS", "2"))

VNODES = 40
BASE = {f"base-{i}": (0.5, 1.0, 1.5, 2.0)[i % 4] for i in range(11)} | {"nœud-é": 1.25}
# Writer A walks a cycle of four states, writer B toggles one node.
EXTRA_WEIGHTS = {"a-one": 0.5, "a-two-🙂": 2.0, "b-one": 1.5}
A_CYCLE = [("add", "a-one"), ("add", "a-two-🙂"), ("remove", "a-one"), ("remove", "a-two-🙂")]
B_CYCLE = [("add", "b-one"), ("remove", "b-one")]

# Enough keys that threads=None splits a batch across two pool threads.
N = 2 * _threads.MIN_KEYS_PER_THREAD + 4034  # even, for the 2-D format
REFERENCE_SAMPLE = 1500
PROBE_COUNT = 240
NULL = -7


def version_tails() -> list[tuple[str, ...]]:
    """Every tail of extra nodes (in insertion order) the two writers can
    leave after the base nodes: A's nodes as its cycle has them, and B's
    node, when present, anywhere among them."""
    tails = []
    for a_state in [(), ("a-one",), ("a-one", "a-two-🙂"), ("a-two-🙂",)]:
        tails.append(a_state)
        for position in range(len(a_state) + 1):
            tails.append(a_state[:position] + ("b-one",) + a_state[position:])
    return tails


def version_config(tail: tuple[str, ...]) -> dict[str, float]:
    return dict(BASE) | {name: EXTRA_WEIGHTS[name] for name in tail}


# -- the keys, as universes of logical keys, each in many formats --------------------


def make_universes() -> dict[str, list]:
    rng = np.random.default_rng(20260530)
    strs = [f"user:{i}" if i % 7 else f"ключ-{i}-é" for i in range(N)]
    i64 = rng.integers(-(2**63), 2**63 - 1, size=N, dtype=np.int64, endpoint=True)
    u32 = rng.integers(0, 2**32 - 1, size=N, dtype=np.uint32, endpoint=True)
    mixed: list = []
    for i in range(N):
        kind = i % 6
        if kind == 0:
            mixed.append(f"m{i}")
        elif kind == 1:
            mixed.append(f"m{i}".encode())
        elif kind == 2:
            mixed.append(i * 7919 - 2**40)
        elif kind == 3:
            mixed.append(f"ü{i}")
        elif kind == 4:
            mixed.append(2**64 - 1 - i)
        else:
            mixed.append(bytearray(f"ba{i}".encode()))
    with_nulls = [None if i % 97 == 5 else s for i, s in enumerate(strs)]
    hashes = np.frombuffer(rng.bytes(8 * N), dtype=np.uint64).copy()
    return {
        "str": strs,
        "i64": i64.tolist(),
        "u32": u32.tolist(),
        "mixed": mixed,
        "nulls": with_nulls,
        "hashes": hashes.tolist(),
    }


@dataclass
class Format:
    name: str
    universe: str
    data: object
    null: int | None = None
    hashes: bool = False  # route_hashes instead of route


def strided(array: np.ndarray, step: int) -> np.ndarray:
    """The same values, every step-th element of a larger array."""
    big = np.zeros(len(array) * step, dtype=array.dtype)
    big[::step] = array
    view = big[::step]
    assert not view.flags.contiguous
    return view


def make_formats(u: dict[str, list]) -> list[Format]:
    strs, raw = u["str"], [s.encode() for s in u["str"]]
    text = np.array(strs)
    i64 = np.array(u["i64"], dtype=np.int64)
    u32 = np.array(u["u32"], dtype=np.uint32)
    third = len(strs) // 3
    f = [
        Format("list[str]", "str", strs),
        Format("tuple[str]", "str", tuple(strs)),
        Format("numpy U", "str", text),
        Format("numpy U big-endian", "str", text.astype(text.dtype.newbyteorder(">"))),
        Format("numpy U 2-D", "str", text.reshape(2, -1)),
        Format("numpy S", "str", np.array(raw)),
        Format("numpy S strided", "str", strided(np.array(raw), 3)),
        Format("numpy object", "str", np.array(strs, dtype=object)),
        Format("arrow string", "str", pa.array(strs, pa.string())),
        Format("arrow string sliced", "str", pa.array(["pad"] + strs, pa.string()).slice(1)),
        Format("arrow large_string", "str", pa.array(strs, pa.large_string())),
        Format("arrow string_view", "str", pa.array(strs, pa.string_view())),
        Format("arrow binary", "str", pa.array(raw, pa.binary())),
        Format("arrow large_binary", "str", pa.array(raw, pa.large_binary())),
        Format("arrow binary_view", "str", pa.array(raw, pa.binary_view())),
        Format("arrow dictionary", "str", pa.array(strs).dictionary_encode()),
        Format("arrow chunked string", "str", pa.chunked_array(
            [strs[:third], strs[third : 2 * third + 11], strs[2 * third + 11 :]])),
        Format("arrow chunked dictionary", "str", pa.chunked_array(
            [pa.array(strs[:third]).dictionary_encode(),
             pa.array(strs[third:]).dictionary_encode()])),
        Format("numpy int64", "i64", i64),
        Format("numpy int64 big-endian", "i64", i64.astype(">i8")),
        Format("numpy int64 strided", "i64", strided(i64, 2)),
        Format("list[int] (int64)", "i64", u["i64"]),
        Format("arrow int64", "i64", pa.array(i64)),
        Format("arrow chunked int64", "i64", pa.chunked_array([i64[:third], i64[third:]])),
        Format("numpy uint32", "u32", u32),
        Format("numpy uint32 big-endian", "u32", u32.astype(">u4")),
        Format("numpy uint32 strided", "u32", strided(u32, 3)),
        Format("arrow uint32", "u32", pa.array(u32)),
        Format("arrow dictionary uint32", "u32", pa.array(u32).dictionary_encode()),
        Format("list[mixed]", "mixed", u["mixed"]),
        Format("tuple[mixed]", "mixed", tuple(u["mixed"])),
        Format("numpy object mixed", "mixed", np.array(u["mixed"], dtype=object)),
        Format("list with None (null=-7)", "nulls", u["nulls"], null=NULL),
        Format("arrow string with nulls (null=-7)", "nulls", pa.array(u["nulls"]), null=NULL),
        Format("route_hashes uint64", "hashes", np.array(u["hashes"], dtype=np.uint64),
               hashes=True),
        Format("route_hashes uint64 strided", "hashes",
               strided(np.array(u["hashes"], dtype=np.uint64), 2), hashes=True),
    ]
    if hasattr(np, "dtypes") and hasattr(np.dtypes, "StringDType"):
        f.append(Format("numpy StringDType", "str", np.array(strs, dtype=np.dtypes.StringDType())))
    if pd is not None:
        f += [
            Format("pandas string[pyarrow]", "str", pd.Series(strs, dtype="string[pyarrow]")),
            Format("pandas ArrowDtype(large_string)", "str",
                   pd.Series(pa.array(strs, pa.large_string()), dtype=pd.ArrowDtype(pa.large_string()))),
            Format("pandas object", "str", pd.Series(strs, dtype=object)),
            Format("pandas int64[pyarrow]", "i64", pd.Series(i64, dtype="int64[pyarrow]")),
            Format("pandas int64", "i64", pd.Series(i64)),
            Format("pandas string[pyarrow] with nulls (null=-7)", "nulls",
                   pd.Series(u["nulls"], dtype="string[pyarrow]"), null=NULL),
        ]
    if pl is not None:
        f += [
            Format("polars String", "str", pl.Series(strs, dtype=pl.String)),
            Format("polars Categorical", "str", pl.Series(strs, dtype=pl.Categorical)),
            Format("polars Int64", "i64", pl.Series(i64)),
            Format("polars UInt32", "u32", pl.Series(u32)),
        ]
    return f


# -- every version's answers -------------------------------------------------------------


@dataclass
class World:
    tails: list[tuple[str, ...]]
    versions: dict[tuple[str, ...], int]  # nodes tuple -> version number
    formats: list[Format]
    expected: dict[str, list[np.ndarray]]  # universe -> answer of each version
    by_bytes: dict[str, dict[bytes, int]]  # universe -> answer bytes -> version
    owner_ids: dict[str, list[np.ndarray]]  # universe -> global owner id per key, per version
    name_ids: dict[str, int]  # every node name -> global id
    hashes: dict[str, np.ndarray]  # universe -> hash_keys answer
    probe: list
    probe_node: list[set]
    probe_nodes3: list[set]
    probe_nodes_all: list[set]


def build_world() -> World:
    universes = make_universes()
    tails = version_tails()
    configs = [version_config(t) for t in tails]
    versions = {tuple(c): i for i, c in enumerate(configs)}
    assert len(versions) == len(tails) == 12
    name_ids = {name: i for i, name in enumerate(list(BASE) + list(EXTRA_WEIGHTS))}
    frozen = [ringcore.HashRing(c, vnodes=VNODES) for c in configs]
    rng = np.random.default_rng(7)
    sample = np.sort(rng.choice(N, size=REFERENCE_SAMPLE, replace=False))
    expected: dict[str, list[np.ndarray]] = {}
    by_bytes: dict[str, dict[bytes, int]] = {}
    owner_ids: dict[str, list[np.ndarray]] = {}
    for name, keys in universes.items():
        answers = []
        for ring in frozen:
            if name == "hashes":
                answers.append(ring.route_hashes(np.array(keys, dtype=np.uint64), threads=1))
            else:
                answers.append(ring.route(keys, threads=1, null=NULL if name == "nulls" else None))
        expected[name] = answers
        by_bytes[name] = {a.tobytes(): v for v, a in enumerate(answers)}
        # every version answers differently, so an answer names its version
        assert len(by_bytes[name]) == len(answers), name
        owner_ids[name] = []
        for ring, answer in zip(frozen, answers):
            lut = np.array([name_ids[n] for n in ring.nodes] + [-1], dtype=np.int64)
            owner_ids[name].append(lut[np.where(answer == NULL, len(ring.nodes), answer)])
    # the frozen rings answer as the pure-Python reference does
    for config, ring in zip(configs, frozen):
        ref = reference.HashRing(config, vnodes=VNODES)
        assert ref.nodes == ring.nodes
        for name, keys in universes.items():
            picked = [keys[i] for i in sample]
            v = versions[ring.nodes]
            if name == "hashes":
                want = ref.route_hashes(picked)
            else:
                want = ref.route(picked, null=NULL if name == "nulls" else None)
            assert np.array_equal(expected[name][v][sample], want), (name, ring.nodes)
    hashes = {name: frozen[0].hash_keys(keys, threads=1)
              for name, keys in universes.items() if name not in ("nulls", "hashes")}
    for name, h in hashes.items():
        picked = [universes[name][i] for i in sample[:200]]
        assert np.array_equal(h[sample[:200]], reference.HashRing().hash_keys(picked)), name
    probe: list = []
    for i in range(PROBE_COUNT):
        probe.append([f"p{i}", f"prøbe-{i}", f"p{i}".encode(), i * 1_000_003 - 2**62,
                      np.uint32(i * 77), 2**64 - 1 - i][i % 6])
    probe_node = [{r.get_node(k) for r in frozen} for k in probe]
    probe_nodes3 = [{tuple(r.get_nodes(k, 3)) for r in frozen} for k in probe]
    probe_nodes_all = [{tuple(r.get_nodes(k, len(BASE))) for r in frozen} for k in probe]
    # The probes tell versions apart somewhere (else the check would be empty).
    assert any(len(s) > 1 for s in probe_node)
    formats = make_formats(universes)
    world = World(tails, versions, formats, expected, by_bytes, owner_ids, name_ids, hashes,
                  probe, probe_node, probe_nodes3, probe_nodes_all)
    # Without writers, every format gives its universe's answer, on one
    # thread and split across two: a format bug shows here, not as a "mixture".
    base = frozen[0]
    for fmt in formats:
        for threads in (1, 2, None):
            got = call(base, fmt, threads, False)
            assert got.tobytes() == expected[fmt.universe][0].tobytes(), (fmt.name, threads)
    return world


def call(ring, fmt: Format, threads, return_nodes: bool):
    if fmt.hashes:
        return ring.route_hashes(fmt.data, threads=threads, return_nodes=return_nodes)
    return ring.route(fmt.data, threads=threads, null=fmt.null, return_nodes=return_nodes)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


# -- the threads ---------------------------------------------------------------------------


@dataclass
class Tally:
    batches: dict[str, int] = field(default_factory=dict)
    keys: int = 0
    hash_batches: int = 0
    single_lookups: int = 0
    writes: int = 0
    versions_seen: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_for(seconds: float, targets, finished_rounds: list[threading.Event]) -> None:
    """Run each target(stop) in its own thread for `seconds`, and longer if
    needed until every event in finished_rounds is set (each reader has been
    through every format once, however loaded the machine); re-raise the
    first failure (which also stops the others)."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def guarded(target):
        def body():
            try:
                target(stop)
            except BaseException as err:  # noqa: BLE001 - re-raised in the main thread
                errors.append(err)
                stop.set()
        return body

    workers = [threading.Thread(target=guarded(t), daemon=True) for t in targets]
    for w in workers:
        w.start()
    stop.wait(seconds)
    for done in finished_rounds:
        while not stop.is_set() and not done.wait(0.05):
            pass
    stop.set()
    for w in workers:
        w.join(timeout=60)
    assert not any(w.is_alive() for w in workers), "a stress thread did not finish"
    if errors:
        raise errors[0]


def writer(ring, cycle, tally: Tally):
    def body(stop):
        while not stop.is_set():
            for op, name in cycle:
                if op == "add":
                    ring.add_node(name, EXTRA_WEIGHTS[name])
                else:
                    ring.remove_node(name)
                with tally.lock:
                    tally.writes += 1
                if stop.is_set():
                    return
    return body


def check_batch(world: World, fmt: Format, got, return_nodes: bool, context: str) -> int:
    """Assert got is one whole version's answer; return that version."""
    if return_nodes:
        indices, nodes = got
        version = world.versions.get(nodes)
        assert version is not None, f"{context}: returned nodes {nodes} are no version"
        want = world.expected[fmt.universe][version]
        assert indices.shape == fmt_shape(fmt) and indices.dtype == np.int32
        if indices.tobytes() != want.tobytes():
            other = world.by_bytes[fmt.universe].get(indices.tobytes())
            raise AssertionError(
                f"{context}: indices are not the answer of the version whose nodes came back "
                f"(they are version {other})" if other is not None else
                f"{context}: indices are a mixture of versions"
                f" ({int((indices.reshape(-1) != want).sum())} keys differ from version {version})")
        lut = np.array([world.name_ids[n] for n in nodes] + [-1], dtype=np.int64)
        flat = indices.reshape(-1)
        owners = lut[np.where(flat == NULL, len(nodes), flat)]
        assert np.array_equal(owners, world.owner_ids[fmt.universe][version]), (
            f"{context}: owner names through the returned nodes differ from version {version}")
        return version
    assert got.shape == fmt_shape(fmt) and got.dtype == np.int32
    version = world.by_bytes[fmt.universe].get(got.tobytes())
    if version is None:
        diffs = [int((got.reshape(-1) != a).sum()) for a in world.expected[fmt.universe]]
        raise AssertionError(f"{context}: the answer is no single version; keys differing "
                             f"from each version: {diffs}")
    return version


def fmt_shape(fmt: Format) -> tuple[int, ...]:
    return fmt.data.shape if isinstance(fmt.data, np.ndarray) else (N,)


def batch_reader(ring, world: World, tally: Tally, worker: int, thread_args,
                 one_round: threading.Event):
    def body(stop):
        formats = world.formats
        i = worker * (len(formats) // 2)
        rounds = 0
        while not stop.is_set():
            fmt = formats[i % len(formats)]
            threads = thread_args[(i // len(formats) + worker) % len(thread_args)]
            return_nodes = (i // len(formats) + worker) % 2 == 0
            got = call(ring, fmt, threads, return_nodes)
            context = f"{fmt.name}, threads={threads}, return_nodes={return_nodes}"
            version = check_batch(world, fmt, got, return_nodes, context)
            if fmt.universe in world.hashes and rounds % 3 == worker % 3:
                hashed = ring.hash_keys(fmt.data, threads=threads)
                assert np.array_equal(hashed.reshape(-1), world.hashes[fmt.universe]), context
                with tally.lock:
                    tally.hash_batches += 1
            with tally.lock:
                tally.batches[fmt.name] = tally.batches.get(fmt.name, 0) + 1
                tally.keys += N
                tally.versions_seen.add(version)
            i += 1
            if i % len(formats) == 0:
                rounds += 1
            if i - worker * (len(formats) // 2) == len(formats):
                one_round.set()
    return body


def single_reader(ring, world: World, tally: Tally):
    def body(stop):
        all_nodes = len(BASE)
        while not stop.is_set():
            for j, key in enumerate(world.probe):
                got = ring.get_node(key)
                assert got in world.probe_node[j], (key, got)
                got3 = tuple(ring.get_nodes(key, 3))
                assert got3 in world.probe_nodes3[j], (key, got3)
                got_all = tuple(ring.get_nodes(key, all_nodes))
                assert got_all in world.probe_nodes_all[j], (key, got_all)
            with tally.lock:
                tally.single_lookups += 3 * len(world.probe)
    return body


def report(record, label: str, tally: Tally, seconds: float) -> None:
    batches = sum(tally.batches.values())
    lookups = tally.keys + tally.single_lookups
    line = (f"[{label}] {seconds:.1f} s: {lookups:,} lookups; {batches} batches "
            f"({tally.keys:,} keys routed, "
            f"{len(tally.batches)} formats), {tally.hash_batches} hash_keys batches, "
            f"{tally.single_lookups:,} single-key lookups, {tally.writes:,} writes, "
            f"{len(tally.versions_seen)} of 12 versions seen in batch answers")
    print("\n" + line)
    print("  per format: " + ", ".join(f"{k}={v}" for k, v in sorted(tally.batches.items())))
    for key, value in (("summary", line), ("lookups", lookups), ("batches", batches),
                       ("keys", tally.keys), ("single_lookups", tally.single_lookups),
                       ("writes", tally.writes), ("seconds", round(seconds, 2))):
        record(f"stress_{label}_{key}", value)


@pytest.mark.parametrize("threads", [1, 2], ids=["threads=1", "threads=2"])
def test_every_batch_is_one_whole_version_while_writers_run(world, threads,
                                                           record_testsuite_property):
    if threads == 2 and _threads.thread_count(N, None) < 2:
        pytest.skip("one CPU available: the pool would not split the batches")
    ring = ringcore.HashRing(BASE, vnodes=VNODES)
    tally = Tally()
    thread_args = (1,) if threads == 1 else (2, None)
    rounds = [threading.Event(), threading.Event()]
    started = time.monotonic()
    run_for(SECONDS, [
        writer(ring, A_CYCLE, tally),
        writer(ring, B_CYCLE, tally),
        batch_reader(ring, world, tally, 0, thread_args, rounds[0]),
        batch_reader(ring, world, tally, 1, thread_args, rounds[1]),
        single_reader(ring, world, tally),
    ], rounds)
    elapsed = time.monotonic() - started
    report(record_testsuite_property, f"threads={threads}", tally, elapsed)
    # Everything ran, and the writers really moved the ring between versions.
    assert tally.writes >= 4 and tally.single_lookups > 0
    assert set(tally.batches) == {f.name for f in world.formats}, "a format was never routed"
    assert len(tally.versions_seen) >= 2, "readers saw a single version: no race was exercised"
    # The ring ends as one of the versions, equal (node order included) to it.
    final = world.versions.get(ring.nodes)
    assert final is not None, ring.nodes
    assert ring == ringcore.HashRing(version_config(world.tails[final]), vnodes=VNODES)
    assert np.array_equal(ring.route(world.formats[0].data), world.expected["str"][final])
