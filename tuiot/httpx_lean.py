"""httpx, imported without its command-line client.

`import httpx` also imports `httpx._main`, the `httpx` shell command, and with it click,
pygments' lexer table and rich.syntax: about 35 ms of every start of the console, which
never runs that command. Its `from ._main import main` falls back to a stub on
ImportError, so the first import here hides `_main`; the name is given back at once, and
a later `import httpx._main` works as usual. Adapters and simulators import httpx from
here, so whichever comes first pays only for the HTTP client.
"""

from __future__ import annotations

import sys

if "httpx" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx
    finally:
        del sys.modules["httpx._main"]

import httpx as httpx  # noqa: E402  (the explicit re-export is this module's job)

__all__ = ["httpx"]
