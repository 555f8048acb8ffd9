"""Link mode: SSH and low-bandwidth defaults, the user's explicit settings kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tuiot.fleet.linkmode import LinkMode, apply_env, detect, textual_imported

SSH = {"SSH_CONNECTION": "10.0.0.5 52000 10.0.0.9 22"}


@pytest.mark.parametrize(
    "env, low, expect",
    [
        (
            {},
            False,
            dict(animations=True, smooth_scroll=True, fps=60, poll_factor=1.0, animation_level="full"),
        ),
        (
            SSH,
            False,
            dict(animations=False, smooth_scroll=False, fps=60, poll_factor=1.0, animation_level="none"),
        ),
        ({"SSH_CLIENT": "10.0.0.5 52000 22"}, False, dict(animations=False, smooth_scroll=False, fps=60)),
        ({"SSH_CONNECTION": ""}, False, dict(animations=True, smooth_scroll=True)),  # empty is unset
        ({}, True, dict(animations=False, smooth_scroll=False, fps=10, poll_factor=3.0, low_bandwidth=True)),
        (SSH, True, dict(animations=False, smooth_scroll=False, fps=10, poll_factor=3.0, ssh=True)),
        ({"TUIOT_LOW_BANDWIDTH": "1"}, False, dict(fps=10, poll_factor=3.0, low_bandwidth=True)),
        # the user's explicit Textual settings win over our defaults
        (
            {**SSH, "TEXTUAL_ANIMATIONS": "full"},
            False,
            dict(animations=True, smooth_scroll=False, animation_level="full"),
        ),
        ({**SSH, "TEXTUAL_ANIMATIONS": "BASIC"}, False, dict(animations=True, animation_level="basic")),
        (
            {"TEXTUAL_ANIMATIONS": "none"},
            False,
            dict(animations=False, smooth_scroll=True, animation_level="none"),
        ),
        ({**SSH, "TEXTUAL_SMOOTH_SCROLL": "1"}, True, dict(animations=False, smooth_scroll=True, fps=10)),
        ({"TEXTUAL_FPS": "30"}, True, dict(fps=30, poll_factor=3.0)),
        ({"TEXTUAL_FPS": "0"}, False, dict(fps=1)),  # Textual's minimum
        ({"TEXTUAL_FPS": "fast"}, True, dict(fps=60)),  # Textual ignores junk, so do we
    ],
)
def test_detect_matrix(env: dict[str, str], low: bool, expect: dict):
    mode = detect(env, low_bandwidth=low)
    assert {k: getattr(mode, k) for k in expect} == expect


def test_detect_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SSH_CONNECTION", SSH["SSH_CONNECTION"])
    assert detect().ssh and not detect().animations
    monkeypatch.delenv("SSH_CONNECTION")
    assert detect() == LinkMode()


def test_apply_env_sets_only_what_is_missing():
    env: dict[str, str] = {}
    assert apply_env(detect(SSH), env) == {"TEXTUAL_ANIMATIONS": "none", "TEXTUAL_SMOOTH_SCROLL": "0"}
    assert env == {"TEXTUAL_ANIMATIONS": "none", "TEXTUAL_SMOOTH_SCROLL": "0"}

    env = {**SSH, "TEXTUAL_ANIMATIONS": "full", "TEXTUAL_FPS": "24"}
    set_now = apply_env(detect(env, low_bandwidth=True), env)
    assert set_now == {"TEXTUAL_SMOOTH_SCROLL": "0"}
    assert env["TEXTUAL_ANIMATIONS"] == "full" and env["TEXTUAL_FPS"] == "24"

    env = {}
    assert apply_env(detect({}, low_bandwidth=True), env) == {
        "TEXTUAL_ANIMATIONS": "none",
        "TEXTUAL_SMOOTH_SCROLL": "0",
        "TEXTUAL_FPS": "10",
    }
    assert apply_env(detect({}), env := {}) == {} and env == {}


def test_poll_interval_and_words():
    assert detect({}, low_bandwidth=True).poll_interval(10.0) == 30.0
    assert detect({}).poll_interval(10.0) == 10.0
    assert detect({}).describe() == ""
    assert detect(SSH).describe() == "SSH, no animations"
    assert detect(SSH, low_bandwidth=True).describe() == "low bandwidth, no animations, 10 fps, polling ×3"


def test_textual_reads_what_apply_env_set():
    """End to end in a fresh interpreter: Textual's constants follow the mode."""
    code = (
        "import json, os\n"
        "from tuiot.fleet.linkmode import detect, apply_env, textual_imported\n"
        "before = textual_imported()\n"
        "apply_env(detect(low_bandwidth=True))\n"
        "import textual.constants as c\n"
        "print(json.dumps([before, textual_imported(), c.TEXTUAL_ANIMATIONS, c.SMOOTH_SCROLL, c.MAX_FPS]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL_", "SSH_"))}
    env["SSH_CONNECTION"] = SSH["SSH_CONNECTION"]
    env["TEXTUAL_FPS"] = "15"  # the user's choice survives
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [False, True, "none", False, 15]


def test_textual_imported_flag():
    assert textual_imported() == ("textual.constants" in sys.modules)
