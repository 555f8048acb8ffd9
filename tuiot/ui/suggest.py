"""The find box's completion: the first device or group whose name (or id) starts with
what is typed, shown as ghost text after the cursor; right arrow takes it.

It answers from the fleet's search index (about a millisecond at 100,000 devices), so
the box says at each keystroke whether anything in the fleet is called that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.suggester import Suggester

from tuiot.domain import Node


class FleetSuggester(Suggester):
    def __init__(self, search: Callable[[str], Sequence[Node]]) -> None:
        # no cache: the fleet grows while it loads
        super().__init__(use_cache=False, case_sensitive=False)
        self._search = search

    async def get_suggestion(self, value: str) -> str | None:
        # `value` arrives casefolded; the suggestion is the name as the fleet spells it
        text = value.strip()
        if len(text) < 2:
            return None
        lead = value[: len(value) - len(value.lstrip())]
        found = self._search(text)
        for field in ("name", "id"):
            for node in found:
                suggestion = lead + getattr(node, field)
                if suggestion.casefold().startswith(value):
                    return suggestion
        return None
