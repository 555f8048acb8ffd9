"""One process-wide pause of Python's cyclic garbage collector, shared by all who need it.

Large stretches pause the collector: building a 100,000-device demo world, decoding a
29 MB device tree, the console's first trees. They run in several threads at once. Each
used to pause on its own (`was = gc.isenabled()`, then restore), and that raced: a
stretch that ended turned the collector back on under another's feet, or a hold saw it
off and left it to a stretch about to end. Measured in a 100k demo's load: six full
collections, about half a second. Here pauses are counted: the collector is off while
anyone holds it, and is turned back on when the last one lets go, if it was on before
the first took hold.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_restore = False  # the collector was on when the first holder came


def hold() -> None:
    global _holders, _restore
    with _lock:
        if _holders == 0:
            _restore = gc.isenabled()
            gc.disable()
        _holders += 1


def release() -> None:
    global _holders
    with _lock:
        if _holders == 0:
            return  # a release without its hold: nothing of ours to give back
        _holders -= 1
        if _holders == 0 and _restore:
            gc.enable()


def held() -> bool:
    """Someone in this process holds the pause (the collector is off because of us)."""
    return _holders > 0


@contextmanager
def paused() -> Iterator[None]:
    """The collector paused over one stretch that builds many long-lived objects."""
    hold()
    try:
        yield
    finally:
        release()
