"""What the console writes about the fleet: tree labels, detail panes, the status bar.

Plain functions over domain objects and `FleetState`, so each is tested without an app.
Markup names theme variables (`$error`, `$success`…); the app resolves them where the
widget takes Rich markup, which knows no theme (a Tree label).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.text import Text

from tuiot.domain import Alarm, Node, Reading, Severity, split_ref
from tuiot.fleet.state import FleetState, ProfileState
from tuiot.ui.views import age, value_text  # one age and one value format on every screen

SEVERITY_STYLE = {Severity.critical: "$error", Severity.major: "$warning", Severity.minor: "$accent",
                  Severity.warning: "$secondary"}
SEVERITY_BADGE = {Severity.critical: "CRIT", Severity.major: "MAJ", Severity.minor: "MIN", Severity.warning: "WARN"}
STATE_STYLE = {"ok": "$success", "degraded": "$warning", "snapshot": "$warning", "offline": "$error"}
STATE_MARK = {"ok": "●", "degraded": "◐", "offline": "○", "snapshot": "◌"}


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def clip_middle(text: str, width: int) -> str:
    """`be1034f2848a69…dff2fd72e1fa908`: the head and the tail, the tail the longer, since
    ids of one fleet share their start and differ at their end."""
    if len(text) <= width:
        return text
    if width < 3:
        return text[-width:] if width > 0 else ""
    tail = width // 2
    return text[: width - 1 - tail] + "…" + text[-tail:]


PART_FLOOR = 8  # the fewest columns a name's part is cut to ('Tar…ay 1') before the next part gives way


def clip_name(text: str, width: int) -> str:
    """A name as `metric_name` / `display_name` write it ('status (Tartu Warehouse 7 gateway
    1) · cpuUsage') in `width` columns. The metric's name is what a row is read for, so the
    parenthesis that tells namesakes apart gives way first (cut in the middle: gateways differ
    at their end), then the device's name, and the metric's name is kept whole while anything
    of the device still fits beside it. Text without those parts is cut in the middle."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    head, sep, metric = text.rpartition(" · ")
    if not sep:
        head, metric = text, ""
    tail = sep + metric
    room = width - len(tail)  # for the device's name and its parenthesis
    if room < 1:  # the metric's name alone is too long: its start, as any text is cut
        return clip(text, width)
    device, told = _split_told(head)
    if told is not None:
        for floor in (min(len(told), PART_FLOOR), 1):  # a few letters of it, then only '(…)'
            told_room = room - len(device) - len(" ()")
            if told_room >= floor:
                return f"{device} ({_part(told, told_room)}){tail}"
            dev_room = room - len(" ()") - floor
            if dev_room >= min(len(device), PART_FLOOR):
                return f"{_part(device, dev_room)} ({_part(told, floor)}){tail}"
    return _part(device, room) + tail  # too narrow for the parenthesis: the device's name alone


