"""A bare host for the console's widgets and modals, dressed as the console dresses them."""

from __future__ import annotations

from typing import Any

from textual.app import App

from tuiot.ui.stylesheets import stylesheets


class StyledApp(App[Any]):
    """Their sizes, borders and colours live in styles/*.tcss, which only an app loads: a host
    without them lays out a modal's box at full height or a list at its content's. Not the
    console's own layout (app.tcss): a host shows the widget as it is, not as placed there."""

    CSS_PATH = [str(p) for p in stylesheets(console=False)]
