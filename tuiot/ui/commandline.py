"""The `:` command line: `:screen [@profile] [words…]`, read into a Command.

    :devices @thingsee        the profile's top line on Devices
    :devices pump house       find, as `/` does
    :alarms critical open     severity and status filters (any order), `all` clears
    :identities locked @murano  status, profile, and any other word as an id pattern
    :rules hot                the rules filter
    :live @murano             a profile's latest values (the @ may be left out)
    :q                        quit

Parsing is a plain function so that every word it refuses is tested without a screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tuiot.domain import AlarmStatus, IdentityStatus, Severity
from tuiot.ui.keys import SCREENS

ALIASES = {"q": "quit", "quit": "quit", "dev": "devices", "device": "devices", "alarm": "alarms",
           "metric": "metrics", "rule": "rules", "identity": "identities", "ids": "identities"}
HINT = "? lists the commands"


class CommandError(ValueError):
    """One line for the user: what in the command was not understood."""


@dataclass(frozen=True)
class Command:
    verb: str  # a screen, or "quit"
    profile: str | None = None  # as configured (case as in the config)
    severity: str | None = None  # alarms
    status: str | None = None  # alarms (open/closed) or identities (provisioned, locked…)
    text: str = ""  # the remaining words: a find (devices), a filter (rules), an id pattern (identities)


def parse(line: str, profiles: Iterable[str]) -> Command | None:
    """The command typed (None for an empty line); CommandError says what is wrong."""
    words = line.strip().lstrip(":").split()
    if not words:
        return None
    verb = ALIASES.get(words[0].lower(), words[0].lower())
    if verb != "quit" and verb not in SCREENS:
        raise CommandError(f"no command ':{words[0]}'; {HINT}")
    args = words[1:]
    known = list(profiles)
    profile = None
    rest: list[str] = []
    for word in args:
        if word.startswith("@"):
            profile = _profile(word[1:], known)
        elif any(word.lower() == p.lower() for p in known):
            profile = _profile(word, known)  # ':live thingsee' means the profile too
        else:
            rest.append(word)
    if verb == "quit" and args:
        raise CommandError(":q takes no arguments")
    if verb == "alarms":
        return _alarms(rest, profile)
    if verb == "identities":
        statuses = {s.value for s in IdentityStatus}
        status = next((w.lower() for w in rest if w.lower() in statuses or w.lower() == "all"), None)
        pattern = " ".join(w for w in rest if w.lower() != status)
        return Command(verb, profile, status=status, text=pattern)
    if verb in ("metrics",) and rest:
        raise CommandError(f":{verb} takes no arguments (open a metric from Devices or Live)")
    if verb == "live" and len(rest) == 1 and profile is None:
        _profile(rest[0], known)  # ':live nosuch' is a profile name that is not there
    if verb == "live" and rest:
        raise CommandError(":live takes a profile only (:live @murano)")
    return Command(verb, profile, text=" ".join(rest))


def _profile(name: str, profiles: list[str]) -> str:
    match = next((p for p in profiles if p.lower() == name.lower()), None)
    if match is None:
        raise CommandError(f"no profile '{name}' (known: {', '.join(profiles) or 'none'})")
    return match


def _alarms(words: list[str], profile: str | None) -> Command:
    severities = {s.value for s in Severity}
    statuses = {s.value for s in AlarmStatus}
    severity = status = None
    for word in (w.lower() for w in words):
        if word in severities:
            severity = word
        elif word in statuses:
            status = word
        elif word == "all":
            severity = status = "all"
        else:
            raise CommandError(f"':alarms {word}': not a severity ({', '.join(sorted(severities))}) "
                               f"or status ({', '.join(sorted(statuses))})")
    return Command("alarms", profile, severity=severity, status=status)
