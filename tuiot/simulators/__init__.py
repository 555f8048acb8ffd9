"""Vendor simulators: real ASGI apps over one seeded synthetic world (`fleet.py`).

Each vendor module exposes `DEMO_SECRET`, `create_app(world, *, faults=None,
secret=DEMO_SECRET, **options)` and `demo_profile(name) -> dict` (the non-secret
profile fields the demo connects with). Simulators never import adapters: they meet
only over HTTP, as a real cloud and a real client do.
"""

from __future__ import annotations

import importlib
from types import ModuleType

SIMULATORS = ("teamviewer", "thingsee", "murano", "thingspro")


def available() -> tuple[str, ...]:
    """The vendors whose simulator module is installed."""
    from importlib.util import find_spec

    return tuple(v for v in SIMULATORS if find_spec(f"tuiot.simulators.{v}") is not None)


def simulator_module(vendor: str) -> ModuleType:
    if vendor not in SIMULATORS:
        raise ValueError(f"no simulator for '{vendor}' (known: {', '.join(SIMULATORS)})")
    return importlib.import_module(f"tuiot.simulators.{vendor}")
