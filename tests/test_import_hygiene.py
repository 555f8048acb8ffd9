"""The headless core never imports Textual; layer contracts hold (import-linter)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, env=os.environ.copy(),
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "argv",
    [
        ["tree", "--help"],
        ["--demo", "tree", "--profile", "TeamViewer", "--format", "json"],
        ["--demo", "latest", "--profile", "TeamViewer", "--format", "csv"],
        ["rules", "validate", "metric > 1"],
    ],
)
def test_headless_commands_never_import_textual(argv: list[str]) -> None:
    code = (
        "import sys, contextlib, io\n"
        "from tuiot.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    try:\n        main({argv!r})\n    except SystemExit:\n        pass\n"
    )
    mods = _modules_after(code)
    assert not {m for m in mods if m == "textual" or m.startswith(("textual.", "tuiot.ui"))}


def test_adapters_and_fleet_do_not_import_textual() -> None:
    # (rich may appear: httpx imports it for its own CLI when it is installed)
    mods = _modules_after("import tuiot.adapters.base, tuiot.config, tuiot.credentials, tuiot.simulators.fleet")
    assert "textual" not in mods and not any(m.startswith("tuiot.ui") for m in mods)


def test_import_contracts() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter not installed")
    r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_console_start_imports_only_what_the_first_screen_needs() -> None:
    """DESIGN §7: `tuiot --demo` to first data on screen imports no sub-command module and
    not httpx's own shell command (click, pygments), which cost every start ~60 ms."""
    code = (
        "from tuiot.cli import main\n"
        "code = main(['--demo', '--exit-on-data'])\n"
        "assert code == 0, code\n"
    )
    mods = _modules_after(code)
    assert "tuiot.adapters.base" in mods and "tuiot.simulators.demo" in mods  # it did reach the data
    assert not {m for m in mods if m.startswith(("tuiot.commands", "click", "pygments", "httpx._main"))}


def test_console_app_imports_no_view_but_devices() -> None:
    """DESIGN §7: the first screen is Devices; the other five views (and their list widget
    and dialogs) are imported on first visit, not by `import tuiot.ui.app`: the registry
    reads their keys from tuiot.ui.actions, the shell their messages from tuiot.ui.messages."""
    mods = _modules_after("import tuiot.ui.app")
    assert "tuiot.ui.widgets.fleet_tree" in mods and "tuiot.ui.views" in mods  # what Devices needs
    late = {f"tuiot.ui.views.{v}" for v in ("alarms", "identities", "live", "metrics", "rules", "base")}
    late |= {"tuiot.ui.screens.confirm", "tuiot.ui.screens.prompts", "tuiot.ui.widgets.marks"}
    assert not late & mods


def test_the_registry_holds_the_views_own_tables() -> None:
    """One registry: keys.py's tables are the very lists each view binds."""
    from tuiot.ui import keys
    from tuiot.ui.views import alarms, identities, live, metrics, rules

    for screen, mod in [("metrics", metrics), ("live", live), ("alarms", alarms), ("rules", rules),
                        ("identities", identities)]:
        assert keys.SCREEN_ACTIONS[screen] is mod.ACTIONS


def test_httpx_cli_still_importable_after_the_lean_import() -> None:
    mods = _modules_after("import tuiot.httpx_lean, httpx._main")
    assert "httpx._main" in mods


def test_console_options_are_told_apart_from_sub_commands() -> None:
    from tuiot.cli import _console_args

    assert _console_args(["--demo", "--devices", "50"]).devices == 50
    assert _console_args(["latest", "--device", "TSPD1"]) is None  # not `--devices`: a sub-command's option
    assert _console_args(["--demo", "tree"]) is None
    assert _console_args(["--devices", "x"]) is None  # the whole parser says what is wrong
    assert _console_args(["--help"]) is None  # the whole help lists the sub-commands
