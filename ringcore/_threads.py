"""Splitting batch work across threads; the kernels run without the GIL."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, ThreadPoolExecutor

# Below this many keys per thread, starting threads costs more than it saves
# (measured with `ringcore bench`: a 64k-key slice takes about 0.2 ms).
MIN_KEYS_PER_THREAD = 1 << 16

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def thread_count(n: int, threads: int | None) -> int:
    """How many threads to use for n keys: `threads` if given (at most one per
    core: the kernels are CPU-bound), else as many as there are cores, with at
    least MIN_KEYS_PER_THREAD keys each."""
    if threads is None:
        return max(1, min(cpu_count(), n // MIN_KEYS_PER_THREAD))
    return max(1, min(threads, cpu_count(), n))


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(2, cpu_count()), thread_name_prefix="ringcore")
        return _pool


def _stop_pool_before_fork() -> None:
    """Let the pool's threads finish before a fork: a child then starts with
    no lock held by a thread it does not have, and Python 3.12+ has no
    reason to warn that the process forks with threads running. No new pool
    starts until the fork is done (_pool_lock is held until then)."""
    global _pool
    _pool_lock.acquire()
    pool, _pool = _pool, None
    if pool is None:
        return
    workers = [t.native_id for t in getattr(pool, "_threads", ())]
    pool.shutdown(wait=True)
    # join() returns when a thread's Python state is gone, a moment before the
    # OS thread is: wait (briefly) until the OS has no such thread either.
    deadline = time.monotonic() + 0.1
    for native_id in workers:
        while (
            native_id is not None
            and os.path.exists(f"/proc/self/task/{native_id}")
            and time.monotonic() < deadline
        ):
            time.sleep(0.0002)


def _release_pool_after_fork() -> None:
    _pool_lock.release()


def _forget_pool_after_fork() -> None:
    # The child has no thread that could release the lock (the pool is gone already).
    global _pool_lock
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    # Registered after concurrent.futures' own hook (imported above), so it
    # runs before it: shutting the pool down takes a lock that hook holds.
    os.register_at_fork(
        before=_stop_pool_before_fork,
        after_in_parent=_release_pool_after_fork,
        after_in_child=_forget_pool_after_fork,
    )


def run_split(n: int, threads: int, work: Callable[[int, int], None]) -> None:
    """Call work(start, stop) over [0, n) cut into `threads` ranges, in parallel.
    Returns only when every range is done; an error in the earliest failing
    range is the one raised."""
    if threads <= 1 or n < 2:
        work(0, n)
        return
    bounds = [n * i // threads for i in range(threads + 1)]
    futures = {}
    for i in range(1, threads):
        try:
            futures[i] = _executor().submit(work, bounds[i], bounds[i + 1])
        except RuntimeError:  # the pool is stopping (a fork, interpreter exit): work here
            break
    errors: list[BaseException | None] = [None] * threads
    for i in range(threads):
        if i not in futures:
            try:
                work(bounds[i], bounds[i + 1])
            except BaseException as err:  # noqa: BLE001 - re-raised below, after the others finish
                errors[i] = err
    interrupted: BaseException | None = None
    for i, future in futures.items():
        # every range must finish before this returns, whatever happens meanwhile:
        # the work writes into memory that the caller may free once it returns
        while True:
            try:
                errors[i] = future.exception()
                break
            except CancelledError as err:  # never ran: nothing to wait for
                errors[i] = err
                break
            except BaseException as err:  # noqa: BLE001 - an interrupt: raised once all are done
                interrupted = interrupted or err
    if interrupted is not None:
        raise interrupted
    first_error = next((err for err in errors if err is not None), None)
    if first_error is not None:
        raise first_error
