"""The `:` command line: `:screen [@profile] [words…]`, read into a Command.

    :devices @thingsee        the profile's top line on Devices
    :devices pump house       find, as `/` does
    :alarms critical open     severity and status filters (any order); `all` alone clears both
    :identities locked @murano  status, profile, and any other word as an id pattern
    :rules hot                the rules filter
    :live @murano             a profile's latest values (the @ may be left out)
    :q                        quit

Parsing is a plain function so that every word it refuses is tested without a screen.
"""

from __future__ import annotations

import re
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
        return _identities(rest, profile)
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


# The words each command takes, in the order `?` help lists them: its error says the same.
SEVERITY_WORDS = tuple(s.value for s in Severity)
ALARM_STATUS_WORDS = (*(s.value for s in AlarmStatus), "all")
IDENTITY_STATUS_WORDS = (*(s.value for s in IdentityStatus), "all")


def words(choices: Iterable[str]) -> str:
    """'open|closed|all', as help writes a choice."""
    return "|".join(choices)


def _alarms(args: list[str], profile: str | None) -> Command:
    severity = status = None
    for word in (w.lower() for w in args):
        if word in SEVERITY_WORDS:
            severity = word
        elif word in ALARM_STATUS_WORDS:
            status = word
        else:
            raise CommandError(f"':alarms {word}': not a severity ({words(SEVERITY_WORDS)}) "
                               f"or status ({words(ALARM_STATUS_WORDS)})")
    if status == "all" and severity is None:
        severity = "all"  # ':alarms all' is every alarm; ':alarms critical all' keeps to critical
    return Command("alarms", profile, severity=severity, status=status)


def _identities(args: list[str], profile: str | None) -> Command:
    said = [w.lower() for w in args if w.lower() in IDENTITY_STATUS_WORDS]
    if len(said) > 1:  # else the second became an id pattern that matched nothing
        raise CommandError(f"':identities {' '.join(said)}': one status at a time "
                           f"({words(IDENTITY_STATUS_WORDS)})")
    pattern = " ".join(w for w in args if w.lower() not in IDENTITY_STATUS_WORDS)
    try:
        re.compile(pattern)
    except re.error as e:  # the view would refuse it after the screen had already moved
        raise CommandError(f"':identities {pattern}': bad id pattern: {e.msg}") from None
    return Command("identities", profile, status=said[0] if said else None, text=pattern)
