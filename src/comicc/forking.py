"""Whether this process may ``fork()`` now.

A forked child has a copy of every module this process has loaded, so it is
up at once, with nothing to import; but it has only the thread that forked,
so a lock another thread held at that moment stays held in the child for
ever. comicc forks only while its own main thread is the process's only one:
the layout's worker processes (:mod:`comicc.layout.engine`) and the painting's
(:mod:`comicc.paint.workers`) before any of the build's threads start.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading


def fork_safe() -> bool:
    """Whether this process may fork workers: Linux, one thread only (counting threads
    started outside :mod:`threading` too: ``/proc/self/task``), not a daemonic worker
    (those may not have children)."""
    if not sys.platform.startswith("linux"):
        return False
    if threading.active_count() > 1 or multiprocessing.current_process().daemon:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False
