"""The one action registry: every key of the console, declared once.

The app's bindings, the `?` help screen and the ctrl+p palette are all generated from
`GLOBAL`, the Devices keys and each view's table (tuiot.ui.actions, the same lists the views
bind), so a key shown in help is the key that works. The tables are read from there, not
from the views: start-up imports no view but Devices (DESIGN §7).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content

from tuiot.ui.actions import ALARM_ACTIONS, IDENTITY_ACTIONS, LIVE_ACTIONS, METRIC_ACTIONS, RULE_ACTIONS
from tuiot.ui.labels import escape, wrap
from tuiot.ui.views import TITLES, ViewAction

SCREENS = ("devices", "metrics", "live", "alarms", "rules", "identities")
# TITLES (imported above) lives with the views, whose own headings say it too

GLOBAL: list[ViewAction] = [
    ViewAction("show('devices')", "1", "Devices", show_in_footer=False),  # the title bar shows 1-6
    ViewAction("show('metrics')", "2", "Metrics", show_in_footer=False),
    ViewAction("show('live')", "3", "Live", show_in_footer=False),
    ViewAction("show('alarms')", "4", "Alarms", show_in_footer=False),
    ViewAction("show('rules')", "5", "Rules", show_in_footer=False),
    ViewAction("show('identities')", "6", "Identities", show_in_footer=False),
    ViewAction("command_line", "colon", "Command", footer="cmd"),
    ViewAction("help", "question_mark", "Help", footer="help"),  # last: the footer ends with `? help`
    ViewAction("refresh", "ctrl+r", "Refresh now", show_in_footer=False),
    ViewAction("back", "escape", "Back (first clears marks, a filter or an open box)", show_in_footer=False),
    ViewAction("quit", "ctrl+q", "Quit", show_in_footer=False),  # help and the palette say it; the footer has no room
]

SCREEN_ACTIONS: dict[str, list[ViewAction]] = {
    "devices": [
        ViewAction("filter", "slash", "Find in the whole fleet", footer="find"),
        ViewAction("next_match", "n", "Next match", show_in_footer=False),
        ViewAction("open_selected", "enter", "Drill down / open metric", show_in_footer=False),
        ViewAction("live_selected", "l", "Live values (cursor or marked)", footer="live"),
        ViewAction("mark_device", "m", "Mark device (l, e, y act on marks)", footer="mark"),
        ViewAction("copy_selected", "y", "Copy id(s)", footer="copy"),
        ViewAction("export('csv')", "e", "Export CSV", footer="export"),
        ViewAction("export('json')", "E", "Export as JSON", show_in_footer=False),
        # not shift+up/down: the tree moves to a sibling with them
        ViewAction("scroll_detail(1)", "ctrl+down,J", "Scroll the detail down", show_in_footer=False),
        ViewAction("scroll_detail(-1)", "ctrl+up,K", "Scroll the detail up", show_in_footer=False),
    ],
    "metrics": METRIC_ACTIONS,
    "live": LIVE_ACTIONS,
    "alarms": ALARM_ACTIONS,
    "rules": RULE_ACTIONS,
    "identities": IDENTITY_ACTIONS,
}


def global_bindings() -> list[Binding]:
    return [Binding(a.key, a.id, a.footer or a.description, show=a.show_in_footer, priority=a.priority)
            for a in GLOBAL]


# Screens whose keys the app handles itself (the views bind their own keys).
APP_SCREENS = ("devices",)
# Keys a focused widget already handles (Tree and DataTable select on enter).
_WIDGET_KEYS = {"enter"}


def app_bindings() -> list[Binding]:
    """The keys of the app-handled screens (enabled per screen by check_action), then the global
    ones: the footer lists them in this order, the screen's own first."""
    out: list[Binding] = []
    seen = set()
    for screen in APP_SCREENS:
        for a in SCREEN_ACTIONS[screen]:
            if a.key in _WIDGET_KEYS or (a.key, a.id) in seen:
                continue
            seen.add((a.key, a.id))
            out.append(Binding(a.key, a.id, a.footer or a.description, show=a.show_in_footer,
                               priority=a.priority))
    return out + global_bindings()


def action_screens(action: str) -> set[str]:
    """Which app-handled screens an action belongs to (empty: global or a view's own)."""
    return {s for s in APP_SCREENS for a in SCREEN_ACTIONS[s] if a.id.split("(")[0] == action}


KEY_NAMES = {"question_mark": "?", "colon": ":", "slash": "/", "escape": "esc", "space": "space", "asterisk": "*",
             "left_square_bracket": "[", "right_square_bracket": "]"}


def key_label(key: str) -> str:
    """Every key of a binding, as typed: 'enter,g' → 'enter/g'."""
    return "/".join(KEY_NAMES.get(k, k) for k in key.split(","))


HELP_WIDTH = 72  # the help box's text at 80 columns and wider (76, less its border and padding)
KEY_COLUMN = 12  # the longest key ('*/ctrl+space'); a longer one has its text on the next line
NBSP = "\u00a0"  # binds '(writes)' to the word before it: never alone on a line


