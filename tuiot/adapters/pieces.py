"""Large JSON answers decoded in pieces, so the console keeps drawing meanwhile.

`json.loads` holds the interpreter for its whole run (0.3 s for a 29 MB device tree),
so the console's event loop could not draw or read keys while it ran, even with the
decode in a worker thread. Decoded here, the big arrays go one element at a time, and
the interpreter can switch threads between elements.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tuiot.gcpause import paused as gc_paused

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def decode_in_pieces(content: bytes) -> Any:
    """`json.loads` of a large body, its big arrays one element at a time; a shape it
    does not follow is decoded whole; None if the body is not JSON."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    with gc_paused():
        try:
            value, end = _json_value(text, _SPACE.match(text, 0).end(), 0)  # type: ignore[union-attr]
            if _SPACE.match(text, end).end() != len(text):  # type: ignore[union-attr]
                raise ValueError("data after the JSON value")
            return value
        except (ValueError, IndexError):
            try:
                return json.loads(text)
            except ValueError:
                return None


def _json_value(s: str, i: int, depth: int) -> tuple[Any, int]:
    """The JSON value at s[i] and where it ends: the top object's members and arrays down to
    one level in pieces (the envelope and its lists), everything below whole."""
    c = s[i]
    if c == "{" and depth == 0:
        obj: dict[str, Any] = {}
        i = _SPACE.match(s, i + 1).end()  # type: ignore[union-attr]
        if s[i] == "}":
            return obj, i + 1
        while True:
            key, i = _DECODER.raw_decode(s, i)
            if not isinstance(key, str):
                raise ValueError("object key is not a string")
            i = _SPACE.match(s, i).end()  # type: ignore[union-attr]
            if s[i] != ":":
                raise ValueError("':' expected")
            obj[key], i = _json_value(s, _SPACE.match(s, i + 1).end(), depth + 1)  # type: ignore[union-attr]
            i = _SPACE.match(s, i).end()  # type: ignore[union-attr]
            if s[i] == "}":
                return obj, i + 1
            if s[i] != ",":
                raise ValueError("',' or '}' expected")
            i = _SPACE.match(s, i + 1).end()  # type: ignore[union-attr]
    if c == "[" and depth <= 1:
        arr: list[Any] = []
        i = _SPACE.match(s, i + 1).end()  # type: ignore[union-attr]
        if s[i] == "]":
            return arr, i + 1
        while True:
            item, i = _DECODER.raw_decode(s, i)
            arr.append(item)
            i = _SPACE.match(s, i).end()  # type: ignore[union-attr]
            if s[i] == "]":
                return arr, i + 1
            if s[i] != ",":
                raise ValueError("',' or ']' expected")
            i = _SPACE.match(s, i + 1).end()  # type: ignore[union-attr]
    return _DECODER.raw_decode(s, i)
