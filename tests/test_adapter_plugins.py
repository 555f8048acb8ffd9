"""Adapters are entry-point plug-ins: built-ins come from tuiot's own metadata, others from the scan."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

import tuiot.adapters as adapters
from tuiot.adapters.base import NotSupported
from tuiot.adapters.murano import MuranoAdapter


class AcmeAdapter:  # what a third-party plug-in's entry point would name
    pass


def test_built_in_vendor_loads_from_tuiots_own_metadata() -> None:
    assert adapters.load_adapter("murano") is MuranoAdapter
    assert {"teamviewer", "thingsee", "murano", "thingspro"} <= set(adapters.adapter_names())


def test_third_party_vendor_is_found_by_the_full_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    acme = EntryPoint(name="acme", value=f"{__name__}:AcmeAdapter", group=adapters.GROUP)
    monkeypatch.setattr(adapters, "_registered", lambda: (*adapters._built_in(), acme))
    assert adapters.load_adapter("acme") is AcmeAdapter
    assert "acme" in adapters.adapter_names()


def test_unknown_vendor_names_what_is_installed() -> None:
    with pytest.raises(NotSupported, match="no adapter for vendor 'nope'.*murano"):
        adapters.load_adapter("nope")
