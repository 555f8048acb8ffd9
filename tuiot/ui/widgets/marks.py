"""MarkList: a line-API list with a cursor, marks and a fixed header row.

Why not DataTable: the alarm inbox and identity lists hold thousands to tens of
thousands of rows and are replaced on every poll. DataTable rebuilds its row maps and
measures every cell on change (ECOSYSTEM §3.1: ~0.9 s first paint at 10k rows), while a
line-API ScrollView renders only the visible lines: the cost of `set_rows` is O(rows)
for the key list and O(visible) for painting.

The list knows only row keys (in display order) and a `cells(key)` callback giving the
row's cells; filtering and sorting belong to the view that owns the data. Cell styles
are names of component classes (`marklist--<name>`) styled with theme variables, so the
list follows the app's theme.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollLeft, ScrollRight, ScrollTo
from textual.strip import Strip

Cell = tuple[str, str | None]  # text, style name (a `marklist--<name>` component class) or None


@dataclass(frozen=True)
class Column:
    title: str
    width: int  # cells; for a flexible column, its minimum
    flex: bool = False
    right: bool = False
    # how a text too long for the column is cut (text, width → text of at most width): a name's
    # parts give way in their own order (labels.clip_name); None cuts the end off
    clip: Callable[[str, int], str] | None = None


MARK = "*"


class MarkList(ScrollView, can_focus=True):
    """Rows by key; the cursor row is highlighted, marked rows carry a `*` and a tint."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "marklist--header",
        "marklist--cursor",
        "marklist--marked",
        "marklist--dim",
        "marklist--critical",
        "marklist--major",
        "marklist--minor",
        "marklist--warning",
        "marklist--ok",
        "marklist--bad",
        "marklist--accent",
    }

    BINDINGS: ClassVar = [
        Binding("up,k", "cursor(-1)", "up", show=False),
        Binding("down,j", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "first", "first", show=False),
        Binding("end", "last", "last", show=False),
        Binding("left", "column(-1)", "scroll left", show=False),
        Binding("right", "column(1)", "scroll right", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to `key` (None: the list is empty)."""

        def __init__(self, mark_list: MarkList, key: str | None) -> None:
            super().__init__()
            self.mark_list = mark_list
            self.key = key

        @property
        def control(self) -> MarkList:
            return self.mark_list

    class MarksChanged(Message):
        def __init__(self, mark_list: MarkList, count: int) -> None:
            super().__init__()
            self.mark_list = mark_list
            self.count = count

        @property
        def control(self) -> MarkList:
            return self.mark_list

    def __init__(
        self,
        columns: Sequence[Column],
        cells: Callable[[str], Sequence[Cell]],
        *,
        empty: str = "nothing to show",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._columns = list(columns)
        self._cells = cells
        self._keys: list[str] = []
        self._pos_of: dict[str, int] | None = None  # row index by key, built when first asked (_pos)
        self.marked: set[str] = set()
        self.cursor = 0
        # the cursor stays on the first row while rows arrive, until it is moved or the owner
        # says the rows are in: rows come in profile by profile over seconds, and a cursor that
        # followed its first row ended mid-list once rows sorting before it arrived (Live opened
        # scrolled). Once in, the cursor follows its row: a new alarm above the one being read
        # must not take the cursor from it
        self.pinned_top = True
        self.empty = empty
        self._gen = 0
        self._cache: LRUCache[tuple, tuple[Strip, tuple[Cell, ...]]] = LRUCache(512)
        self._drawn: dict[int, tuple[str, tuple[Cell, ...]] | None] = {}  # view line → the row and cells drawn there
        self._last_highlight: str | None | bool = False

    # ---- data -------------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """The rows shown, in order (a copy is not made: do not mutate)."""
        return self._keys

    @property
    def _pos(self) -> dict[str, int]:
        # built on demand: a re-sort or a filter keystroke over 150,000 rows spent 40 ms building
        # it for a cursor lookup that one list scan answers
        if self._pos_of is None:
            self._pos_of = {k: i for i, k in enumerate(self._keys)}
        return self._pos_of

    def _index(self, key: str) -> int | None:
        if self._pos_of is not None:
            return self._pos_of.get(key)
        try:
            return self._keys.index(key)
        except ValueError:
            return None

    @property
    def highlighted(self) -> str | None:
        return self._keys[self.cursor] if self._keys else None

    def set_columns(self, columns: Sequence[Column]) -> None:
        self._columns = list(columns)
        self._size_rows()
        self.invalidate()

    def set_rows(self, keys: Sequence[str], *, keep: str | None = None, lost_to_top: bool = False) -> None:
        """Show `keys` in this order; the cursor stays on `keep` (or its current key). If that
        key is gone, the cursor keeps its index, or goes to the first row with `lost_to_top`."""
        current = keep if keep is not None else self.highlighted
        if self.pinned_top and keep is None:
            current, lost_to_top = None, True
        self._keys = list(keys)
        self._pos_of = None
        stay = 0 if lost_to_top else min(self.cursor, max(0, len(self._keys) - 1))
        at = self._index(current) if current else 0
        self.cursor = stay if at is None else at
        self._size_rows()
        self.invalidate()
        self._scroll_to_cursor()
        self._announce()

    def invalidate(self) -> None:
        """Row contents changed: forget rendered lines and repaint what is visible."""
        self._gen += 1
        self._cache.clear()
        self.refresh()

    def refresh_changed(self) -> int:
        """Row contents changed, the rows and their order did not (a periodic refresh): repaint
        only the lines on screen whose cells differ from what they show; rows off screen are
        drawn afresh when scrolled to. Returns how many lines were repainted."""
        self._gen += 1
        self._cache.clear()
        top = int(self.scroll_offset.y)
        repainted = 0
        for y in range(1, self.size.height):
            index = top + y - 1
            now = (key := self._keys[index], tuple(self._cells(key))) if index < len(self._keys) else None
            if self._drawn.get(y, False) != now:
                self.refresh_line(index + 1)  # refresh_line counts from the top of the list
                repainted += 1
        return repainted

    # ---- marks ------------------------------------------------------------------------

    def toggle_mark(self, key: str | None = None) -> None:
        key = key if key is not None else self.highlighted
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self._refresh_key(key)
        self.post_message(self.MarksChanged(self, len(self.marked)))

    def mark_all(self) -> None:
        """Mark every shown row; when all are marked already, unmark them."""
        shown = set(self._keys)
        if shown and shown <= self.marked:
            self.marked -= shown
        else:
            self.marked |= shown
        self.invalidate()
        self.post_message(self.MarksChanged(self, len(self.marked)))

    def in_view(self, margin: int = 0) -> list[str]:
        """The keys of the rows on screen now, and `margin` rows either side."""
        top = int(self.scroll_offset.y)
        return self._keys[max(0, top - margin): top + max(1, self.size.height - 1) + margin]

    def marked_shown(self) -> int:
        """How many marked rows the filter shows (O(marks))."""
        return sum(1 for k in self.marked if k in self._pos)

    def unmark(self, keys: set[str]) -> None:
        """Drop these marks (rows a bulk action has dealt with)."""
        if self.marked & keys:
            self.marked -= keys
            self.invalidate()
            self.post_message(self.MarksChanged(self, len(self.marked)))

    def clear_marks(self) -> bool:
        if not self.marked:
            return False
        self.marked.clear()
        self.invalidate()
        self.post_message(self.MarksChanged(self, 0))
        return True

    # ---- cursor -----------------------------------------------------------------------

    def move_to(self, key: str) -> None:
        if key in self._pos:
            self._set_cursor(self._pos[key])

    def action_cursor(self, delta: int) -> None:
        self._set_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._set_cursor(self.cursor + direction * max(1, self.size.height - 2))

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self._keys) - 1)

    def action_column(self, direction: int) -> None:
        """Scroll sideways by a whole column, when the columns are wider than the view."""
        view = self.scrollable_content_region.width
        starts = self._starts(view)
        left = int(self.scroll_offset.x)
        if direction > 0:
            target = next((s for s in starts if s > left), left)
        else:
            target = max((s for s in starts if s < left), default=0)
        self.scroll_to(x=min(target, self._max_left(view)), animate=False, immediate=True)

    def _starts(self, view: int) -> list[int]:
        """Where each column's lead space begins, at this view width; the first is the mark's."""
        starts, x = [0], 1
        for w in self._widths(self._full_width(view))[:-1]:
            x += w + 1
            starts.append(x)
        return starts

    def _max_left(self, view: int) -> int:
        """The furthest sideways scroll: the first column start from which the rest fits. Not the
        columns' width less the view's, which left the first column shown cut in half."""
        over = self._full_width(view) - view
        if over <= 0:
            return 0
        return next((s for s in self._starts(view) if s >= over), over)

    def on_scroll_to(self, message: ScrollTo) -> None:
        """A drag of the sideways scrollbar stops where a column starts, as left/right do: it
        stopped anywhere, with the first column shown cut. Runs before Widget's own handler,
        which then scrolls to the column start."""
        if message.x is not None:
            view = self.scrollable_content_region.width
            x = message.x
            message.x = min(min(self._starts(view), key=lambda s: (abs(s - x), s)), self._max_left(view))

    def on_scroll_left(self, message: ScrollLeft) -> None:
        message.prevent_default()  # a click on the scrollbar's track: a column, not a page of cells
        self.action_column(-1)

    def on_scroll_right(self, message: ScrollRight) -> None:
        message.prevent_default()
        self.action_column(1)

    def _set_cursor(self, index: int) -> None:
        if not self._keys:
            return
        index = max(0, min(index, len(self._keys) - 1))
        if index == self.cursor:
            return
        old, self.cursor = self.cursor, index
        self.pinned_top = self.pinned_top and index == 0
        self._refresh_index(old)
        self._refresh_index(index)
        self._scroll_to_cursor()
        self._announce()

    def _scroll_to_cursor(self) -> None:
        rows = max(1, self.size.height - 1)  # line 0 is the header
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True)

    def _announce(self) -> None:
        key = self.highlighted
        if key != self._last_highlight:
            self._last_highlight = key
            self.post_message(self.Highlighted(self, key))

    def _refresh_index(self, index: int) -> None:
        y = index - int(self.scroll_offset.y) + 1  # its line in the view (0 is the header)
        if 1 <= y < self.size.height:
            # refresh_line takes the line in the whole list and takes the scroll off itself: given
            # the view's line, a list scrolled down repainted another (off-screen) line, and the
            # cursor stayed drawn on the row it had left
            self.refresh_line(index + 1)

    def _refresh_key(self, key: str) -> None:
        if key in self._pos:
            self._refresh_index(self._pos[key])

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._set_cursor(int(self.scroll_offset.y) + event.y - 1)

    def on_resize(self, event: events.Resize) -> None:
        self._size_rows()
        self._cache.clear()
        self._scroll_to_cursor()
        left = int(self.scroll_offset.x)
        if left:  # the columns moved under a sideways scroll: back to the start of the one it was in
            view = self.scrollable_content_region.width
            at = min(max((s for s in self._starts(view) if s <= left), default=0), self._max_left(view))
            if at != left:
                self.scroll_to(x=at, animate=False, immediate=True)

    def watch_show_vertical_scrollbar(self) -> None:
        # the scrollbar came or went after the rows were sized: the view is 2 cells narrower or
        # wider, and the sideways padding (and flex columns) were worked out for the old width
        if self.is_mounted:
            self._size_rows()

    def _size_rows(self) -> None:
        # as wide as the columns need: on a narrow terminal the list scrolls sideways (left/right),
        # a few blank cells wider where that lets the last scroll stop on a column's start
        view = self.scrollable_content_region.width
        self.virtual_size = Size(max(self._full_width(view), self._max_left(view) + view), len(self._keys) + 1)

    # ---- rendering --------------------------------------------------------------------

    def _full_width(self, width: int) -> int:
        """The width rows are laid out at: the view's, or the columns' least when that is wider."""
        return max(width, self._least_width())

    def _least_width(self) -> int:
        return 1 + sum(c.width + 1 for c in self._columns)  # one cell for the mark, a space before each column

    def _widths(self, width: int) -> list[int]:
        fixed = self._least_width()
        flex = [c for c in self._columns if c.flex]
        spare = max(0, width - fixed)
        out = []
        for c in self._columns:
            extra = spare // len(flex) if c.flex and flex else 0
            out.append(c.width + extra)
        return out

    def _line(self, cells: Sequence[Cell], widths: list[int], mark: str, base: Style, width: int) -> Strip:
        segs = [Segment(mark, base)]
        for (text, style_name), w, col in zip(cells, widths, self._columns):
            text = text.replace("\n", " ")
            if cell_len(text) > w > 1:
                clipped = col.clip(text, w) if col.clip is not None else ""
                # the clip counts characters: a wide one (CJK) may still overflow, so cut the end
                text = clipped if clipped and cell_len(clipped) <= w else set_cell_size(text, w - 1) + "…"
            text = text.rjust(w) if col.right else text
            style = base + self.get_component_rich_style(f"marklist--{style_name}", partial=True) if style_name else base
            segs.append(Segment(" ", base))
            segs.append(Segment(set_cell_size(text, w), style))
        return Strip(segs).extend_cell_length(width, base).crop(0, width)

    def render_line(self, y: int) -> Strip:
        view = self.scrollable_content_region.width  # without the scrollbar gutter
        width = self._full_width(view)
        left = int(self.scroll_offset.x)
        padded = max(width, left + view)  # past the last column (see _size_rows): blank, in the row's style
        base = self.rich_style
        widths = self._widths(width)
        if y == 0:
            header = base + self.get_component_rich_style("marklist--header")
            line = self._line([(c.title, None) for c in self._columns], widths, " ", header, padded)
            return line.crop(left, left + view)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._keys):
            self._drawn[y] = None
            if not self._keys and y == 1:
                dim = base + self.get_component_rich_style("marklist--dim")
                return Strip([Segment(f"  {self.empty}", dim)]).extend_cell_length(view, base).crop(0, view)
            return Strip.blank(view, base)
        key = self._keys[index]
        is_cursor = index == self.cursor
        is_marked = key in self.marked
        cache_key = (key, self._gen, width, padded, is_cursor, is_marked, self.has_focus)
        cached = self._cache.get(cache_key)
        if cached is None:
            style = base
            if is_marked:
                style = style + self.get_component_rich_style("marklist--marked")
            if is_cursor:
                style = style + self.get_component_rich_style("marklist--cursor")
            cells = tuple(self._cells(key))
            cached = self._line(cells, widths, MARK if is_marked else " ", style, padded), cells
            self._cache[cache_key] = cached
        strip, self._drawn[y] = cached[0], (key, cached[1])
        return strip.crop(left, left + view)

    def on_focus(self) -> None:
        self._refresh_index(self.cursor)

    def on_blur(self) -> None:
        self._refresh_index(self.cursor)
