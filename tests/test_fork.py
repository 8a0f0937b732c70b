"""Forking a process that uses rings: the child never hangs and answers right.

Each test runs a small script in a subprocess (with a timeout) that forks many
times: while another thread is inside add_node/remove_node (holding the ring's
private write lock), while other threads route batches with threads=2 and the
thread pool is busy, after threaded routing with no other thread alive (no
DeprecationWarning about forking with threads on Python 3.12+), and through
multiprocessing's "fork" start method. Every child runs under an alarm and
ends with os._exit; the parent reaps it with a deadline and kills it if late.

RINGCORE_STRESS_SECONDS (default 2) sets how long the fork loops run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ringcore

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

SECONDS = float(os.environ.get("RINGCORE_STRESS_SECONDS", "2"))
# Each loop runs for a share of SECONDS; the subprocess gets generous slack.
TIMEOUT = 90 + 3 * SECONDS

# Helpers every script starts with.
PRELUDE = textwrap.dedent("""
    import os, signal, sys, threading, time, traceback
    import numpy as np
    import ringcore

    CHILD_ALARM = 30     # seconds a child may take before SIGALRM kills it
    CHILD_DEADLINE = 40  # seconds the parent waits for a child before killing it

    def run_child(body):
        # In a forked child: run body() -> exit code, never return, never hang.
        signal.alarm(CHILD_ALARM)  # the default action kills a stuck child
        code = 2
        try:
            code = body()
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def reap(pid):
        # The child's exit code, or a description of how it failed to exit.
        deadline = time.monotonic() + CHILD_DEADLINE
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                if os.WIFSIGNALED(status):
                    return f"killed by signal {os.WTERMSIG(status)}"
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "hung (killed by the parent)"
            time.sleep(0.001)

    def fork_and_check(body):
        pid = os.fork()
        if pid == 0:
            run_child(body)
        return reap(pid)
