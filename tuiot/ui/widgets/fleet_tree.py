"""The Devices tree: one top line per profile, and lines added only as they are opened.

It holds the tree's lines and nothing else: nodes, names, alarms and marks belong to
`FleetState` and the app. A 100,000-device fleet is about 2,000 group lines at first;
a group's devices go in 500 at a time as it opens, and a device's sensors and metrics
are asked for (`ChildrenWanted`) the first time it opens.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from textual import on
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tuiot.domain import Node
from tuiot.fleet.state import FleetState
from tuiot.ui import labels

PAGE = 500  # devices added to a group line at a time
ROOT_SLICE = 200  # top-level lines added per turn of the event loop (their labels are parsed markup)
THEME_VARIABLE = re.compile(r"\[\$([a-z-]+)\]")


class ChildrenWanted(Message):
    """A device or sensor was opened for the first time: its children are to be fetched."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node


class FleetTree(Tree[str]):
    """Every profile's groups → devices → sensors → metrics; line data is the node's ref."""

    BINDINGS = [
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
        # as in file trees: right opens (then steps in), left closes (then steps out)
        Binding("right", "open_or_in", show=False),
        Binding("left", "close_or_out", show=False),
    ]

    def action_open_or_in(self) -> None:
        line = self.cursor_node
        if line is None or not line.allow_expand:
            return
        if not line.is_expanded:
            line.expand()  # NodeExpanded: a device's children are asked for the first time
        elif line.children:
            self.move_cursor(line.children[0])

    def action_close_or_out(self) -> None:
        line = self.cursor_node
        if line is None:
            return
        if line.is_expanded and line.children:
            line.collapse()
        elif line.parent is not None and line.parent is not self.root:
            self.move_cursor(line.parent)

    def __init__(self, fleet: FleetState, *, marked: Callable[[], set[str]], id: str | None = None) -> None:
        super().__init__("fleet", id=id)
        self.fleet = fleet
        self._marked = marked
        self.lines: dict[str, TreeNode[str]] = {}  # ref → its line, for the lines added so far
        self._theme_vars: tuple[str, dict[str, str]] | None = None
        self._after_paint: list[Callable[[], None]] = []

    def when_painted(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the tree's lines as they are now have gone out in a frame.

        `call_after_refresh` waits for the whole screen to be idle, which while other
        profiles are still loading can be a hundred milliseconds after the frame."""
        self._after_paint.append(callback)
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        if self._after_paint:
            # the compositor writes the frame in this same call: what is queued now runs after
            loop = asyncio.get_running_loop()
            for callback in self._after_paint:
                loop.call_soon(callback)
            self._after_paint = []
        return lines

    def get_label_width(self, node: TreeNode[str]) -> int:
        # Tree measures every line on each rebuild (for its sideways scroll) by rendering its
        # label: thousands of top-level lines, rebuilt as each slice of them went in, were
        # ~5% of loading 100k devices. The label's length and its toggle icon's say the same.
        icon = (self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE) if node.allow_expand else ""
        return len(icon) + node.label.cell_len

    # ---- adding lines ---------------------------------------------------------------------

    def add_profile(self, name: str) -> TreeNode[str]:
        ref = f"{name}/profile/{name}"
        self.lines[ref] = line = self.root.add(self._line_label(ref), data=ref, expand=True)
        return line

    async def set_roots(self, name: str, still_current: Callable[[], bool]) -> bool:
        """Put a profile's top-level nodes under its line, a slice per turn of the event loop;
        False (and stop) once `still_current()` says a newer tree has come for the profile."""
        top = self.lines[f"{name}/profile/{name}"]
        # a reload (the live tree over the snapshot's, ctrl+r, a group move) keeps what the
        # user had open and where the cursor was: it once folded a group under the cursor
        opened = [line.data for line in self._below(top) if line.is_expanded and line.data]
        cursor = self.cursor_ref if self.cursor_ref and self.cursor_ref.startswith(f"{name}/") else None
        self._forget_below(top)
        top.remove_children()
        for i, node in enumerate(self.fleet.roots(name)):
            if i and i % ROOT_SLICE == 0:
                await asyncio.sleep(0)
                if not still_current():
                    return False
            self.add_line(top, node)
        self.relabel_profile(name)
        self._reopen(opened, cursor)
        return True

    def _below(self, line: TreeNode[str]) -> list[TreeNode[str]]:
        """Every line under `line`, parents before their children."""
        out, stack = [], list(reversed(line.children))
        while stack:
            child = stack.pop()
            out.append(child)
            stack.extend(reversed(child.children))
        return out

    def _reopen(self, refs: list[str], cursor: str | None) -> None:
        for ref in refs:  # parents first: a group's page of lines exists before its devices open
            line, node = self.lines.get(ref), self.fleet.nodes.get(ref)
            if line is None or node is None:
                continue
            if node.kind == "group":
                self.fill_group(line, ref)
            line.expand()  # a device asks for its children again (ChildrenWanted)
        if cursor is not None and cursor in self.fleet.nodes:
            self.reveal(cursor)

    def add_line(self, parent: TreeNode[str], node: Node) -> TreeNode[str]:
        if node.kind == "metric":
            line = parent.add_leaf(self._line_label(node.ref), data=node.ref)
        else:
            # children go in when the line is first opened
            line = parent.add(self._line_label(node.ref), data=node.ref, allow_expand=node.has_children is not False)
        self.lines[node.ref] = line
        return line

    def _forget_below(self, line: TreeNode[str]) -> None:
        """Lines about to be removed leave `lines`: a ref kept for a removed line moved the
        cursor to whatever line that index now is (a device moved to another group)."""
        for child in self._below(line):
            if child.data is not None and self.lines.get(child.data) is child:
                del self.lines[child.data]

    def fill_group(self, line: TreeNode[str], ref: str) -> None:
        if not line.children and self.fleet.kids(ref):
            self._add_page(line, ref, 0)

    def _add_page(self, line: TreeNode[str], ref: str, start: int) -> None:
        kids = self.fleet.kids(ref)
        for child in kids[start:start + PAGE]:
            self.add_line(line, child)
        if len(kids) > start + PAGE:
            line.add_leaf(f"[dim]… {len(kids) - start - PAGE} more (enter)[/]", data=f"more:{ref}:{start + PAGE}")

    def fill_children(self, ref: str) -> bool:
        """A device's sensors and metrics came: show them (sensors open). False if it has no line."""
        line = self.lines.get(ref)
        if line is None:
            return False
        self._forget_below(line)
        line.remove_children()
        for kid in self.fleet.kids(ref):
            self.add_line(line, kid)
            if kid.kind == "sensor":
                # sensors come with their metrics: show them at once
                for metric in self.fleet.kids(kid.ref):
                    self.add_line(self.lines[kid.ref], metric)
                self.lines[kid.ref].expand()
        return True

    # ---- labels -------------------------------------------------------------------------------

    def relabel(self, refs: set[str]) -> None:
        """Redraw the labels of these nodes (those with a line so far)."""
        for ref in refs:
            if (line := self.lines.get(ref)) is not None and ref in self.fleet.nodes:
                line.set_label(self._line_label(ref))

    def relabel_profile(self, name: str) -> None:
        ref = f"{name}/profile/{name}"
        if (line := self.lines.get(ref)) is not None:
            line.set_label(self._line_label(ref))

    def _line_label(self, ref: str) -> str:
        node = self.fleet.nodes.get(ref)
        if node is None:
            name = ref.split("/", 1)[0]
            return self._themed(labels.profile_label(name, self.fleet.profiles.get(name)))
        return self._themed(labels.node_label(node, worst=self.fleet.severity(node), marked=ref in self._marked()))

    def _themed(self, markup: str) -> str:
        """Line labels are Rich markup, which knows no theme variables: resolve them here."""
        if self._theme_vars is None or self._theme_vars[0] != self.app.theme:
            self._theme_vars = (self.app.theme, self.app.get_css_variables())  # once per theme, not per label
        variables = self._theme_vars[1]
        return THEME_VARIABLE.sub(lambda m: f"[{variables.get(m.group(1), 'default')}]", markup)

    # ---- the cursor -----------------------------------------------------------------------------

    def on_resize(self) -> None:
        # Tree keeps its scroll offset on a resize: a terminal that shrinks leaves the
        # cursor line below the bottom edge, and no visible line is highlighted
        self.scroll_to_cursor()

    def scroll_to_cursor(self) -> None:
        """Bring the cursor line into view at once (no animation: it is not a move)."""
        if self.cursor_line >= 0:
            self.scroll_to_line(self.cursor_line, animate=False)

    @property
    def cursor_ref(self) -> str | None:
        """The ref under the cursor (None on a "… more" line)."""
        line = self.cursor_node
        return line.data if line is not None and isinstance(line.data, str) and not line.data.startswith("more:") else None

    def reveal(self, ref: str) -> bool:
        """Open the path to `ref` (adding paged-out siblings if needed) and put the cursor on it."""
        for anc in self.fleet.ancestors(ref):
            if (line := self.lines.get(anc)) is not None:
                anc_node = self.fleet.nodes.get(anc)
                if anc_node is not None and anc_node.kind == "group":
                    self.fill_group(line, anc)
                line.expand()
        target = self.lines.get(ref)
        node = self.fleet.nodes.get(ref)
        if target is None and node is not None and node.parent in self.lines:
            target = self.add_line(self.lines[node.parent], node)
        if target is None:
            return False
        self.get_node_at_line(0)  # rebuilds the line index now, so the node's line is known
        self.move_cursor(target)
        return True

    # ---- opening lines --------------------------------------------------------------------------

    @on(Tree.NodeExpanded)
    def _opened(self, event: Tree.NodeExpanded[str]) -> None:
        node = self.fleet.nodes.get(event.node.data or "")
        if node is not None and node.kind == "group":
            self.fill_group(event.node, node.ref)
        elif node is not None and node.kind in ("device", "sensor") and not event.node.children:
            event.node.add_leaf("[dim]loading…[/]")
            self.post_message(ChildrenWanted(node))

    @on(Tree.NodeSelected)
    def _more(self, event: Tree.NodeSelected[str]) -> None:
        data = event.node.data or ""
        if data.startswith("more:"):
            event.stop()  # the "… more" line is the tree's own business
            parent_ref, start = data.removeprefix("more:").rsplit(":", 1)
            parent = event.node.parent
            event.node.remove()
            if parent is not None:
                self._add_page(parent, parent_ref, int(start))
