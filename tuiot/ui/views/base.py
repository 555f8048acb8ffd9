"""What the Alarms and Identities views share: a MarkList with a `/` filter line,
a summary line, an inline message line and a detail pane for the highlighted row.

Subclasses supply the columns, the cells of a row, the rows that pass the filters, the
detail text and the export rows; this class owns the keys that every list has
(`/` filter, space mark, `*` (or ctrl+space) mark all, Esc clear, `e`/`E` export, `y` copy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from tuiot.ui import labels
from tuiot.ui.views import CopyRequested, NamesWanted, export_rows
from tuiot.ui.widgets.detail_pane import DetailPane
from tuiot.ui.widgets.marks import Cell, Column, MarkList


class ListBody(Vertical):
    """Base of a filterable, markable list view (see module doc)."""

    TITLE = ""
    EXPORT_STEM = "export"

    def __init__(self, *, export_dir: Path | None = None, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.export_dir = export_dir
        self.text_filter = ""
        # rows still arriving (profile by profile): the cursor keeps to the first row until they
        # are in; after, it follows its row. Owners that never say so keep it pinned until moved
        self.rows_loading = True
        self.list = MarkList(self.columns(80), self.cells, empty=self.empty_text(), id="rows")

    # ---- for subclasses -----------------------------------------------------------------

    def columns(self, width: int) -> Sequence[Column]:
        raise NotImplementedError

    def cells(self, key: str) -> Sequence[Cell]:
        raise NotImplementedError

    def visible_keys(self) -> list[str]:
        """Keys that pass the current filters, in display order."""
        raise NotImplementedError

    def detail(self, key: str | None, width: int = 0) -> Text | str:
        """The detail pane of row `key`, in lines of at most `width` columns (0: no limit):
        the pane writes it again at each new width (DetailPane)."""
        raise NotImplementedError

    def summary(self) -> Text | str:
        raise NotImplementedError

    def export_columns(self) -> Sequence[str]:
        raise NotImplementedError

    def export_row(self, key: str) -> Mapping[str, Any]:
        raise NotImplementedError

    def copy_text(self, key: str) -> str:
        return key

    def empty_text(self) -> str:
        return "nothing to show"

    def set_text_filter(self, text: str) -> str | None:
        """Take the `/` filter text; return an error line for bad input (filter unchanged)."""
        self.text_filter = text
        return None

    # ---- composition ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.TITLE, classes="view-title", id="title")
        yield Static("", classes="view-summary", id="summary")
        yield self.list
        yield Input(placeholder="filter…  (Enter keeps it, Esc clears)", id="filter")
        yield Static("", classes="view-message", id="message", markup=False)  # errors quote what was typed
        yield DetailPane("", classes="view-detail", id="detail")

    def on_mount(self) -> None:
        self.refilter()

    def focus(self, scroll_visible: bool = True) -> ListBody:
        """Focusing the view focuses its list, where its keys work."""
        self.list.focus(scroll_visible)
        return self

    def on_resize(self) -> None:
        self.list.set_columns(self.columns(self.size.width))
        self.set_class(self.size.height < 24, "-short")  # 80x24: two more rows for the list

    # ---- state → screen ---------------------------------------------------------------

    def refilter(self, *, filter_changed: bool = False) -> None:
        """Recompute the shown rows (O(rows)) and repaint the visible part.

        The cursor stays on its row while that row is shown. When it is not: after a
        refresh it keeps its place (the next row moves up), after a filter change it goes
        to the top, where the worst or newest row of the new selection is.
        """
        self.list.empty = self.empty_text()
        if filter_changed:
            self.list.set_columns(self.columns(self.size.width))  # a filter may show or hide a column
        self.list.set_rows(self.visible_keys(), lost_to_top=filter_changed)
        if not self.rows_loading:
            self.list.pinned_top = False  # the rows are in: from now on the cursor follows its row
        self.list.invalidate()
        self._update_text()

    def wanted_names(self, key: str | None) -> Sequence[str]:
        """Refs the detail pane of row `key` names, which the shell may have to load (NamesWanted)."""
        return ()

    def _show_detail(self, key: str | None) -> None:
        self.query_one("#detail", DetailPane).show(lambda width: self.detail(key, width))
        wanted = self.wanted_names(key)
        if wanted:
            self.post_message(NamesWanted(wanted))

    def _update_text(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#summary", Static).update(self.summary())
        self._show_detail(self.list.highlighted)

    def show_message(self, text: str | None) -> None:
        msg = self.query_one("#message", Static)
        msg.update(text or "")
        msg.set_class(bool(text), "-shown")

    @property
    def message_text(self) -> str:
        return str(self.query_one("#message", Static).content)

    def on_mark_list_highlighted(self, event: MarkList.Highlighted) -> None:
        event.stop()
        if self.is_mounted:
            self._show_detail(event.key)

    def marks_text(self) -> str | None:
        """'3 marked', '3 marked (1 shown)' for the summary line; None when nothing is marked."""
        marked = self.list.marked
        if not marked:
            return None
        shown = self.list.marked_shown()
        return f"{len(marked)} marked" + (f" ({shown} shown)" if shown < len(marked) else "")

    def on_mark_list_marks_changed(self, event: MarkList.MarksChanged) -> None:
        # not stopped: the shell's status bar counts the marks of the screen shown too
        if self.is_mounted:
            self.query_one("#summary", Static).update(self.summary())

    def targets(self) -> list[str]:
        """What an action applies to: the marked rows that are shown, else the highlighted one.

        Marks hidden by a filter are kept but not acted on: an action never touches rows
        the user cannot see.
        """
        marked = [k for k in self.list.keys if k in self.list.marked]
        if marked:
            return marked
        if self.list.marked:  # not the cursor row either: the user meant the marked ones
            n = len(self.list.marked)
            self.notify(f"the {labels.count(n, 'marked row')} {'is' if n == 1 else 'are'} hidden by the filter: "
                        f"change the filter, or esc to clear {'it' if n == 1 else 'them'}", severity="warning")
            return []
        key = self.list.highlighted
        return [key] if key is not None else []

    # ---- the `/` filter ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter" and isinstance(self.app.focused, Input):
            return False  # typing in a box: `/` is text there
        return True

    def action_filter(self) -> None:
        self.add_class("-filtering")
        field = self.query_one("#filter", Input)
        field.value = self.text_filter
        self.screen.set_focus(field)  # at once: the keys typed after `/` belong to it

    def apply_text(self, text: str) -> None:
        """Set the `/` filter from elsewhere (the `:` command line), shown in its box."""
        error = self.set_text_filter(text)
        self.show_message(error)
        if self.is_mounted:
            self.query_one("#filter", Input).value = self.text_filter
            self.set_class(bool(self.text_filter), "-filtering")
        if error is None:
            self.refilter(filter_changed=True)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        event.stop()
        error = self.set_text_filter(event.value)
        self.show_message(error)
        if error is None:
            self.refilter(filter_changed=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        event.stop()
        if not self.text_filter:
            self.remove_class("-filtering")
        self.list.focus()

    # ---- keys shared by every list --------------------------------------------------

    def action_mark(self) -> None:
        self.list.toggle_mark()
        self.list.action_cursor(1)

    def action_mark_all(self) -> None:
        self.list.mark_all()

    def action_clear(self) -> None:
        field = self.query_one("#filter", Input)
        if field.has_focus:
            field.value = ""
            self.set_text_filter("")
            self.show_message(None)
            self.remove_class("-filtering")
            self.refilter(filter_changed=True)
            self.list.focus()
            return
        if self.list.clear_marks():
            return
        if self.text_filter:
            field.value = ""
            self.set_text_filter("")
            self.remove_class("-filtering")
            self.refilter(filter_changed=True)
            return
        raise SkipAction()  # nothing to clear: let the shell's Esc go back

    def action_export_csv(self) -> None:
        self.export("csv")

    def action_export_json(self) -> None:
        self.export("json")

    def export(self, fmt: str) -> Path | None:
        """Write the shown rows (after filters, in display order) as `fmt`."""
        return export_rows(self, self.export_rows_shown(), self.export_columns(), fmt,
                           directory=self.export_dir, stem=self.EXPORT_STEM)

    def export_rows_shown(self) -> list[Mapping[str, Any]]:
        """The rows an export writes: exactly those shown, in display order."""
        return [self.export_row(k) for k in self.list.keys]

    def action_copy(self) -> None:
        keys = self.targets()
        if not keys:
            if not self.list.marked:  # else targets() has said the marks are hidden: one toast
                self.notify("nothing to copy", severity="warning")
            return
        self.post_message(CopyRequested("\n".join(self.copy_text(k) for k in keys)))
