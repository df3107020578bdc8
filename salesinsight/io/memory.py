"""Arrow's allocator while exports are read: jemalloc, where the installed pyarrow has it.

pyarrow allocates with mimalloc by default. mimalloc commits its memory in large eager steps,
and where Linux backs such memory with transparent huge pages (the ``madvise`` setting most
distributions ship) the first large read of a process can wait on the system to fault those
pages in: in a fresh process, a 300k-deal export took 0.9 to 1.2 s to read (up to 0.6 s of it
system time) with mimalloc, and 0.89 to 0.90 s with jemalloc (0.77 to 0.78 s since other
work was moved beside the parse). So the reader switches Arrow's default pool to jemalloc while
it runs and back afterwards; what it allocated stays valid (each buffer keeps its pool). Without
jemalloc (pyarrow's Windows wheels) nothing changes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

__all__ = ["reading_pool"]

_lock = threading.Lock()
_readers = 0
_before: pa.MemoryPool | None = None


@contextmanager
def reading_pool() -> Iterator[None]:
    """Arrow's default memory pool is jemalloc inside the block (readers in several threads
    share one switch; the last one out restores the pool that was there before).

    Examples
    --------
    >>> before = pa.default_memory_pool().backend_name
    >>> with reading_pool():
    ...     inside = pa.default_memory_pool().backend_name
    >>> inside in ("jemalloc", before), pa.default_memory_pool().backend_name == before
    (True, True)
    """
    global _readers, _before
    pool = _jemalloc()
    if pool is None:
        yield
        return
    with _lock:
        if _readers == 0:
            _before = pa.default_memory_pool()
            pa.set_memory_pool(pool)
        _readers += 1
    try:
        yield
    finally:
        with _lock:
            _readers -= 1
            if _readers == 0 and _before is not None:
                pa.set_memory_pool(_before)
                _before = None


@functools.cache
def _jemalloc() -> pa.MemoryPool | None:
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # pragma: no cover - a pyarrow built without jemalloc
        return None
    # Freed pages go back to the system within 10 ms (the setting holds for the arenas made
    # after it, so it is made before the pool's first allocation). Returned at once (0), every
    # large buffer freed and made again was faulted in anew: a 300k-deal export took 173k page
    # faults against 124k, and 0.07-0.09 s longer. With jemalloc's default of a second, a read
    # of 100k deals and 1M activities peaked at 800-850 MB; at 10 ms, 650-710 MB (at once,
    # 540-600 MB).
    pa.jemalloc_set_decay_ms(10)
    return pool
