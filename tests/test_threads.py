"""Readers in other threads never see a half-updated ring, and concurrent
batch routing gives the single-threaded answer."""

import signal
import threading
import time

import numpy as np
import pytest

import ringcore
from ringcore import _threads, reference

NODES = {f"node-{i}": 1.0 + (i % 3) * 0.5 for i in range(20)}
EXTRA = "extra-🙂"
STR_KEYS = [f"user:{i}" for i in range(3000)]
INT_KEYS = np.random.default_rng(99).integers(-(2**63), 2**63 - 1, size=20_000, dtype=np.int64)
PROBE = STR_KEYS[:40]
RUN_SECONDS = 1.5


def expected_answers():
    """Both possible answers, computed up front with the reference."""
    without = reference.HashRing(NODES, vnodes=64)
    with_extra = reference.HashRing(NODES, vnodes=64)
    with_extra.add_node(EXTRA, 2.0)
    return {
        "str": (without.route(STR_KEYS), with_extra.route(STR_KEYS)),
        "int": (without.route(INT_KEYS), with_extra.route(INT_KEYS)),
        "get_node": ([without.get_node(k) for k in PROBE], [with_extra.get_node(k) for k in PROBE]),
        "get_nodes": (
            [without.get_nodes(k, 3) for k in PROBE],
            [with_extra.get_nodes(k, 3) for k in PROBE],
        ),
        "positions": (without.positions, with_extra.positions),
    }


def run_threads(targets, seconds):
    errors = []
    stop = threading.Event()

    def wrap(fn):
        def body():
            try:
                fn(stop)
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)
                stop.set()

        return body

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stop.is_set():
        if not any(t.is_alive() for t in threads):
            break
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]


def test_readers_see_the_ring_before_or_after_each_update():
    expected = expected_answers()
    ring = ringcore.HashRing(NODES, vnodes=64)
    # the extra node is always last, so the other nodes' indices never change
    assert np.array_equal(ring.route(STR_KEYS), expected["str"][0])
    counts = {"writes": 0, "reads": 0, "seen_with": 0, "seen_without": 0}

    def writer(stop):
        while not stop.is_set():
            ring.add_node(EXTRA, 2.0)
            ring.remove_node(EXTRA)
            counts["writes"] += 1

    def classify(kind, got):
        without, with_extra = expected[kind]
        if isinstance(got, np.ndarray):
            is_without = np.array_equal(got, without)
            is_with = np.array_equal(got, with_extra)
        else:
            is_without, is_with = got == without, got == with_extra
        assert is_without or is_with, f"{kind}: a mix of the two rings"
        counts["seen_with" if is_with else "seen_without"] += 1
        counts["reads"] += 1

    def array_reader(stop):
        while not stop.is_set():
            classify("str", ring.route(STR_KEYS))
            classify("int", ring.route(INT_KEYS))
            classify("int", ring.route_hashes(ring.hash_keys(INT_KEYS)))

    def scalar_reader(stop):
        while not stop.is_set():
            # each call on its own sees one version; a whole list need not
            for i, key in enumerate(PROBE):
                got = ring.get_node(key)
                assert got in (expected["get_node"][0][i], expected["get_node"][1][i])
                got = ring.get_nodes(key, 3)
                assert got in (expected["get_nodes"][0][i], expected["get_nodes"][1][i])
            own = ring.ownership()
            assert set(own) in (set(NODES), set(NODES) | {EXTRA})
            assert abs(sum(own.values()) - 1.0) < 1e-12
            positions = ring.positions
            classify("positions", positions)
            counts["reads"] += 1

    run_threads([writer, array_reader, array_reader, scalar_reader], RUN_SECONDS)
    assert counts["writes"] > 0 and counts["reads"] > 0
    # the ring is back to the state without the extra node or has it
    assert ring.nodes in (tuple(NODES), tuple(NODES) + (EXTRA,))


def test_concurrent_route_matches_single_thread():
    ring = ringcore.HashRing({f"n{i}": 1 + i % 4 for i in range(100)}, vnodes=160)
    big_ints = np.random.default_rng(5).integers(0, 2**64 - 1, size=300_000, dtype=np.uint64)
    big_strs = [f"key-{i}-ü" for i in range(60_000)]
    expected_ints = ring.route(big_ints)
    expected_strs = ring.route(big_strs)
    expected_hashes = ring.hash_keys(big_ints)
    # the single-threaded answer itself is right (spot-checked against the reference)
    ref = reference.HashRing({f"n{i}": 1 + i % 4 for i in range(100)}, vnodes=160)
    assert np.array_equal(expected_strs[:2000], ref.route(big_strs[:2000]))
    assert np.array_equal(expected_ints[:2000], ref.route(big_ints[:2000]))
    rounds = []

    def worker(stop):
        done = 0
        while not stop.is_set() and done < 6:
            assert np.array_equal(ring.route(big_ints), expected_ints)
            assert np.array_equal(ring.route(big_strs), expected_strs)
            assert np.array_equal(ring.hash_keys(big_ints), expected_hashes)
            assert np.array_equal(ring.route_hashes(expected_hashes), expected_ints)
            done += 1
        rounds.append(done)

    run_threads([worker] * 4, RUN_SECONDS)
    assert len(rounds) == 4 and all(r >= 1 for r in rounds)


def test_concurrent_writers_serialise():
    """Writers in several threads each add and remove their own node; at the
    end the ring equals one built from the surviving nodes."""
    ring = ringcore.HashRing(NODES, vnodes=32)
    names = [f"writer-{i}" for i in range(4)]

    def writer_for(name):
        def body(stop):
            for _ in range(200):
                ring.add_node(name)
                ring.remove_node(name)
                if stop.is_set():
                    break
            ring.add_node(name)

        return body

    run_threads([writer_for(n) for n in names], 5.0)
    assert sorted(ring.nodes) == sorted(list(NODES) + names)
    fresh = ringcore.HashRing(ring.weights, vnodes=32)
    assert np.array_equal(ring.positions, fresh.positions)
    assert [ring.nodes[i] for i in ring.owners.tolist()] == [fresh.nodes[i] for i in fresh.owners.tolist()]


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")
def test_an_interrupt_waits_for_every_range_before_it_is_raised():
    # a range may be writing into memory that the caller frees once run_split returns
    finished = []

    def work(lo, hi):
        if lo > 0:  # the pool's range: still running when the interrupt comes
            time.sleep(0.5)
            finished.append(lo)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(KeyboardInterrupt):
            _threads.run_split(10, 2, work)
        assert finished == [5]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
