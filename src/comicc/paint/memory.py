"""Freed image memory kept for the next panel, not handed back to the system.

Painting a panel allocates and frees a few images of several megabytes each.
glibc's allocator serves a block that large with its own ``mmap`` and gives
the memory back when it is freed (or trims the heap's top past 128 KiB), so
the next panel's images are new pages again, each zero-filled by the kernel on
its first touch: a cold 30-page draft build took about 220,000 page faults in
one process and 650,000 in two worker processes, a tenth of its CPU time spent
in the kernel. With the two thresholds raised, freed blocks stay in the heap
and are reused: about 6,000 faults per worker, and each worker's CPU time down
by a sixth (measured in docs/benchmarks.md). The memory kept is bounded: up to
:data:`TRIM_BYTES` of free heap top stays mapped in a painting process.
"""

from __future__ import annotations

import sys

M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_BYTES = 32 << 20  # blocks below this come from the heap (a 1200-dpi panel's is larger)
TRIM_BYTES = 64 << 20  # free memory at the heap's top kept for reuse

_done = False


def keep_freed_memory() -> None:
    """Once per process, on Linux with glibc: freed blocks up to :data:`MMAP_BYTES`
    are reused instead of mapped anew (elsewhere, or if the C library has no
    ``mallopt``: nothing)."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return
    _done = True
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)
    mallopt(M_TRIM_THRESHOLD, TRIM_BYTES)
