"""The console's look lives in styles/*.tcss, in theme variables, so every Textual theme works."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import App
from textual.css.stylesheet import Stylesheet

import tuiot
from tuiot.ui.stylesheets import stylesheets

UI = Path(tuiot.__file__).parent / "ui"


def test_every_stylesheet_is_there_and_parses() -> None:
    sheet = Stylesheet(variables=App().get_css_variables())  # the default theme's
    for path in stylesheets():
        sheet.read(path)
    sheet.parse()  # raises on a rule Textual cannot read
    assert [p.name for p in stylesheets()][-1] == "app.tcss"  # the console's layout has the last word


def test_no_stylesheet_hard_codes_a_colour() -> None:
    for path in stylesheets():
        text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
        # an id selector (#editor) is followed by a space, brace or combinator; a colour by ; or a space
        colours = [m.group() for m in re.finditer(r":[^;{}]*?(#[0-9a-fA-F]{3,8})\b", text)]
        assert not colours, (path.name, colours)


def test_our_widgets_keep_no_css_in_python() -> None:
    carriers = sorted(str(p.relative_to(UI)) for p in UI.rglob("*.py") if "DEFAULT_CSS =" in p.read_text())
    assert carriers == [], carriers
