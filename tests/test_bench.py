"""`tuiot bench --json`: the figures the speed targets are read from (DESIGN §7).

Timing thresholds are the bench's business, not a test's (a noisy machine would flake
them); this checks that every figure is measured and that the large fleet was loaded
whole before "browsable" was read.
"""

from __future__ import annotations

import json

from tuiot.cli import main
from tuiot.commands.bench import TARGETS


def test_bench_json_prints_every_target_figure(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TUIOT_DATA_DIR", str(tmp_path))
    assert main(["bench", "--json", "--large", "1500", "--runs", "1"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(TARGETS) <= set(figures)
    for key in TARGETS:
        assert isinstance(figures[key], (int, float)), key
    # "browsable" means every device is in the index (findable), not only that the trees came
    assert figures["large_devices_loaded"] >= 1500
    assert 0 < figures["large_browsable_s"] < 60
    assert figures["filter_keystroke_ms"] > 0 and figures["live_refresh_50k_ms"] > 0