def _split_told(head: str) -> tuple[str, str | None]:
    """('status', 'Tartu Warehouse 7 gateway 1') of 'status (Tartu Warehouse 7 gateway 1)':
    the name and the parenthesis at its end (balanced: a gateway's name may hold one)."""
    if not head.endswith(")"):
        return head, None
    depth = 0
    for i in range(len(head) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(head[i], 0)
        if depth == 0:
            if i >= 2 and head[i - 1] == " ":
                return head[: i - 1], head[i + 1:-1]
            return head, None
    return head, None


def _part(text: str, room: int) -> str:
    """`text` in `room` columns, cut in the middle; '…' alone where not even 'a…b' fits."""
    if len(text) <= room:
        return text
    return clip_middle(text, room) if room >= 3 else "…"[:room]


# where an id may break across lines: between its parts first (gateway|provider/device/tag,
# sensor:metric), inside a part only when the part alone is too long (meter-000004)
ID_BREAKS = "|/:"
ID_BREAKS_INNER = "-_.,;"


def _cut_after(text: str, seps: str) -> list[str]:
    """`text` in pieces, each ending at one of `seps` (kept) or at the end."""
    pieces, start = [], 0
    for i, ch in enumerate(text):
        if ch in seps:
            pieces.append(text[start:i + 1])
            start = i + 1
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _pieces(word: str, room: int) -> list[tuple[str, bool]]:
    """A word as pieces no line has to break: its parts, a part too long cut at its inner
    separators, and a run still too long (a 32-digit hex id) cut in two (`_halves`). Each
    piece says whether it stands on a line of its own (a half of a run does)."""
    out: list[tuple[str, bool]] = []
    for part in _cut_after(word, ID_BREAKS):
        for piece in (_cut_after(part, ID_BREAKS_INNER) if len(part) > room else [part]):
            halves = _halves(piece, room)
            out += [(half, len(halves) > 1) for half in halves]
    return out


def _halves(run: str, room: int) -> list[str]:
    """A run with no separator, whole where it fits a line; one slightly too long (32 hex
    digits in 30 columns) in two halves on lines of their own, whole for reading and copying
    (clipping two characters of an id hides the end that tells ids apart, to save one line);
    one longer than two lines (a token, a key) clipped in the middle, its tail kept (y copies it)."""
    if len(run) <= room:
        return [run]
    if len(run) > 2 * room:
        return [clip_middle(run, room)]
    half = (len(run) + 1) // 2
    return [run[:half], run[half:]]


def fold(text: str, width: int, indent: int = 2) -> list[str]:
    """Plain `text` in lines of at most `width` columns, broken at spaces, and inside a word
    only after a separator: Rich breaks a long word anywhere ('…thingspro.dem' / 'o'), which
    reads as two ids. Lines after the first are indented `indent` columns; `width` 0 is no limit."""
    if width <= 0 or len(text) <= width:
        return [text]
    indent = min(indent, width // 3)
    room = width - indent
    lines: list[str] = []
    line = ""
    alone = False  # the line holds half of a run: nothing joins it
    for word in text.split(" "):
        if not word:
            continue
        pieces = [(word, False)] if len(word) <= room else _pieces(word, room)
        for i, (piece, own_line) in enumerate(pieces):
            joint = "" if i else " "  # the pieces of one word join without a space
            if line and not (alone or own_line) and \
                    len(line) + len(joint) + len(piece) <= (width if not lines else width - indent):
                line += joint + piece
                continue
            if line:
                lines.append(line)
            line, alone = piece, own_line
    lines.append(line)
    return [lines[0]] + [" " * indent + rest for rest in lines[1:]]


def folded(lines: Iterable[tuple[str, str]], width: int) -> Text:
    """A list view's detail pane: each (plain line, its style) broken by `fold` at `width`
    (0: no limit), so an id in it breaks only between its parts."""
    text = Text()
    for i, (line, style) in enumerate(lines):
        if i:
            text.append("\n")
        text.append("\n".join(fold(line, width)), style=style)
    return text


def wrap(text: str, width: int) -> list[str]:
    """Plain `text` in lines of at most `width`, broken at spaces and after a `|` (help's
    'open|closed|all' lists run long); a no-break space (U+00A0) keeps two words on one line.
    A piece longer than `width` gets a line of its own, whole."""
    lines: list[str] = []
    line = ""
    for piece in re.findall(r" *[^ |]*\|?", text):
        if not piece:
            continue
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line, piece = "", piece.lstrip(" ")
        line += piece
    lines.append(line.rstrip(" "))
    return [l.rstrip(" ") for l in lines]


def count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun}" if n == 1 else f"{n:,} {plural or noun + 's'}"


def alarm_where(a: Alarm, name_of: Callable[[str], str | None]) -> str:
    """Where an alarm is, as the Alarms list names it: its device's display name (`name_of`,
    the id where the device is not loaded); an alarm on no device by its metric, else its profile."""
    if a.device:
        return name_of(a.device) or _ref_id(a.device)
    if a.metric:
        return name_of(a.metric) or _ref_id(a.metric).rsplit(":", 1)[-1]
    return a.profile


def _ref_id(ref: str) -> str:
    try:
        return split_ref(ref)[2]
    except ValueError:
        return ref


def _alarm_text(a: Alarm) -> str:
    """The description, with the rule named first when the description does not name it: a
    local rule's description starts with its name, and the toast read 'hot hot: …'."""
    text = a.description or ""
    if a.rule and not re.search(rf"(?<!\w){re.escape(a.rule)}(?!\w)", text, re.IGNORECASE):
        text = f"{a.rule}: {text}" if text else a.rule
    return text or a.id


def alarm_toast(a: Alarm, where: str) -> str:
    """'MAJOR Pump house power 1: hot: value > 30 (value 35)' for one raised alarm."""
    return f"{a.severity.value.upper()} {where}: {_alarm_text(a)}"


TOAST_LINES = 3  # a toast is 40 columns at 80: a burst names the worst few, counts the rest


def alarms_toast(alarms: Sequence[Alarm], name_of: Callable[[str], str | None]) -> tuple[str, str]:
    """(title, message) of the one toast for alarms raised together: a new rule that matches
    a whole fleet raises dozens at once, and a toast each buried the screen.

    One alarm: ('new alarm · Murano', 'MAJOR Pump house power 1: hot: …'). Several:
    ('5 new alarms (2 CRIT, 3 MAJ)', 'CRIT pump 4: hot' per line, the worst first, then '+2 more on 4 Alarms')."""
    if len(alarms) == 1:
        a = alarms[0]
        return f"new alarm · {a.profile}", alarm_toast(a, alarm_where(a, name_of))
    worst_first = sorted(alarms, key=lambda a: a.severity.rank)  # stable: in the order raised
    tally: dict[Severity, int] = {}
    for a in worst_first:
        tally[a.severity] = tally.get(a.severity, 0) + 1
    title = f"{len(alarms)} new alarms ({', '.join(f'{n} {SEVERITY_BADGE[s]}' for s, n in tally.items())})"
    lines = [f"{SEVERITY_BADGE[a.severity]} {alarm_where(a, name_of)}: {a.rule or _alarm_text(a)}"
             for a in worst_first[:TOAST_LINES]]
    if len(alarms) > TOAST_LINES:
        lines.append(f"+{len(alarms) - TOAST_LINES} more on 4 Alarms")
    return title, "\n".join(lines)


def unclosable_reason(a: Alarm) -> str:
    """Why the vendor will not close `a` (its `closable` is False): the vendor's rule, which no
    console setting changes, so it never says 'read-only'."""
    return (f"{a.profile} does not allow closing its alarms" if a.origin.value == "vendor"
            else f"{a.profile} does not allow closing this alarm")


def escape(text: str) -> str:
    """Every `[` literal: a name or key such as `[` must not open a tag that a later `]` closes."""
    return text.replace("[", "\\[")


def node_label(node: Node, *, worst: Severity | None, marked: bool) -> str:
    """`* ● Pump house power 1 V CRIT`: mark, online, name, unit, worst open alarm (`worst`,
    from FleetState.severity)."""
    online = "" if node.online is None else ("[$success]●[/] " if node.online else "[$error]○[/] ")
    sev = worst
    # the worst open alarm after the name, as the Alarms screen writes it: names stay aligned
    badge = f" [{SEVERITY_STYLE[sev]}][b]{SEVERITY_BADGE[sev]}[/b][/]" if sev else ""
    unit = f" [dim]{escape(node.unit)}[/]" if shows_unit(node.name, node.unit) else ""
    pin = "[reverse]*[/] " if marked else ""
    return f"{pin}{online}{escape(node.name)}{unit}{badge}"


def shows_unit(name: str, unit: str | None) -> bool:
    """Whether a unit is worth printing after `name`: not when the name already ends with
    it ("Movement count", unit count, would read "Movement count count")."""
    if not unit:
        return False
    words = name.casefold().split()
    return not words or words[-1] != unit.strip().casefold()


def profile_label(name: str, p: ProfileState | None) -> str:
    state = p.state if p else "connecting"
    mark = f"[{STATE_STYLE[state]}]{STATE_MARK[state]}[/]" if state in STATE_STYLE else "…"
    return f"{mark} [b]{escape(name)}[/b] [dim]{p.vendor if p else ''} · {state}[/]"


def status_line(profiles: dict[str, ProfileState], now: datetime, *, marked: int, read_only: bool,
                offline: bool, width: int = 0) -> str:
    """Flags first, then each profile's state and the age of its last good answer.

    Every profile must show within `width` columns (0: no limit): "Thingsee: ok 3s" in
    words when there is room, else the state as its mark ("● Thingsee 3s"), else names
    cut short. The flags are never shortened.
    """
    flags = []
    if offline:
        flags.append("OFFLINE (snapshot)")
    if read_only:
        flags.append("READ-ONLY")
    if marked:
        flags.append(f"{marked:,} marked")
    for words, short in ((True, 0), (False, 0), (False, 8), (False, 5)):
        plain = [f" {f} " for f in flags]
        parts = [f"[reverse] {f} [/]" for f in flags]
        for name, p in profiles.items():
            shown = name if not short or len(name) <= short else name[: short - 1] + "…"
            if p.state == "snapshot" and p.snapshot_at:
                when = f" {'offline since ' if words else ''}{age(now - p.snapshot_at)}"
            else:
                when = f" {age(now - p.last_ok)}" if p.last_ok else ""
            text = f"{shown}: {p.state}{when}" if words else f"{STATE_MARK.get(p.state, '…')} {shown}{when}"
            plain.append(text)
            parts.append(f"[{STATE_STYLE.get(p.state, '$text-muted')}]{escape(text)}[/]")
        gap = "  " if words else " "  # a state mark already sets each profile apart
        if not width or len(gap.join(plain)) <= width:
            break
    return gap.join(parts) or "no profiles"


def profile_detail(p: ProfileState, now: datetime, *, devices: int, poll_interval: float | None = None,
                   rounds: int = 0, failures: int = 0, width: int = 0) -> str:
    text = [f"[b]{escape(p.name)}[/b]  {p.vendor}", f"state: {p.state}"]
    if p.error:  # a vendor's error quotes URLs and ids: broken between their parts, as in node_detail
        text += [f"[$error]{escape(line)}[/]" for line in fold(p.error, width, indent=0)]
    if p.last_ok:
        text.append(f"last good answer: {age(now - p.last_ok)} ago")
    if p.snapshot_at:
        text.append(f"[$warning]showing the snapshot of {age(now - p.snapshot_at)} ago[/]")
    if poll_interval is not None:
        text.append(f"polled every {poll_interval:g} s, {count(rounds, 'round')}"
                    + (f"; {failures} failed in a row, backing off" if failures else ""))
    text.append(f"devices loaded: {devices:,}")
    return "\n".join(text)


ATTR_NAMES = {"lastseen": "last seen"}  # vendors' attribute keys, in words


def attr_text(value: Any, now: datetime) -> str:
    """A vendor attribute as the console says things: yes/no, a time as `when` writes it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if (t := _as_time(value)) is not None:
        return when(t, now)
    return str(value)


def when(ts: datetime, now: datetime) -> str:
    """'08:00:09 (12s ago)' within a day, else '2026-12-01 08:00 (4d ago)' (UTC, as `stamp`)."""
    utc = ts.astimezone(UTC)
    shown = utc.strftime("%H:%M:%S") if abs(now - ts) < timedelta(hours=24) else utc.strftime("%Y-%m-%d %H:%M")
    return f"{shown} ({age(now - ts)} ago)"


def _as_time(value: Any) -> datetime | None:
    """A datetime, or an ISO-8601 time with a zone (vendor attrs carry them as text)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if not isinstance(value, str) or len(value) < 19 or value[10:11] not in ("T", " "):
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None  # a time without a zone cannot be placed honestly


def node_detail(node: Node, fleet: FleetState, now: datetime, *, limit: int = 12, width: int = 0) -> str:
    """Name, kind and id, state, attributes and the last values below the node, in lines of at
    most `width` columns (0: no limit) that break an id only between its parts (`fold`)."""
    lines = [f"[b]{escape(line)}[/b]" for line in fold(node.name, width, indent=0)]
    # kind, id and profile rather than the ref ('Thingsee/device/TSPR…' is one long word); an id
    # too long for that line gets lines of its own, broken at its separators, a run without
    # them in halves; clipped in the middle only past two lines' worth (y copies it whole)
    said = f"{node.kind} {node.id} · {node.profile}"
    ids = [said] if not width or len(said) <= width else [f"{node.kind} · {node.profile}", *fold(node.id, width, indent=0)]
    lines += [f"[dim]{escape(line)}[/]" for line in ids]
    if node.online is not None:
        lines.append(f"online: {'yes' if node.online else '[$error]no[/]'}")
    sev = fleet.severity(node)
    if sev:
        lines.append(f"worst open alarm: [{SEVERITY_STYLE[sev]}]{sev.value}[/]")
    for k, v in list(node.attrs.items())[:10]:
        lines += [escape(line) for line in fold(f"{ATTR_NAMES.get(k, k)}: {attr_text(v, now)}", width)]
    # a device's readings name it, so its values show before its sensors were ever opened
    # (a group's too: its devices' values came with a poll round whether or not they were opened)
    refs = fleet.metrics_below(node.ref)
    below = [fleet.readings[m] for m in refs if m in fleet.readings]
    if below:
        # a group's values are of many devices: each under its device's name, the devices
        # by name; a device's or a sensor's are all its own
        by_device = node.kind == "group"
        owner = {r.metric: _device_of(fleet, r) if by_device else ("", "") for r in below}
        values = []
        for r in sorted(below, key=lambda r: (natural_key(owner[r.metric][1]), owner[r.metric][0], r.metric))[:limit]:
            # the metric's own name, or the alias after the device id: the pane is narrow
            name = fleet.nodes[r.metric].name if r.metric in fleet.nodes else r.metric.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
            said = f"{value_text(r.value)}{f' {r.unit}' if r.unit and shows_unit(name, r.unit) else ''}"
            values.append((owner[r.metric], name, said, age(now - r.ts)))
        indent = 4 if by_device else 2
        # '12s ago' where every line has room for it, else '12s' on all of them, as the
        # other screens write an age: 'Temperature: 24.03 °C  1s ago' is 31 columns
        ago = " ago" if not width or all(indent + len(f"{n}: {v}  {a} ago") <= width for _, n, v, a in values) else ""
        lines += ["", "[b]last values[/b]"]
        shown: tuple[str, str] | None = None
        for dev, name, said, when_ in values:
            if by_device and dev != shown:
                lines += ["  " + escape(line) for line in fold(dev[1], max(width - 2, 0), indent=2)]
                shown = dev
            lines += _value_lines(name, said, when_ + ago, width, indent=indent)
    return "\n".join(lines)


def _device_of(fleet: FleetState, r: Reading) -> tuple[str, str]:
    """(ref, name) of the device a reading is of: its id until the device is loaded, '?' when
    neither the reading nor the tree says which device it is."""
    dev = r.device or next((a for a in reversed(fleet.ancestors(r.metric))
                            if (n := fleet.nodes.get(a)) is not None and n.kind == "device"), None)
    if dev is None:
        return "", "?"
    node = fleet.nodes.get(dev)
    return dev, node.name if node is not None else dev.split("/", 2)[-1]


def _value_lines(name: str, said: str, ago: str, width: int, indent: int = 2) -> list[str]:
    """`  Voltage: 229.5 V  37s ago`, on one line where it fits. A name too long for it gives
    way (by its parts, `clip_name`, or a plain one at its end), so the value,
    its unit and its age stay together: broken at its spaces, a group's 'Air pressure:
    101430 Pa' left its age alone on the next line. A name with no space (a metric's hex
    id, before its name is known) is cut to 9 columns at least; one with spaces only while
    PART_FLOOR of it is left, else the line breaks at its spaces (a long text value)."""
    pad = " " * indent
    rest = indent + len(": ") + len(said) + len("  ") + len(ago)
    if width and rest + len(name) > width:
        if " " not in name:
            name = clip_middle(name, max(width - rest, 9))
        elif width - rest >= PART_FLOOR:
            # a name of parts gives way by its parts; a plain one ('Air pressure') at its end
            name = clip_name(name, width - rest) if " · " in name or "(" in name else clip(name, width - rest)
    plain = [pad + line for line in fold(f"{name}: {said}", max(width - indent, 0), indent=2)]
    if not width or len(plain[-1]) + 2 + len(ago) <= width:
        return [escape(line) for line in plain[:-1]] + [f"{escape(plain[-1])}  [dim]{ago}[/]"]
    return [escape(line) for line in plain] + [f"{pad}  [dim]{ago}[/]"]  # a long text value: its age below it


# ---- the order names sort in ----------------------------------------------------------

_DIGITS = re.compile(r"([0-9]+)")
_SEP = "\x00"  # between names in a batch: no name a vendor gives holds it (checked, not assumed)


class _Runs(dict[str, str]):
    """A digit run's place in the order: its length first, as a character below every printable
    one, so a shorter number sorts first ("2" < "31" < "298") and a number before text at the
    same place ("edge2" < "edge x"); leading zeros do not count. Kept per batch: runs repeat."""

    def __missing__(self, digits: str) -> str:
        number = digits.lstrip("0") or "0"
        code = self[digits] = chr(len(number)) + number
        return code


def _natural(text: str) -> str:
    parts = _DIGITS.split(text.casefold())  # text, digits, text, digits, …, text
    runs = _Runs()
    parts[1::2] = [runs[d] for d in parts[1::2]]
    return "".join(parts)


def natural_key(name: str) -> str:
    """The sort key of a name as a person orders them: case-insensitive, digit runs by their
    number ("edge 2" < "edge 31" < "edge 298"). A string, not a tuple of parts, so sorting
    150,000 of them compares at C speed; work it out once per name and keep it."""
    return _natural(name)


def natural_keys(names: Sequence[str]) -> list[str]:
    """`natural_key` of each name, worked out over all of them at once: 0.13 s for 150,000
    names, half the time of one call per name."""
    if not names:
        return []
    keys = _natural(_SEP.join(names)).split(_SEP)
    return keys if len(keys) == len(names) else [_natural(n) for n in names]


# ---- names of refs, as a person reads them ---------------------------------------------


def metric_name(fleet: FleetState, ref: str) -> str:
    """'Pump house power 1 · Voltage'; for a metric whose device was never expanded, its
    device's name (known from a reading) and the metric's own id."""
    node = fleet.nodes.get(ref)
    if node is None:
        r = fleet.readings.get(ref)
        dev = fleet.nodes.get(r.device) if r is not None and r.device else None
        tail = ref.split("/", 2)[-1]
        return f"{display_name(fleet, dev)} · {tail.rsplit(':', 1)[-1].rsplit('/', 1)[-1]}" if dev else tail
    parent = fleet.nodes.get(node.parent or "")
    dev = fleet.nodes.get(parent.parent or "") if parent and parent.kind == "sensor" else parent
    return f"{display_name(fleet, dev)} · {node.name}" if dev else node.name


def display_name(fleet: FleetState, node: Node) -> str:
    """A device's or group's name where its place in the tree does not show (a Live row, the
    source picker, an alarm): its own, or, when another of its profile bears it too, with what
    tells it apart: 'status (Turku Office 4 gateway 1)', as five ThingsPro gateways each have
    a 'status' device. Other nodes (a sensor, a metric) are named by their device."""
    if node.kind not in ("device", "group") or not fleet.namesakes(node):
        return node.name
    return f"{node.name} ({_told_apart_by(fleet, node)})"


def _told_apart_by(fleet: FleetState, node: Node) -> str:
    """The name of `node`'s nearest ancestor no other group of its profile bears (a provider
    'system' is on every gateway, the gateway's own name is not), or, when one parent holds
    two of its name or no ancestor's name is its own, its id (clipped in the middle: ids of
    one fleet differ at their end)."""
    if not fleet.namesakes_under(node):
        up = fleet.nodes.get(node.parent or "")
        while up is not None:
            if up.kind in ("device", "group") and not fleet.namesakes(up):
                return up.name
            up = fleet.nodes.get(up.parent or "")
    return clip_middle(node.id, 20)


def source_name(fleet: FleetState, ref: str) -> str:
    """A rule source (a metric or a device ref)."""
    node = fleet.nodes.get(ref)
    if node is not None and node.kind == "device":
        return display_name(fleet, node)
    return metric_name(fleet, ref) if "/metric/" in ref else ref.split("/", 2)[-1]


def value_unit(fleet: FleetState, ref: str) -> str | None:
    """The unit to print after a metric's value (its node's, else its reading's), or None:
    none is known, or the metric's name already ends with it (`shows_unit`)."""
    node = fleet.nodes.get(ref)
    reading = fleet.readings.get(ref)
    unit = (node.unit if node is not None else None) or (reading.unit if reading is not None else None)
    return unit if shows_unit(node.name if node is not None else "", unit) else None


def known_name(fleet: FleetState, ref: str) -> str | None:
    """A node's name once it is loaded (`display_name`), else None."""
    node = fleet.nodes.get(ref)
    return display_name(fleet, node) if node is not None else None


def node_title(fleet: FleetState, ref: str) -> str:
    """'Pump house power 1 · TeamViewer' for a node, the profile's name for a profile."""
    profile, kind, id_ = ref.split("/", 2)
    if kind == "profile":
        return profile
    node = fleet.nodes.get(ref)
    return f"{display_name(fleet, node) if node is not None else id_} · {profile}"
