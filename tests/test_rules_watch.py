"""`tuiot watch` end to end against the demo fleet (real simulators, in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuiot.fleet.rules.rulefile import load_rules

DEMO = [sys.executable, "-m", "tuiot", "--demo", "--devices", "60"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data"),
                "TUIOT_DATA_DIR": str(tmp_path / "data" / "tuiot"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    return env


@pytest.fixture(scope="module")
def metric_id(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("tree")
    out = subprocess.run([*DEMO, "tree", "--profile", "Thingsee", "--format", "json"], capture_output=True,
                         text=True, timeout=60, env=_env(tmp), check=True).stdout
    nodes = json.loads(out)
    return next(n["id"] for n in nodes if n["kind"] == "metric" and n.get("value_type") in ("float", "int"))


def test_watch_raises_an_alarm_for_an_always_true_rule(tmp_path: Path, metric_id: str) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[[rules]]\n"
        'name = "always"\n'
        'profile = "Thingsee"\n'
        f'metric = "{metric_id}"\n'
        'condition = "metric > -1000000 || metric <= -1000000"\n'
        'severity = "minor"\n'
        "checks = 1\n"
    )
    assert load_rules(rules)[0].sources == [f"Thingsee/metric/{metric_id}"]  # the file is ours as well as watch's
    proc = subprocess.run(
        [*DEMO, "watch", "--profile", "Thingsee", "--rules", str(rules), "--interval", "1", "--duration", "3"],
        capture_output=True, text=True, timeout=90, env=_env(tmp_path), check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    raised = [e for e in events if e["event"] == "raised"]
    assert len(raised) == 1, proc.stdout
    ev = raised[0]
    assert ev["rule"] == "always" and ev["severity"] == "minor" and ev["profile"] == "Thingsee"
    assert ev["metric"] == f"Thingsee/metric/{metric_id}" and isinstance(ev["value"], (int, float))
    assert ev["origin"] == "local" and ev["id"]


def test_watch_values_and_bad_rules_file(tmp_path: Path, metric_id: str) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "x"\nprofile = "Thingsee"\nmetric = "m"\ncondition = "metric >"\n')
    proc = subprocess.run([*DEMO, "watch", "--profile", "Thingsee", "--rules", str(rules), "--duration", "1"],
                          capture_output=True, text=True, timeout=60, env=_env(tmp_path), check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "rules.toml" in proc.stderr and ("line 1" in proc.stderr or "rules.toml:1" in proc.stderr)
    assert "column 9" in proc.stderr


def test_watch_ctrl_c_exits_cleanly(tmp_path: Path, metric_id: str) -> None:
    import signal
    import time

    proc = subprocess.Popen([*DEMO, "watch", "--profile", "Thingsee", "--values", "--interval", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # a reading line: the watch is running
        assert json.loads(first)["event"] == "reading"
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
