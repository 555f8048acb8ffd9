"""Hold Python's cyclic garbage collector while the fleet's first trees load.

A 100,000-device fleet arrives as several hundred thousand long-lived objects. With the
collector running, every full collection rescans all that was built so far: measured on
the demo at 100k devices, 2.7 s of an 11 s load went to collections that found almost
nothing (the nodes hold no reference cycles; refcounting frees them). So the console
holds the collector until every profile's first tree is in (or a time limit passes, so
a vendor that never answers cannot keep it off), then freezes what was loaded, which
keeps the fleet out of later scans, and turns the collector back on. `tuiot` starts the
hold before its imports: start-up builds modules and classes, not garbage, and the
collector's passes over them were ~10% of a small demo's time to first data.

The hold is process-wide state: `release()` always restores it, and `thaw()` (on exit)
hands frozen objects back to the collector, so one process that runs many consoles
(the test suite) does not keep their garbage.
"""

from __future__ import annotations

import gc
import time

from tuiot import gcpause

HOLD_LIMIT_S = 60.0  # longest the collector stays off while trees load


class CollectorHold:
    def __init__(self, limit_s: float = HOLD_LIMIT_S) -> None:
        self.limit_s = limit_s
        self._until: float | None = None  # monotonic deadline while held
        self.froze = False

    @property
    def held(self) -> bool:
        return self._until is not None

    def start(self) -> None:
        """Turn the collector off, unless someone outside tuiot's pauses did (then leave it to them)."""
        if self._until is None and (gc.isenabled() or gcpause.held()):
            gcpause.hold()
            self._until = time.monotonic() + self.limit_s

    def overdue(self) -> bool:
        return self._until is not None and time.monotonic() >= self._until

    def release(self) -> None:
        """Freeze what is loaded and turn the collector back on; a no-op when not held."""
        if self._until is None:
            return
        self._until = None
        gc.freeze()
        self.froze = True
        gcpause.release()

    def thaw(self) -> None:
        """On exit: release if still held, and let the collector see frozen objects again."""
        self.release()
        if self.froze:
            gc.unfreeze()
            self.froze = False