Row = tuple[str, str]  # (key or command, what it does); either may be ""


def help_sections(screen: str) -> list[tuple[str, list[Row]]]:
    """The help of `screen` as (heading, rows): its own keys, then moving, the global keys
    and the command line. The command words come from the parser, so help and its errors
    list the same words."""
    from tuiot.ui.commandline import ALARM_STATUS_WORDS, IDENTITY_STATUS_WORDS, SEVERITY_WORDS, words

    own = [(key_label(a.key), a.description + (f"{NBSP}(writes)" if a.writes else ""))
           for a in SCREEN_ACTIONS.get(screen, [])]
    moving = [("up/down j/k", "row"), ("pgup/pgdn", "page"), ("home/end", "first/last"),
              ("left/right", "Devices: close/open a node; lists: scroll sideways"),
              ("right", "in the find box, takes the name it completes"),
              ("tab", "Devices: to the detail and back (up/down/pgdn scroll)")]
    everywhere = [(key_label(a.key), a.description) for a in GLOBAL]
    everywhere.append(("ctrl+p", "Command palette (every action, with its key)"))
    commands = [(":devices [@profile] [name]", "the profile's line, or find a device"),
                (f":alarms [severity] [{words(ALARM_STATUS_WORDS)}] [@profile]", f"severity: {words(SEVERITY_WORDS)}"),
                # the statuses alone: "status: " made the line wrap at 80 columns, and [status] says it
                (":identities [status] [@profile] [id pattern]", words(IDENTITY_STATUS_WORDS)),
                (":live [@profile]    :rules [filter]    :metrics    :q", "")]
    return [(TITLES.get(screen, screen), own), ("Moving", moving), ("Everywhere", everywhere),
            ("Command line", commands)]


def help_lines(screen: str, width: int = HELP_WIDTH) -> Iterable[str]:
    """Help as markup lines of at most `width` columns: a key column, and each text in the
    column after it, wrapped under itself (Rich wrapped it to the left edge, mid-phrase)."""
    column = 2 + KEY_COLUMN + 1
    if width - column < 20:  # a very narrow box: each text under its key
        column = 6
    room = max(width - column, 1)
    for n, (heading, rows) in enumerate(help_sections(screen)):
        if n:
            yield ""
        yield f"[b]{escape(heading)}[/b]"
        for key, text in rows:
            lines = wrap(text, room) if text else []
            if len(key) <= column - 3 and lines:
                yield escape(f"  {key:<{column - 3}} {lines.pop(0)}")
            else:  # the key (a command) has the line to itself
                yield from (escape(("  " if not i else " " * 4) + part)
                            for i, part in enumerate(wrap(key, width - 2)))
            yield from (escape(" " * column + line) for line in lines)


def _prompt(a: ViewAction) -> str:
    return f"{a.description}  [{key_label(a.key)}]"


def _highlight(matcher: Matcher, text: str) -> Content:
    """The matched letters of `text` highlighted. Prompts are plain text, never markup: keys
    such as `[/]` or `[n]` would otherwise be read as tags (one crashed the palette)."""
    content = Content(text)
    _, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class ActionCommands(Provider):
    """The palette: every registered action, with its key. The current screen's come first,
    then the global ones; another screen's action goes to that screen and runs there."""

    def _actions(self) -> list[tuple[str | None, ViewAction]]:
        current = getattr(self.app, "current", "devices")
        out: list[tuple[str | None, ViewAction]] = [(None, a) for a in SCREEN_ACTIONS.get(current, [])]
        out += [(None, a) for a in GLOBAL]
        for screen in SCREENS:
            if screen != current:
                out += [(screen, a) for a in SCREEN_ACTIONS[screen] if a.id != "back"]
        return out

    @staticmethod
    def _text(screen: str | None, a: ViewAction) -> tuple[str, str]:
        """(prompt, help line): '4 Alarms: close  [c]', and where the action runs."""
        if screen is None:
            return _prompt(a), "on this screen" if a not in GLOBAL else "everywhere"
        title = TITLES[screen]
        return f"{title.split(' ', 1)[1]}: {_prompt(a)}", f"goes to {title}"

    async def discover(self) -> Hits:
        for screen, a in self._actions():
            if screen is None:  # the list before typing: this screen's and the global ones
                prompt, help_ = self._text(screen, a)
                yield DiscoveryHit(Content(prompt), self._runner(screen, a), text=prompt, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for screen, a in self._actions():
            prompt, help_ = self._text(screen, a)
            score = matcher.match(prompt)
            if score > 0:
                if screen is not None:
                    score *= 0.9  # this screen's own action first when both match
                yield Hit(score, _highlight(matcher, prompt), self._runner(screen, a), text=prompt, help=help_)

    def _runner(self, screen: str | None, a: ViewAction):  # type: ignore[no-untyped-def]
        async def run() -> None:
            if screen is not None:
                await self.app.run_action(f"show('{screen}')")
            await self.app.run_action_for_view(a.id)  # type: ignore[attr-defined]

        return run
