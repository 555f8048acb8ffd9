"""Field mode from the shell: the last known fleet answers when the vendor is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simproc import simulate

pytest.importorskip("tuiot.simulators.thingspro")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tuiot", *args], capture_output=True, text=True, timeout=60, env=os.environ.copy())


def test_snapshot_answers_offline_and_error_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from tuiot.simulators.thingspro import DEMO_SECRET

    monkeypatch.setenv("TUIOT_SECRET_LINE", DEMO_SECRET)
    with simulate("--vendor", "thingspro", "--devices", "60") as port:
        Path(os.environ["TUIOT_CONFIG"]).write_text(
            f'[profiles.line]\nvendor = "thingspro"\nusername = "admin"\ngateways = ["http://127.0.0.1:{port}"]\ntimeout = 2\n'
        )
        online_tree = json.loads(run("tree", "--profile", "line", "--format", "json").stdout)
        online_latest = json.loads(run("latest", "--profile", "line", "--format", "json").stdout)
    assert online_tree and online_latest

    gone = run("tree", "--profile", "line")
    lines = gone.stderr.strip().splitlines()
    assert gone.returncode == 5 and len(lines) == 1
    assert "a snapshot from" in lines[0] and "--offline" in lines[0]

    tree = run("tree", "--profile", "line", "--offline", "--format", "json")
    assert tree.returncode == 0, tree.stderr
    rows = json.loads(tree.stdout)
    assert [r["ref"] for r in rows] == [r["ref"] for r in online_tree]
    assert all(r["fetched_at"].endswith("Z") for r in rows)
    assert "offline" in tree.stderr

    latest = json.loads(run("latest", "--profile", "line", "--offline", "--format", "json").stdout)
    assert {r["metric"]: r["value"] for r in latest} == {r["metric"]: r["value"] for r in online_latest}
    table = run("latest", "--profile", "line", "--offline")
    assert table.returncode == 0 and all(len(x) <= 80 for x in table.stdout.splitlines())


def test_offline_without_snapshot_and_with_a_corrupt_one() -> None:
    Path(os.environ["TUIOT_CONFIG"]).write_text(
        '[profiles.line]\nvendor = "thingspro"\nusername = "admin"\ngateways = ["http://127.0.0.1:9"]\n'
    )
    r = run("tree", "--profile", "line", "--offline")
    assert r.returncode == 5 and "no snapshot of 'line'" in r.stderr and "Traceback" not in r.stderr
    data = Path(os.environ["TUIOT_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    (data / "snapshot.sqlite").write_bytes(b"this is not a database\x00" * 100)
    (data / "rules.toml").write_text("# mine\n")
    r = run("tree", "--profile", "line", "--offline")
    assert r.returncode == 5 and "Traceback" not in r.stderr
    assert any(p.name.startswith("snapshot.sqlite.corrupt-") for p in data.iterdir())
    assert (data / "rules.toml").read_text() == "# mine\n"


def _teamviewer(port: int, vendor: str = "teamviewer") -> None:
    extra = 'client_id = "c"\n' if vendor == "thingsee" else ""
    Path(os.environ["TUIOT_CONFIG"]).write_text(
        f'[profiles.plant]\nvendor = "{vendor}"\nbase_url = "http://127.0.0.1:{port}"\n{extra}timeout = 5\n'
    )


def test_offline_latest_of_one_device_and_a_replaced_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    from tuiot.simulators.teamviewer import DEMO_SECRET

    monkeypatch.setenv("TUIOT_SECRET_PLANT", DEMO_SECRET)
    with simulate("--vendor", "teamviewer", "--devices", "20") as port:
        _teamviewer(port)
        # a tree saved at device depth (as a console that expanded nothing would)
        devices = json.loads(run("tree", "--profile", "plant", "--depth", "device", "--format", "json").stdout)
        device = next(n["id"] for n in devices if n["kind"] == "device")
        one = json.loads(run("latest", "--profile", "plant", "--device", device, "--format", "json").stdout)
        # before any whole round: what one device answered is already the snapshot
        partial = run("latest", "--profile", "plant", "--offline", "--format", "json")
        assert partial.returncode == 0, partial.stderr
        assert {r["metric"] for r in json.loads(partial.stdout)} == {r["metric"] for r in one}
        every = json.loads(run("latest", "--profile", "plant", "--format", "json").stdout)
    assert one and len(one) < len(every)

    offline = run("latest", "--profile", "plant", "--device", device, "--offline", "--format", "json")
    assert offline.returncode == 0, offline.stderr
    # the snapshot holds the newest round (the whole one), which may have ticked since `one`
    newest = {r["metric"]: r["value"] for r in every if r["metric"] in {o["metric"] for o in one}}
    assert {r["metric"]: r["value"] for r in json.loads(offline.stdout)} == newest

    # `profile add plant --vendor thingsee --replace`: the TeamViewer snapshot is not its own
    _teamviewer(port, "thingsee")
    r = run("latest", "--profile", "plant", "--offline")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 5 and r.stdout == "" and len(lines) == 1
    assert "no snapshot of 'plant'" in lines[0] and "came from teamviewer" in lines[0] and "not thingsee" in lines[0]
