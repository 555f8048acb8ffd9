"""Every vendor through the same headless commands (demo fleet, all three formats)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from tuiot.simulators import available
from tuiot.simulators.demo import DEMO_NAMES

VENDORS = [v for v in ("teamviewer", "thingsee", "murano", "thingspro") if v in available()]


def run(*args: str, devices: int = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiot", "--demo", "--devices", str(devices), *args],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_reads_in_every_format(vendor: str) -> None:
    name = DEMO_NAMES[vendor]
    nodes = json.loads(run("tree", "--profile", name, "--format", "json").stdout)
    assert {"group", "device", "metric"} <= {n["kind"] for n in nodes}
    metric = next(n for n in nodes if n["kind"] == "metric" and n["value_type"] in ("float", "int", "number", "integer", None) and n["unit"])
    latest = json.loads(run("latest", "--profile", name, "--format", "json").stdout)
    assert latest and all(r["metric"].startswith(f"{name}/metric/") and r["ts"].endswith("Z") for r in latest)
    assert metric["ref"] in {r["metric"] for r in latest}
    hist = run("history", metric["id"], "--profile", name, "--since", "2h", "--format", "csv")
    assert hist.returncode == 0, hist.stderr
    rows = list(csv.DictReader(io.StringIO(hist.stdout)))
    assert rows and rows[0]["metric"] == metric["ref"]
    agg = json.loads(run("history", metric["id"], "--profile", name, "--since", "6h", "--agg", "max", "--every", "1h", "--format", "json").stdout)
    assert 1 <= len(agg) <= 7 and all(p["max"] is not None for p in agg)
    for cmd in ("tree", "latest"):
        table = run(cmd, "--profile", name)
        assert table.returncode == 0 and all(len(x) <= 80 or "|" in x for x in table.stdout.splitlines())


@pytest.mark.parametrize("vendor", [v for v in VENDORS if v in ("teamviewer", "thingsee")])
def test_alarms(vendor: str) -> None:
    alarms = json.loads(run("alarms", "--profile", DEMO_NAMES[vendor], "--format", "json", devices=400).stdout)
    assert alarms and {"open"} <= {a["status"] for a in alarms}


@pytest.mark.parametrize("vendor", [v for v in VENDORS if v in ("thingsee", "murano")])
def test_identities(vendor: str) -> None:
    items = json.loads(run("identities", "--profile", DEMO_NAMES[vendor], "--format", "json").stdout)
    assert items and all("status" in i and "tags" in i for i in items)


def test_vendor_without_alarms_says_so() -> None:
    if "thingspro" not in VENDORS:
        pytest.skip("no thingspro simulator")
    r = run("alarms", "--profile", "ThingsPro")
    assert r.returncode != 0 and "local rules" in r.stderr and len(r.stderr.strip().splitlines()) == 1
