"""`app_work`: Textual's `@work` for the console's collaborators.

`textual.work` only decorates methods of a DOMNode (it asserts so); the objects that
hold a part of the console (`Loader`, `Lists`, …) are plain objects that take the app,
so their workers run on it, with the group and exclusivity `@work` would have given.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any


def app_work(*, group: str = "default", exclusive: bool = False,
             thread: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the decorated method as a worker of `self.app` (never exiting the app on an error)."""

    def decorator(method: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(method)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self.app.run_worker(partial(method, self, *args, **kwargs), name=method.__name__, group=group,
                                       exclusive=exclusive, exit_on_error=False, thread=thread)

        return run

    return decorator
