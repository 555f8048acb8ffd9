"""Where the console's Textual CSS lives, and the order it loads in.

Each widget, view and modal is styled in a `styles/*.tcss` named for what it styles, not in
a `DEFAULT_CSS` of its class: one place to read the look, and theme variables only. Any app
that mounts them (the console, a test's host, a benchmark) loads `stylesheets()`, or they
lose their sizes, borders and colours.
"""

from __future__ import annotations

from pathlib import Path

# What the widgets, views and modals need wherever they are mounted; later files win a tie
# of specificity.
PARTS = ("widgets.tcss", "views.tcss", "modals.tcss")
# The console's own layout, last: the rules of PARTS were once DEFAULT_CSS, which every app
# rule outranked, and this file must still have the last word over them.
CONSOLE = "app.tcss"


def styles_dir() -> Path:
    """Styles ship inside the wheel as tuiot/styles; in a checkout they are the top-level styles/."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "styles"
    return packaged if packaged.is_dir() else here.parent / "styles"


def stylesheets(*, console: bool = True) -> list[Path]:
    """The files an app loads, in order; `console=False` leaves out the console's own layout,
    for an app that hosts a widget or modal on its own (a test's, a benchmark's)."""
    return [styles_dir() / name for name in PARTS + ((CONSOLE,) if console else ())]
