"""The cyclic garbage collector off while many small objects are made.

Parsing and checking a script, laying pages out, reading them from the memo
and writing their JSON make tens of thousands of small objects and no
reference cycle; the collector's passes over them (and over the whole heap)
cost about a tenth of that CPU. The collector is put back as it was found, on
and off alike.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off (then as it was)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
