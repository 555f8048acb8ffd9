"""The headless CLI against a real `tuiot simulate --vendor teamviewer` process (loopback).

What a user at a jump host sees: every read in every format, and every failure as one
clear line on stderr with a non-zero exit.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from simproc import free_port, simulate

pytest.importorskip("tuiot.simulators.teamviewer")


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiot", *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def sim():
    with simulate("--vendor", "teamviewer", "--devices", "80", "--seed", "3") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def profile(sim: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from tuiot.simulators.teamviewer import DEMO_SECRET

    Path(os.environ["TUIOT_CONFIG"]).write_text(
        f'[profiles.tv]\nvendor = "teamviewer"\nbase_url = "{sim}"\ntimeout = 5\n'
        f'[profiles.dead]\nvendor = "teamviewer"\nbase_url = "http://127.0.0.1:{free_port()}"\ntimeout = 2\n'
    )
    monkeypatch.setenv("TUIOT_SECRET_TV", DEMO_SECRET)
    monkeypatch.setenv("TUIOT_SECRET_DEAD", DEMO_SECRET)
    return "tv"


def one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("tuiot: ")
    return lines[0]


def test_curl_shapes(sim: str) -> None:
    from tuiot.simulators.teamviewer import DEMO_SECRET

    r = httpx.get(f"{sim}/devicetree", headers={"Authorization": f"Bearer {DEMO_SECRET}"})
    body = r.json()
    assert r.status_code == 200 and body["status"] == "OK" and isinstance(body["data"], (list, dict))
    r = httpx.get(f"{sim}/devices", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and "error" in r.json()


def test_tree_in_three_formats(profile: str) -> None:
    table = run("tree", "--profile", profile)
    assert table.returncode == 0, table.stderr
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    nodes = json.loads(run("tree", "--profile", profile, "--format", "json").stdout)
    kinds = {n["kind"] for n in nodes}
    assert kinds == {"group", "device", "sensor", "metric"}
    assert all(n["ref"].startswith("tv/") for n in nodes)
    rows = list(csv.DictReader(io.StringIO(run("tree", "--profile", profile, "--format", "csv").stdout)))
    assert len(rows) == len(nodes)


def test_a_closed_pipe_ends_quietly(profile: str) -> None:
    """`tuiot tree | head -3`: the reader leaves early; no message, the shell's SIGPIPE code."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuiot", "tree", "--profile", profile],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(),
    )
    proc.stdout.close()  # long before the child starts writing: every write meets EPIPE
    _, err = proc.communicate(timeout=60)
    assert err == b""
    assert proc.returncode == 141


def _a_metric(profile: str) -> dict:
    nodes = json.loads(run("tree", "--profile", profile, "--format", "json").stdout)
    return next(n for n in nodes if n["kind"] == "metric" and n["unit"])


def test_latest_all_and_one_device(profile: str) -> None:
    data = json.loads(run("latest", "--profile", profile, "--format", "json").stdout)
    assert data and all(r["ts"].endswith("Z") for r in data)
    assert any(isinstance(r["value"], (int, float)) for r in data)
    metric = _a_metric(profile)
    nodes = json.loads(run("tree", "--profile", profile, "--format", "json").stdout)
    by_ref = {n["ref"]: n for n in nodes}
    device = by_ref[by_ref[metric["parent"]]["parent"]]
    one = json.loads(run("latest", "--profile", profile, "--device", device["id"], "--format", "json").stdout)
    assert one and len(one) < len(data)
    table = run("latest", "--profile", profile, "--device", device["id"])
    assert table.returncode == 0 and metric["unit"] in table.stdout


def test_history_raw_and_aggregated(profile: str) -> None:
    metric = _a_metric(profile)
    raw = json.loads(run("history", metric["id"], "--profile", profile, "--since", "6h", "--format", "json").stdout)
    assert len(raw) >= 6 and raw[0]["ts"] < raw[-1]["ts"]
    agg = json.loads(
        run("history", metric["id"], "--profile", profile, "--since", "24h", "--agg", "avg", "--every", "1h", "--format", "json").stdout
    )
    assert 20 <= len(agg) <= 25
    out = run("history", metric["ref"], "--profile", profile, "--from", "3h", "--to", "1h", "--format", "csv")
    assert out.returncode == 0 and out.stdout.startswith("metric,ts,value")


def test_alarms_open_and_closed_and_close(profile: str) -> None:
    alarms = json.loads(run("alarms", "--profile", profile, "--format", "json").stdout)
    assert {a["status"] for a in alarms} == {"open", "closed"}
    assert {a["severity"] for a in alarms} <= {"critical", "major", "minor", "warning"}
    target = next(a for a in alarms if a["status"] == "open")
    refused = run("alarm", "close", "--profile", profile, target["id"])  # no TTY and no --yes
    assert "--yes" in one_error_line(refused)
    r = run("alarm", "close", "--profile", profile, target["id"], "--yes")
    assert r.returncode == 0, r.stderr
    again = json.loads(run("alarms", "--profile", profile, "--status", "closed", "--format", "json").stdout)
    assert target["id"] in {a["id"] for a in again}
    assert "refused" in one_error_line(run("--read-only", "alarm", "close", "--profile", profile, "x", "--yes"))


def test_rules_in_three_formats(profile: str) -> None:
    for fmt in ("table", "json", "csv"):
        r = run("rules", "--profile", profile, "--format", fmt)
        assert r.returncode == 0, r.stderr
    assert isinstance(json.loads(run("rules", "--profile", profile, "--format", "json").stdout), list)


def test_error_lines(profile: str) -> None:
    assert "unknown profile 'nope'" in one_error_line(run("tree", "--profile", "nope"))
    missing = run("tree", "--profile", profile, env={"TUIOT_SECRET_TV": ""})
    assert "tuiot auth set tv" in one_error_line(missing) and missing.returncode == 3
    refused = run("tree", "--profile", profile, env={"TUIOT_SECRET_TV": "wrong-key"})
    assert "credential refused" in one_error_line(refused) and refused.returncode == 3
    unreachable = run("tree", "--profile", "dead")
    assert "cannot connect" in one_error_line(unreachable) and unreachable.returncode == 5
    bad_window = run("history", "x", "--profile", profile, "--since", "soon")
    assert "not a duration" in one_error_line(bad_window)
    no_device = run("latest", "--profile", profile, "--device", "999999")
    assert "no device 999999" in one_error_line(no_device) and no_device.returncode == 2 and no_device.stdout == ""


def test_timeout_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from tuiot.simulators.teamviewer import DEMO_SECRET

    with simulate("--vendor", "teamviewer", "--devices", "20", "--faults", "timeout=1,stall=5") as port:
        Path(os.environ["TUIOT_CONFIG"]).write_text(
            f'[profiles.slow]\nvendor = "teamviewer"\nbase_url = "http://127.0.0.1:{port}"\ntimeout = 0.5\n'
        )
        r = run("tree", "--profile", "slow", env={"TUIOT_SECRET_SLOW": DEMO_SECRET})
    line = one_error_line(r)
    assert r.returncode == 5 and ("timed out" in line or "no answer" in line)
