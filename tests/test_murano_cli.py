"""The headless CLI on a Murano profile, against a real `tuiot simulate --vendor murano` process.

Reads with filters in JSON, and every identity and tag write round-tripping through the
simulator (state persists in the simulator process between commands).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from simproc import simulate

from tuiot.simulators.murano import DEMO_EMAIL, DEMO_SECRET, DEMO_SOLUTION

_capsys: pytest.CaptureFixture[str] | None = None


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """`tuiot ARGS` in this process (an interpreter start per command would triple the time);
    one test below runs the real entry point as a subprocess."""
    from tuiot.cli import main

    assert _capsys is not None
    _capsys.readouterr()
    code = main(list(args))
    out = _capsys.readouterr()
    return subprocess.CompletedProcess(["tuiot", *args], code, out.out, out.err)


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuiot", *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=os.environ.copy(), check=False,
    )


def ok(*args: str) -> str:
    r = run(*args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("tuiot: ")
    return lines[0]


def identities(*filters: str) -> list[dict[str, Any]]:
    return json.loads(ok("identities", "--profile", "mur", "--format", "json", *filters))


@pytest.fixture(scope="module")
def sim():
    with simulate("--vendor", "murano", "--devices", "150", "--seed", "5") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def profile(sim: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    global _capsys
    _capsys = capsys
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    Path(os.environ["TUIOT_CONFIG"]).write_text(
        f'[profiles.mur]\nvendor = "murano"\nbase_url = "{sim}"\nusername = "{DEMO_EMAIL}"\n'
        f'solution_id = "{DEMO_SOLUTION}"\ntimeout = 10\n'
        f'[profiles.ro]\nvendor = "murano"\nbase_url = "{sim}"\nusername = "{DEMO_EMAIL}"\n'
        f'solution_id = "{DEMO_SOLUTION}"\nread_only = true\n'
        '[profiles.edge]\nvendor = "thingspro"\nbase_url = "https://127.0.0.1:9"\nusername = "admin"\n'
    )
    for name in ("MUR", "RO", "EDGE"):
        monkeypatch.setenv(f"TUIOT_SECRET_{name}", DEMO_SECRET)
    return "mur"


def test_reads_with_filters(profile: str) -> None:
    everything = identities()
    assert len(everything) > 30
    assert {"identity", "status", "online", "lastseen", "lastip", "group", "tags", "state"} <= set(everything[0])
    seen = next(i for i in everything if i["lastseen"])
    assert seen["lastseen"].endswith("Z") or seen["lastseen"].endswith("+00:00")
    locked = identities("--status", "locked")
    assert locked and all(i["status"] == "locked" for i in locked)
    either = identities("--status", "whitelisted", "--status", "expired")
    assert {i["status"] for i in either} == {"whitelisted", "expired"}
    pumps = identities("--match", "^pump-")
    assert pumps and all(i["identity"].startswith("pump-") for i in pumps)
    site = next(i["group"] for i in everything if i["group"])
    at_site = identities("--tag", f"site={site}")
    assert at_site and all(i["tags"]["site"] == [site] for i in at_site)
    bad = one_error_line(run("identities", "--profile", "mur", "--status", "sleepy"))
    assert "unknown status sleepy" in bad


def test_tree_ids_work_with_history(profile: str) -> None:
    nodes = json.loads(ok("tree", "--profile", "mur", "--format", "json"))
    groups = [n for n in nodes if n["kind"] == "group"]
    assert groups[-1]["id"] == "(no site)"
    metric = next(n for n in nodes if n["kind"] == "metric" and n["id"].endswith(":temp"))
    assert metric["unit"] == "°C"
    points = json.loads(ok("history", "--profile", "mur", metric["id"], "--since", "2h", "--format", "json"))
    assert points and "value" in points[0]
    agg = json.loads(ok("history", "--profile", "mur", metric["id"], "--since", "6h", "--agg", "max", "--every", "1h", "--format", "json"))
    assert 5 <= len(agg) <= 7


def test_identity_and_tag_writes_round_trip(profile: str) -> None:
    assert ok("identity", "add", "--profile", "mur", "cli-box-1").strip() == "added identity cli-box-1 to mur (status whitelisted)"
    assert identities("--match", "^cli-box-1$")[0]["status"] == "whitelisted"
    dup = one_error_line(run("identity", "add", "--profile", "mur", "cli-box-1"))
    assert "already exists" in dup

    assert ok("identity", "lock", "--profile", "mur", "cli-box-1").strip() == "locked identity cli-box-1 (status locked)"
    assert identities("--match", "^cli-box-1$")[0]["status"] == "locked"
    assert ok("identity", "unlock", "--profile", "mur", "cli-box-1").strip() == "unlocked identity cli-box-1 (status whitelisted)"

    out = ok("identity", "tag-add", "--profile", "mur", "cli-box-1", "zone", "north")
    assert out.strip() == "added tag zone=north on cli-box-1 (zone: north)"
    ok("identity", "tag-add", "--profile", "mur", "cli-box-1", "zone", "south")
    assert identities("--tag", "zone=south")[0]["tags"]["zone"] == ["north", "south"]
    out = ok("identity", "tag-add", "--profile", "mur", "cli-box-1", "zone", "east", "--replace")
    assert out.strip() == "set tag zone=east on cli-box-1 (zone: east)"
    ok("identity", "tag-add", "--profile", "mur", "cli-box-1", "zone", "west")
    out = ok("identity", "tag-remove", "--profile", "mur", "cli-box-1", "zone", "east")
    assert out.strip() == "removed tag zone=east from cli-box-1 (zone: west)"
    out = ok("identity", "tag-remove", "--profile", "mur", "cli-box-1", "zone")
    assert out.strip() == "removed tag zone from cli-box-1 (zone: (none))"
    assert "zone" not in identities("--match", "^cli-box-1$")[0]["tags"]

    refused = one_error_line(run_process("identity", "remove", "--profile", "mur", "cli-box-1"))
    assert "pass --yes" in refused
    assert identities("--match", "^cli-box-1$")
    assert ok("identity", "remove", "--profile", "mur", "cli-box-1", "--yes").strip() == "removed identity cli-box-1 from mur"
    assert identities("--match", "^cli-box-1$") == []
    gone = one_error_line(run("identity", "remove", "--profile", "mur", "cli-box-1", "--yes"))
    assert "does not exist" in gone


def test_set_state_and_not_settable(profile: str) -> None:
    pump = next(i for i in identities("--match", "^pump-", "--status", "provisioned"))["identity"]
    out = ok("identity", "set-state", "--profile", "mur", pump, "setpoint", "4.9")
    assert out.strip() == f"set {pump} setpoint = 4.9 (the device applies it when it next syncs)"
    assert identities("--match", f"^{pump}$")[0]["state"]["setpoint"]["set"] == 4.9
    r = run("identity", "set-state", "--profile", "mur", pump, "temp", "20")
    assert one_error_line(r) == "tuiot: vendor error 409: resource temp is not settable" and r.returncode == 4
    bad = one_error_line(run("identity", "set-state", "--profile", "mur", pump, "setpoint", "high"))
    assert "is a number" in bad


def test_writes_refused_when_read_only_and_on_other_vendors(profile: str) -> None:
    r = run_process("identity", "lock", "--profile", "ro", "anything")
    assert one_error_line(r) == "tuiot: refused: profile 'ro' has read_only = true; no change was made"
    r = run("--read-only", "identity", "tag-add", "--profile", "mur", "anything", "a", "b")
    assert "--read-only is set" in one_error_line(r)
    r = run("identity", "lock", "--profile", "edge", "anything")
    assert "`tuiot identity` is for murano profiles" in one_error_line(r)


def test_remove_asks_on_a_terminal(profile: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tuiot.cli import main

    assert main(["identity", "add", "--profile", "mur", "cli-box-2"]) == 0
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    questions: list[str] = []
    answers = iter(["n", "y"])

    def answer(q: str) -> str:
        questions.append(q)
        return next(answers)

    monkeypatch.setattr("builtins.input", answer)
    capsys.readouterr()
    assert main(["identity", "remove", "--profile", "mur", "cli-box-2"]) == 1
    assert capsys.readouterr().out.strip() == "not removed"
    assert questions == ["Remove identity cli-box-2 from mur, with its state, tags and credentials? [y/N] "]
    assert main(["identity", "remove", "--profile", "mur", "cli-box-2"]) == 0
    assert capsys.readouterr().out.strip() == "removed identity cli-box-2 from mur"
