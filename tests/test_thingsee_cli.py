"""The headless CLI on a thingsee profile, against `tuiot simulate --vendor thingsee` on loopback.

Reads in every format, the `tuiot thing` writes and their round trips (the next read
shows the change), and every failure as one line on stderr with a non-zero exit.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from simproc import simulate

from tuiot.cli import main
from tuiot.simulators.thingsee import DEMO_CLIENT_ID, DEMO_SECRET


@pytest.fixture(scope="module")
def sim():
    with simulate("--vendor", "thingsee", "--devices", "400", "--seed", "5") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def profile(sim: str, monkeypatch: pytest.MonkeyPatch) -> str:
    Path(os.environ["TUIOT_CONFIG"]).write_text(
        f'[profiles.ts]\nvendor = "thingsee"\nbase_url = "{sim}"\nclient_id = "{DEMO_CLIENT_ID}"\ntimeout = 5\n'
        f'[profiles.bad]\nvendor = "thingsee"\nbase_url = "{sim}"\nclient_id = "{DEMO_CLIENT_ID}"\ntimeout = 5\n'
        f'[profiles.tv]\nvendor = "teamviewer"\nbase_url = "{sim}"\n'
        f'[profiles.locked]\nvendor = "thingsee"\nbase_url = "{sim}"\nclient_id = "{DEMO_CLIENT_ID}"\nread_only = true\n'
    )
    monkeypatch.setenv("TUIOT_SECRET_TS", DEMO_SECRET)
    monkeypatch.setenv("TUIOT_SECRET_BAD", "not-the-secret")
    monkeypatch.setenv("TUIOT_SECRET_LOCKED", DEMO_SECRET)
    return "ts"


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)

    def one_error_line(self) -> str:
        assert self.code != 0
        lines = self.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in self.err, self.err
        assert lines[0].startswith("tuiot: ")
        return lines[0]


@pytest.fixture
def tuiot(capsys: pytest.CaptureFixture[str]):
    def go(*args: str) -> Run:
        code = main(list(args))
        cap = capsys.readouterr()
        return Run(code, cap.out, cap.err)

    return go


def devices(tuiot: Any, profile: str) -> list[dict[str, Any]]:
    r = tuiot("tree", "--profile", profile, "--depth", "device", "--format", "json")
    assert r.code == 0, r.err
    return [n for n in r.json() if n["kind"] == "device"]


def test_tree_in_three_formats(tuiot: Any, profile: str) -> None:
    table = tuiot("tree", "--profile", profile)
    assert table.code == 0, table.err
    assert all(len(line) <= 80 for line in table.out.splitlines())
    nodes = tuiot("tree", "--profile", profile, "--format", "json").json()
    assert {n["kind"] for n in nodes} == {"group", "device", "metric"}
    temp = next(n for n in nodes if n["kind"] == "metric" and n["id"].endswith(":temp"))
    assert temp["unit"] == "°C" and temp["name"] == "Temperature"
    rows = list(csv.DictReader(io.StringIO(tuiot("tree", "--profile", profile, "--format", "csv").out)))
    assert len(rows) == len(nodes) and rows[0]["ref"].startswith("ts/group/prfi00")


def test_latest_with_units_and_history(tuiot: Any, profile: str) -> None:
    thing = next(d for d in devices(tuiot, profile) if d["online"] and d["id"].startswith("TSPD"))
    r = tuiot("latest", "--profile", profile, "--device", thing["id"], "--format", "json")
    readings = {x["metric"].split(":")[-1]: x for x in r.json()}
    assert set(readings) == {"temp", "humd", "airp", "lght", "batl"}
    assert readings["humd"]["unit"] == "%RH" and readings["temp"]["ts"].endswith("Z")
    table = tuiot("latest", "--profile", profile, "--device", thing["id"])
    assert f"{thing['id']}:temp" in table.out and "°C" in table.out
    hist = tuiot("history", "--profile", profile, f"{thing['id']}:temp", "--since", "3h", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(hist.out)))
    assert rows and all(row["unit"] == "°C" for row in rows)
    assert [row["ts"] for row in rows] == sorted(row["ts"] for row in rows)
    agg = tuiot("history", "--profile", profile, f"ts/metric/{thing['id']}:temp", "--since", "1d", "--agg", "avg", "--format", "json")
    points = agg.json()
    assert points and all(p["count"] >= 1 for p in points)


def test_alarms_and_identities(tuiot: Any, profile: str) -> None:
    alarms = tuiot("alarms", "--profile", profile, "--format", "json").json()
    assert alarms and all(a["origin"] == "vendor" and a["device"].startswith("ts/device/") for a in alarms)
    assert {a["status"] for a in alarms} <= {"open", "closed"} and any(a["status"] == "open" for a in alarms)
    assert tuiot("alarms", "--profile", profile).code == 0
    ids = tuiot("identities", "--profile", profile, "--format", "json").json()
    assert ids and all(i["group"] and i["status"] in ("new", "installed", "uninstalled", "quarantine", "retired") for i in ids)
    close = tuiot("alarm", "close", "--profile", profile, alarms[0]["id"], "--yes")
    assert "does not allow closing" in close.one_error_line()


def test_thing_writes_round_trip(tuiot: Any, profile: str) -> None:
    things = devices(tuiot, profile)
    thing = things[0]
    groups = sorted({d["parent"].split("/")[-1] for d in things})
    target = next(g for g in groups if g != thing["parent"].split("/")[-1])

    r = tuiot("thing", "status", "--profile", profile, thing["id"], "quarantine")
    assert r.code == 0 and r.out.strip().splitlines() == [f"{thing['id']}: installation status is now quarantine ('ts')"]
    ids = tuiot("identities", "--profile", profile, "--status", "quarantine", "--format", "json").json()
    assert thing["id"] in {i["identity"] for i in ids}

    r = tuiot("thing", "group", "--profile", profile, thing["id"], target)
    assert r.code == 0 and len(r.out.strip().splitlines()) == 1 and target in r.out
    moved = next(d for d in devices(tuiot, profile) if d["id"] == thing["id"])
    assert moved["parent"] == f"ts/group/{target}"

    r = tuiot("thing", "command", "--profile", profile, thing["id"], "--tsm-id", "13200", "--json", '{"threshold": 400}')
    assert r.code == 0 and "tsmId 13200" in r.out and len(r.out.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("thing", "group", "--profile", "ts", "TSPD1", "two words"), "whitespace"),
        (("thing", "group", "--profile", "ts", "TSPD1", "unassigned"), '"unassigned" is reserved'),
        (("thing", "command", "--profile", "ts", "TSPD1", "--tsm-id", "17110"), "1500, 1501, 12200, 13200"),
        (("thing", "command", "--profile", "ts", "TSPD1", "--tsm-id", "13200", "--json", "[1]"), "JSON object"),
        (("thing", "command", "--profile", "ts", "TSPD1", "--tsm-id", "13200", "--json", "{"), "not valid JSON"),
        (("thing", "status", "--profile", "locked", "TSPD1", "retired"), "read_only"),
        (("--read-only", "thing", "status", "--profile", "ts", "TSPD1", "retired"), "--read-only"),
        (("thing", "group", "--profile", "ts", "TSPD1", "prfi00nowhere"), "not found"),
        (("thing", "status", "--profile", "nobody", "TSPD1", "retired"), "unknown profile"),
        (("thing", "status", "--profile", "tv", "TSPD1", "retired"), "for thingsee profiles"),
        (("tree", "--profile", "bad"), "client id or secret refused"),
        (("history", "--profile", "ts", "nofield"), "<tuid>:<field>"),
    ],
)
def test_failures_are_one_line(tuiot: Any, profile: str, args: tuple[str, ...], needle: str) -> None:
    line = tuiot(*args).one_error_line()
    assert needle in line
    assert DEMO_SECRET not in line and "not-the-secret" not in line


def test_bad_status_is_a_usage_error(tuiot: Any, profile: str) -> None:
    with pytest.raises(SystemExit) as e:
        main(["thing", "status", "--profile", "ts", "TSPD1", "broken"])
    assert e.value.code == 2
