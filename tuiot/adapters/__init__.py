"""Adapter plug-ins, found through the `tuiot.adapters` entry-point group.

The built-in vendors register exactly as a third-party one would; names are listed
without importing anything, and one adapter is imported only when a profile needs it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, PackageNotFoundError, distribution, entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuiot.adapters.base import Adapter

GROUP = "tuiot.adapters"


@cache
def _registered() -> tuple[EntryPoint, ...]:
    # Scanning every installed distribution's metadata costs ~40 ms; plug-ins do not
    # change while the process runs, so the console's four profiles scan once.
    return tuple(entry_points(group=GROUP))


@cache
def _built_in() -> tuple[EntryPoint, ...]:
    # tuiot's own vendors, read from its own metadata only (~2 ms, not the full scan's ~10):
    # the console looks up four of them before its first data
    try:
        return tuple(ep for ep in distribution("tuiot").entry_points if ep.group == GROUP)
    except PackageNotFoundError:
        return ()


def adapter_names() -> list[str]:
    return sorted(ep.name for ep in _registered())


def load_adapter(vendor: str) -> type[Adapter]:
    from tuiot.adapters.base import NotSupported

    # a built-in name is tuiot's own vendor; only other names need the scan of every plug-in
    eps = [ep for ep in _built_in() if ep.name == vendor] or [ep for ep in _registered() if ep.name == vendor]
    if not eps:
        raise NotSupported(f"no adapter for vendor '{vendor}' (installed: {', '.join(adapter_names()) or 'none'})")
    try:
        cls = eps[0].load()
    except Exception as e:  # a broken plug-in must not take the console down
        raise NotSupported(f"adapter '{vendor}' failed to load: {type(e).__name__}: {e}") from None
    return cls
