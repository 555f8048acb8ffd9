"""`tuiot watch`: headless rules against a simulator, and the loop's edges with a scripted adapter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tuiot.adapters.base import AuthError, NotFound, Unavailable
from tuiot.domain import Reading
from tuiot.fleet.local_alarms import LocalAlarmStore
from tuiot.simulators import available
from tuiot.simulators.demo import DEMO_NAMES

# The end-to-end run uses TeamViewer's simulator when it is there, and Thingsee's otherwise.
VENDORS = [v for v in ("teamviewer", "thingsee") if v in available()][:1] or [v for v in available()][:1]


def tuiot(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tuiot", "--demo", "--devices", "30", *args],
                          capture_output=True, text=True, check=False, timeout=timeout, env=os.environ.copy())


def first_metric(profile: str) -> dict:
    nodes = json.loads(tuiot("tree", "--profile", profile, "--format", "json").stdout)
    return next(n for n in nodes if n["kind"] == "metric" and n["value_type"] in ("float", "int", "number", "integer"))


@pytest.mark.parametrize("vendor", VENDORS)
def test_watch_against_the_simulator(vendor: str, tmp_path: Path) -> None:
    profile = DEMO_NAMES[vendor]
    metric = first_metric(profile)
    rules = tmp_path / "rules.toml"
    rules.write_text(
        f'[[rules]]\nname = "always"\nprofile = "{profile}"\nmetric = "{metric["id"]}"\n'
        f'condition = "metric > -1e9"\nseverity = "minor"\nchecks = 1\n\n'
        f'[[rules]]\nname = "never"\nprofile = "{profile}"\nmetric = "{metric["id"]}"\ncondition = "metric < -1e9"\n\n'
        f'[[rules]]\nname = "elsewhere"\nprofile = "other"\nmetric = "x"\ncondition = "true"\n'
    )
    started = time.monotonic()
    out = tuiot("watch", "--profile", profile, "--rules", str(rules), "--interval", "0.2", "--duration", "1")
    took = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    assert took < 20
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    (raised,) = lines  # raised once, not once per poll; the other rules stay quiet
    assert raised["event"] == "raised" and raised["rule"] == "always" and raised["origin"] == "local"
    assert raised["metric"] == metric["ref"] and raised["status"] == "open" and isinstance(raised["value"], (int, float))
    # persisted in the data dir: the console's inbox (and the next watch) sees it open
    (stored,) = LocalAlarmStore().open_alarms(profile=profile)
    assert stored.id == raised["id"]
    again = tuiot("watch", "--profile", profile, "--rules", str(rules), "--interval", "0.2", "--duration", "0.3", "--values")
    readings = [json.loads(x) for x in again.stdout.splitlines()]
    assert readings and all(r["event"] == "reading" for r in readings)  # no second "raised"
    assert metric["ref"] in {r["metric"] for r in readings}


@pytest.mark.parametrize("vendor", VENDORS)
def test_ctrl_c_exits_cleanly(vendor: str, tmp_path: Path) -> None:
    profile = DEMO_NAMES[vendor]
    rules = tmp_path / "rules.toml"
    rules.write_text(f'[[rules]]\nname = "a"\nprofile = "{profile}"\nmetric = "m"\ncondition = "metric > 1"\n')
    proc = subprocess.Popen([sys.executable, "-m", "tuiot", "--demo", "--devices", "30", "watch", "--profile", profile,
                             "--rules", str(rules), "--interval", "0.2", "--values"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # polling has started
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err and "watch stopped" in err


def test_bad_rules_and_missing_rules_fail_in_one_line(tmp_path: Path) -> None:
    profile = DEMO_NAMES[VENDORS[0]]
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rules]]\nname = "a"\nprofile = "x"\nmetric = "m"\ncondition = "metric >"\n')
    out = tuiot("watch", "--profile", profile, "--rules", str(bad), "--duration", "1")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert f"{bad}:1" in out.stderr and "column 9" in out.stderr
    empty = tmp_path / "none.toml"
    empty.write_text("# nothing yet\n")
    out = tuiot("watch", "--profile", profile, "--rules", str(empty), "--duration", "1")
    assert out.returncode == 2 and "no enabled rules" in out.stderr
    out = tuiot("watch", "--profile", profile, "--rules", str(empty), "--interval", "0", "--duration", "1")
    assert out.returncode == 2 and "positive number of seconds" in out.stderr


# ---- the loop's edges, in process, with a scripted adapter ------------------------------------

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
M = "site/metric/m1"
D = "site/device/d1"


class Scripted:
    """Answers `latest()` from a script; each entry is readings, or an exception to raise."""

    def __init__(self, script: list, device_seen: list) -> None:
        self.script = script
        self.device_seen = device_seen
        self.polls = 0

    async def latest(self, refs=None):
        if refs is not None:
            ts = self.device_seen[min(self.polls - 1, len(self.device_seen) - 1)]
            if isinstance(ts, BaseException):
                raise ts
            return [] if ts is None else [Reading(metric=M, value=0, ts=ts)]
        step = self.script[min(self.polls, len(self.script) - 1)]
        self.polls += 1
        if isinstance(step, BaseException):
            raise step
        return [Reading(metric=M, value=v, ts=T0 + timedelta(minutes=self.polls), unit="°C") for v in step]

    async def aclose(self) -> None:
        pass


@pytest.fixture
def scripted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = Path(os.environ["TUIOT_CONFIG"])
    config.write_text('[profiles.site]\nvendor = "thingsee"\nbase_url = "http://site.invalid"\nclient_id = "c"\n')
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rules]]\nname = "hot"\nprofile = "site"\nmetric = "m1"\ncondition = "metric > 30"\nchecks = 2\nseverity = "major"\n\n'
        '[[rules]]\nname = "quiet"\nkind = "offline"\nprofile = "site"\ndevice = "d1"\nminutes = 10\nseverity = "critical"\n'
    )
    holder: dict[str, Scripted] = {}

    def use(script: list, device_seen: list | None = None) -> Path:
        holder["adapter"] = Scripted(script, device_seen or [None])

        async def adapter(self, name):
            return holder["adapter"]

        monkeypatch.setattr("tuiot.cli_context.CliContext.adapter", adapter)
        return rules

    return use


def run_main(*args: str) -> int:
    from tuiot.cli import main

    return main(list(args))


def test_raise_then_clear_with_checks_and_offline(scripted, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    rules = scripted([[40], [41], [42], [10], [10]], device_seen=[now - timedelta(minutes=30), now, now])
    code = run_main("watch", "--profile", "site", "--rules", str(rules), "--interval", "0.01", "--duration", "0.2")
    out, err = capsys.readouterr()
    assert code == 0, err
    events = [json.loads(x) for x in out.splitlines()]
    assert [(e["event"], e["rule"]) for e in events] == [
        ("raised", "quiet"),   # first poll: silent for 30 min
        ("raised", "hot"),     # second matching reading (checks = 2)
        ("cleared", "quiet"),  # the device reported again
        ("cleared", "hot"),    # 10 is not > 30
    ]
    hot = [e for e in events if e["rule"] == "hot"]
    assert hot[0]["value"] == 41 and hot[0]["id"] == hot[1]["id"] and hot[1]["closed_at"] is not None
    assert events[0]["device"] == "site/device/d1" and events[0]["severity"] == "critical"
    assert LocalAlarmStore().open_alarms() == []


def test_table_format_values_and_passing_errors(scripted, capsys: pytest.CaptureFixture[str]) -> None:
    rules = scripted([[40], Unavailable("simulated outage"), [41], [41]])
    code = run_main("watch", "--profile", "site", "--rules", str(rules), "--interval", "0.01", "--duration", "0.15",
                    "--format", "table", "--values")
    out, err = capsys.readouterr()
    assert code == 0
    assert "poll failed: simulated outage" in err
    lines = out.splitlines()
    assert lines[0].endswith("site/metric/m1  40 °C")
    assert any("RAISED  major    hot  site/metric/m1  value=41" in x for x in lines)
    assert sum("RAISED" in x and "hot" in x for x in lines) == 1


def test_refused_credential_ends_the_watch(scripted, capsys: pytest.CaptureFixture[str]) -> None:
    rules = scripted([AuthError("secret refused")])
    assert run_main("watch", "--profile", "site", "--rules", str(rules), "--interval", "0.01", "--duration", "5") == 3
    assert "secret refused" in capsys.readouterr().err


def test_keyboard_interrupt_is_a_clean_stop(scripted, capsys: pytest.CaptureFixture[str]) -> None:
    rules = scripted([[40], [41], KeyboardInterrupt()])
    assert run_main("watch", "--profile", "site", "--rules", str(rules), "--interval", "0.01") == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "watch stopped" in err
    assert [json.loads(x)["event"] for x in out.splitlines()] == ["raised", "raised"]


def test_a_device_that_cannot_be_asked_is_not_counted_offline(scripted, capsys: pytest.CaptureFixture[str]) -> None:
    rules = scripted([[1]], device_seen=[NotFound("no device d1")])
    assert run_main("watch", "--profile", "site", "--rules", str(rules), "--interval", "0.01", "--duration", "0.1") == 0
    out, err = capsys.readouterr()
    assert out == "" and "site/device/d1: no device d1" in err
