"""Asking for a profile's secret when neither the environment nor a keyring has it.

On a jump host there is often no keyring: the console asks once, keeps the answer in
memory for the session (tuiot.credentials.SecretSource) and never writes it anywhere.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from tuiot.ui.screens.modal import Modal, keys_footer


class SecretPrompt(Modal[str | None]):
    """A password box for one profile; dismisses with the secret, or None (esc)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]
    AUTO_FOCUS = "Input"

    def __init__(self, profile: str, vendor: str, *, env_name: str, problem: str | None = None) -> None:
        super().__init__()
        self.profile, self.vendor, self.env_name, self.problem = profile, vendor, env_name, problem

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Secret for profile {self.profile} ({self.vendor})", markup=False)
            if self.problem:
                yield Static(self.problem, classes="hint", markup=False)
            yield Input(password=True, placeholder="API key, client secret or password", id="secret")
            yield Static(f"kept in memory for this session only · `tuiot auth set {self.profile}` stores it "
                         f"in the keyring; {self.env_name} is read too · enter: use it · esc: skip",
                         classes="hint", markup=False)
        yield keys_footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
