"""The small questions a write asks first: a tag, one of a few choices, one line of text.

Each is a `Modal`, as every question of the console is: its footer lists its keys (enter
applies, esc cancels) and below 100 columns its box spans the width. Bad input is an inline
line under the fields (`.dialog-error`), and nothing typed is lost.

`TagDialog(title, *, name="", value="", existing=None, offer_replace=False)` dismisses with
    (name, value, replace) or None.
`ChoiceDialog(title, choices, *, current=None)` dismisses with the choice or None.
`TextDialog(title, *, value="", placeholder="", pattern=ONE_WORD, hint="", check=None)`
    dismisses with the text or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, OptionList
from textual.widgets.option_list import Option

from tuiot.ui.screens.modal import Modal, keys_footer

ResultT = TypeVar("ResultT")

TAG_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
ONE_WORD = re.compile(r"^\S{1,128}$")  # a group id, by default


class Prompt(Modal[ResultT]):
    """Enter applies from any field but a checkbox; esc cancels. Enter is bound with priority,
    over the field's own: an Input's enter (submit) is not shown in a footer and would hide
    this one. On a checkbox enter toggles it, as space does: a user who tabbed to the box
    and pressed enter to tick it had the whole write asked instead."""

    BINDINGS: ClassVar = [
        Binding("enter", "apply", "apply", priority=True),
        Binding("escape", "cancel", "cancel"),
    ]
    AUTO_FOCUS = "Input, OptionList"  # typing goes to the dialog at once (the app's own is the tree)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # on a checkbox the priority binding stands aside: the box's own enter toggles it
        if action == "apply":
            return not isinstance(self.focused, Checkbox)
        return True

    def action_apply(self) -> None:
        """Check the fields and dismiss with the answer: each dialog says what that is."""
        raise NotImplementedError  # a Prompt is only ever one of the dialogs below, each defining it

    def action_cancel(self) -> None:
        self.dismiss(None)

    def error(self, text: str) -> None:
        self.query_one(".dialog-error", Label).update(text)


class TagDialog(Prompt[tuple[str, str, bool] | None]):
    """Ask for a tag name and value.

    `offer_replace` shows a box to replace the tag's other values instead of adding one.
    With `existing` (removing a tag) both fields start empty, whatever the identities have:
    a pre-filled tag went with one Enter and `y` although nobody chose it. A line lists
    the tags there are instead, and an empty value means every value of the tag."""

    HINT_TAGS = 12  # the hint line names this many tags, then counts the rest

    def __init__(self, title: str, *, name: str = "", value: str = "",
                 existing: Collection[tuple[str, str]] | None = None, offer_replace: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.initial = (name, value)
        self.existing = set(existing) if existing is not None else None
        self.offer_replace = offer_replace

    @property
    def removing(self) -> bool:
        return self.existing is not None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            if self.existing is not None:
                yield Label(tags_hint(self.existing, self.HINT_TAGS), classes="dialog-help", markup=False)
            # a label beside each field: a placeholder is gone once the field holds text
            with Horizontal(classes="dialog-field"):
                yield Label("name", markup=False)
                yield Input(self.initial[0], placeholder="tag name", id="tag-name")
            with Horizontal(classes="dialog-field"):
                yield Label("value", markup=False)
                yield Input(self.initial[1], placeholder="empty: every value" if self.removing else "tag value",
                            id="tag-value")
            if self.offer_replace:
                yield Checkbox("replace its other values (tab, then space)", id="replace")
            yield Label("", classes="dialog-error", markup=False)
        yield keys_footer()

    def action_apply(self) -> None:
        name_field = self.query_one("#tag-name", Input)
        name = name_field.value.strip()
        value = self.query_one("#tag-value", Input).value.strip()
        if self.focused is name_field and not value:
            self.query_one("#tag-value", Input).focus()
            return
        if (why := self._refusal(name, value)) is not None:
            self.error(why)
            return
        replace = self.offer_replace and self.query_one("#replace", Checkbox).value
        self.dismiss((name, value, replace))

    def _refusal(self, name: str, value: str) -> str | None:
        """Why (name, value) cannot be applied, focusing the field to fix; None when it can."""
        if not TAG_NAME.match(name):
            self.query_one("#tag-name", Input).focus()
            return "a tag name is 1–64 letters, digits or _ . : -"
        if self.existing is not None:
            if not value:
                has = any(n == name for n, _ in self.existing)
                return None if has else f"no selected identity has a tag {name}"
            return None if (name, value) in self.existing else f"no selected identity has the tag {name}={value}"
        if not value or len(value) > 256:
            self.query_one("#tag-value", Input).focus()
            return "a tag value is 1–256 characters"
        return None


def tags_hint(existing: Collection[tuple[str, str]], limit: int) -> str:
    """'tags here: city=Lyon, city=Paris, env=qa': what there is to remove."""
    tags = [f"{n}={v}" for n, v in sorted(existing)]
    more = f" and {len(tags) - limit} more" if len(tags) > limit else ""
    return "tags here: " + ", ".join(tags[:limit]) + more  # a value may hold spaces


class ChoiceDialog(Prompt[str | None]):
    """Pick one of `choices`."""

    def __init__(self, title: str, choices: Sequence[str], *, current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(*[Option(c, id=c) for c in self.choices], id="choices")
            yield Label("", classes="dialog-error", markup=False)
        yield keys_footer()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current in self.choices:
            options.highlighted = self.choices.index(self.current)
        options.focus()

    def action_apply(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click on a choice
        self.dismiss(event.option.id)


class TextDialog(Prompt[str | None]):
    """Ask for one value checked by `pattern`, then by `check` (why the text is refused, or None)."""

    def __init__(self, title: str, *, value: str = "", placeholder: str = "",
                 pattern: re.Pattern[str] = ONE_WORD, hint: str = "",
                 check: Callable[[str], str | None] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.pattern = pattern
        self.hint = hint
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="text")
            yield Label("", classes="dialog-error", markup=False)
        yield keys_footer()

    def action_apply(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if not self.pattern.match(text):
            self.error(self.hint or "not a valid value")
            return
        if self.check is not None and (why := self.check(text)) is not None:
            self.error(why)
            return
        self.dismiss(text)
