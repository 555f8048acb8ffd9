"""The first run: no profiles yet, so say how to add one and offer the demo."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Label


class FirstRun(App[int]):
    """No profiles yet: say how to add one, offer the demo (exits 2 for the demo).

    The console passes its stylesheet as `css_path`."""

    BINDINGS = [Binding("d", "demo", "Open the demo fleet"), Binding("q,ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Label(
            "[b]Welcome to tuiot[/b]\n\nNo profiles are configured yet. Add one from the shell:\n\n"
            "  tuiot profile add plant --vendor teamviewer --base-url https://api.teamviewer-iot.com\n"
            "  tuiot auth set plant\n\n"
            "Vendors: teamviewer, thingsee (--client-id), murano (--username --solution-id),\n"
            "thingspro (--username --gateway URL ...).\n\n"
            "Press [b]d[/b] to explore the built-in demo fleet, [b]q[/b] to quit.",
            id="welcome",
        )
        yield Footer()

    def action_demo(self) -> None:
        self.exit(2)