""")


def run_script(body: str, *args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    script = PRELUDE + textwrap.dedent(body)
    # Run beside the ringcore under test: `-c` puts the working directory
    # first on sys.path, and a checkout's root holds an unbuilt source tree.
    where = str(Path(ringcore.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=where, RINGCORE_STRESS_SECONDS=str(SECONDS))
    try:
        done = subprocess.run([python, *args, "-c", script], env=env, timeout=TIMEOUT,
                              capture_output=True, text=True, cwd=where)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"the script hung for {TIMEOUT} s; stdout: {err.stdout!r} stderr: {err.stderr!r}")
    print(done.stdout, end="")
    assert done.returncode == 0, f"exit code {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_fork_while_another_thread_holds_the_write_lock():
    done = run_script("""
        SECONDS = float(os.environ["RINGCORE_STRESS_SECONDS"])
        VNODES = 160
        ring = ringcore.HashRing({f"n{i}": 1 + i % 3 for i in range(30)}, vnodes=VNODES)
        keys = np.arange(50_000, dtype=np.uint64)
        # The child finds the ring as it was (before or after some write of
        # the writer thread, which does not exist in the child) and must be
        # able to write to it and route with it.
        def child():
            if ring._write_lock.locked():
                print("the child inherited a held write lock")
                return 4
            ring.add_node("child-node", 1.5)
            if "w" in ring:
                ring.remove_node("w")
            ring.add_node("w", 0.75)
            for threads in (1, 2):
                idx, nodes = ring.route(keys, threads=threads, return_nodes=True)
                fresh = ringcore.HashRing(ring.weights, vnodes=VNODES)
                if nodes != fresh.nodes or not np.array_equal(idx, fresh.route(keys)):
                    print("the child routes differently from a fresh ring")
                    return 3
            ring.remove_node("child-node")
            ring.remove_node("w")
            return 0

        failures, forks, held = [], 0, 0

        # 1. A thread holds the lock (as add_node does) and waits: every fork
        #    happens with it held.
        for _ in range(10):
            holding, release = threading.Event(), threading.Event()
            def holder():
                with ring._write_lock:
                    holding.set()
                    release.wait()
            t = threading.Thread(target=holder)
            t.start()
            holding.wait()
            held += ring._write_lock.locked()
            result = fork_and_check(child)
            forks += 1
            release.set()
            t.join()
            if result != 0:
                failures.append(("holder", result))
        assert held == 10

        # 2. A writer adds and removes nodes nonstop; fork at random moments.
        stop, writes = threading.Event(), [0]
        def writer():
            while not stop.is_set():
                ring.add_node("w", 2.0)
                ring.remove_node("w")
                writes[0] += 2
        sys.setswitchinterval(1e-5)  # hand the GIL over often, mid-write too
        t = threading.Thread(target=writer)
        t.start()
        deadline = time.monotonic() + SECONDS / 2
        while time.monotonic() < deadline or forks < 10 + 20:
            held += ring._write_lock.locked()
            result = fork_and_check(child)
            forks += 1
            if result != 0:
                failures.append(("writer", result))
                break
        stop.set()
        t.join()
        # The parent's ring is still writable and consistent.
        ring.add_node("after", 1.0)
        ring.remove_node("after")
        assert sorted(ring.nodes) == sorted(f"n{i}" for i in range(30)), ring.nodes
        print(f"forks={forks} lock_held_just_before_fork={held} writes={writes[0]}")
        sys.exit(f"children failed: {failures}" if failures else 0)
    """)
    assert "forks=" in done.stdout


def test_fork_while_threads_route_and_the_pool_is_busy():
    pytest.importorskip("pyarrow")  # the script routes an Arrow array too
    done = run_script("""
        SECONDS = float(os.environ["RINGCORE_STRESS_SECONDS"])
        import pyarrow as pa
        ring = ringcore.HashRing({f"n{i}": 1 + i % 4 for i in range(40)}, vnodes=100)
        # Over 2 x 65,536 keys: threads=None splits them too.
        ints = np.random.default_rng(3).integers(0, 2**63, size=150_000, dtype=np.uint64)
        strs = pa.array([f"key-{i}-é" for i in range(140_000)])
        want_ints = ring.route(ints, threads=1)
        want_strs = ring.route(strs, threads=1)
        want_hash = ring.hash_keys(ints, threads=1)
        assert ringcore._threads.thread_count(len(ints), 2) == 2, "one CPU: no split"

        stop, batches, errors = threading.Event(), [0], []
        def reader():
            try:
                while not stop.is_set():
                    assert np.array_equal(ring.route(ints, threads=2), want_ints)
                    assert np.array_equal(ring.route(strs), want_strs)
                    batches[0] += 2
            except BaseException as err:
                errors.append(repr(err))
                stop.set()
        readers = [threading.Thread(target=reader) for _ in range(2)]
        for t in readers:
            t.start()

        def child():
            for _ in range(2):  # the second time, the child's new pool is reused
                if not np.array_equal(ring.route(ints, threads=2), want_ints):
                    return 3
                if not np.array_equal(ring.route(strs, threads=2), want_strs):
                    return 4
                if not np.array_equal(ring.route(ints), want_ints):
                    return 5
                if not np.array_equal(ring.hash_keys(ints, threads=2), want_hash):
                    return 6
            return 0

        failures, forks = [], 0
        deadline = time.monotonic() + SECONDS
        while (time.monotonic() < deadline or forks < 10) and not stop.is_set():
            result = fork_and_check(child)
            forks += 1
            if result != 0:
                failures.append(result)
                break
        stop.set()
        for t in readers:
            t.join(60)
        assert not errors, errors
        assert batches[0] > 0
        # The parent's pool still splits and answers right after all the forks.
        assert np.array_equal(ring.route(ints, threads=2), want_ints)
        print(f"forks={forks} reader_batches={batches[0]}")
        sys.exit(f"children failed: {failures}" if failures else 0)
    """)
    assert "forks=" in done.stdout


def test_fork_after_threaded_routing_does_not_warn():
    """The child of a process whose pool threads just routed a batch routes
    with threads=2 like the parent, and (Python 3.12+) forking warns of no
    running threads, since the pool stops before the fork. (This absorbs
    test_routing_in_a_forked_child_after_threaded_routing, formerly in
    test_robustness.py.)"""
    done = run_script("""
        import warnings
        SECONDS = float(os.environ["RINGCORE_STRESS_SECONDS"])
        ring = ringcore.HashRing([f"n{i}" for i in range(20)])
        keys = np.arange(300_000, dtype=np.uint64)
        want = ring.route(keys, threads=1)

        def child():
            return 0 if np.array_equal(ring.route(keys, threads=2), want) else 3

        failures, warned = [], []
        rounds = max(20, int(10 * SECONDS))
        for i in range(rounds):
            # The pool's threads are running (routing just used them) ...
            assert np.array_equal(ring.route(keys, threads=2), want)
            assert any(t.name.startswith("ringcore") for t in threading.enumerate())
            # ... but no thread of this script is.
            others = [t for t in threading.enumerate()
                      if t is not threading.main_thread() and not t.name.startswith("ringcore")]
            assert not others, others
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = fork_and_check(child)
            warned += [f"round {i}: {w.category.__name__}: {w.message}" for w in caught]
            if result != 0:
                failures.append(result)
        print(f"forks={rounds} warnings={len(warned)}")
        for line in warned:
            print(line)
        sys.exit(1 if warned or failures else 0)
    """, "-W", "error::DeprecationWarning")
    assert "warnings=0" in done.stdout, done.stdout


def test_multiprocessing_fork_uses_the_parents_ring():
    done = run_script("""
        import multiprocessing as mp
        import pickle
        RING = ringcore.HashRing({"a": 1.0, "b": 2.0, "c": 0.5}, vnodes=80)
        RING.add_node("dé", 1.5)
        RING.remove_node("a")
        RING.add_node("a", 1.0)  # now last: node order differs from a fresh dict order
        KEYS = np.random.default_rng(11).integers(0, 2**64 - 1, size=300_000, dtype=np.uint64)
        WANT, WANT_NODES = RING.route(KEYS, threads=2, return_nodes=True)

        def route_chunk(bounds):
            lo, hi = bounds
            return RING.route(KEYS[lo:hi], threads=2, return_nodes=True)

        def route_with(ring, keys):
            return ring.route(keys), ring.nodes

        def mutate_own_copy(queue):
            RING.add_node("child-only", 3.0)
            RING.remove_node("b")
            queue.put((RING.nodes, RING.route(KEYS[:1000]).tolist()))

        ctx = mp.get_context("fork")
        chunks = [(i, min(i + 70_000, len(KEYS))) for i in range(0, len(KEYS), 70_000)]
        with ctx.Pool(2) as pool:
            parts = pool.map_async(route_chunk, chunks).get(timeout=60)
            assert all(nodes == WANT_NODES for _, nodes in parts)
            assert np.array_equal(np.concatenate([idx for idx, _ in parts]), WANT)
            # A ring passed as an argument is pickled: it keeps its node order.
            routed = pool.starmap_async(route_with, [(RING, KEYS[lo:hi]) for lo, hi in chunks])
            got = routed.get(timeout=60)
            assert all(nodes == WANT_NODES for _, nodes in got)
            assert np.array_equal(np.concatenate([idx for idx, _ in got]), WANT)
        queue = ctx.Queue()
        proc = ctx.Process(target=mutate_own_copy, args=(queue,))
        proc.start()
        child_nodes, child_routed = queue.get(timeout=60)
        proc.join(60)
        assert proc.exitcode == 0, proc.exitcode
        assert child_nodes == ("c", "dé", "a", "child-only"), child_nodes
        expected_child = ringcore.HashRing(
            {"c": 0.5, "dé": 1.5, "a": 1.0, "child-only": 3.0}, vnodes=80)
        assert child_routed == expected_child.route(KEYS[:1000]).tolist()
        # The parent's ring did not change.
        assert RING.nodes == WANT_NODES == ("b", "c", "dé", "a")
        assert np.array_equal(RING.route(KEYS), WANT)
        print(f"chunks={len(chunks)} keys={len(KEYS)}")
    """)
    assert "chunks=" in done.stdout
