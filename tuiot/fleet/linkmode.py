"""How much the console may draw and poll over the link it runs on.

Over SSH every animation frame and smooth-scroll step crosses the network; on a slow
jump host "jump to end" took about a second of pure scroll animation. So:

- `SSH_CONNECTION` (or `SSH_CLIENT`) set: animations and smooth scrolling off.
- low bandwidth (`--low-bandwidth`, `low_bandwidth = true` in [settings], or
  `TUIOT_LOW_BANDWIDTH=1`): also at most 10 frames per second and polling 3x less often.
- A `TEXTUAL_ANIMATIONS`, `TEXTUAL_SMOOTH_SCROLL` or `TEXTUAL_FPS` the user set
  explicitly always wins (e.g. `TEXTUAL_ANIMATIONS=full` over a fast SSH link).

Public API
----------
`LinkMode` (frozen): `animations`, `smooth_scroll`, `fps`, `poll_factor`, plus `ssh`,
    `low_bandwidth` (why) and `animation_level` ("none" | "basic" | "full", for
    `App.animation_level`); `poll_interval(base)` and `describe()` (a short status text).
`detect(env=None, low_bandwidth=False) -> LinkMode` (env defaults to os.environ).
`apply_env(mode, env=None) -> dict[str, str]`: sets `TEXTUAL_ANIMATIONS=none`,
    `TEXTUAL_SMOOTH_SCROLL=0`, `TEXTUAL_FPS=<fps>` where the mode needs them and the
    user has not set them; returns what it set. Textual reads these once, when
    `textual.constants` is first imported, so call it before importing Textual
    (`textual_imported()` tells whether it is too late; then set
    `app.animation_level = mode.animation_level` instead).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Literal

AnimationLevel = Literal["none", "basic", "full"]

DEFAULT_FPS = 60  # Textual's own default (textual/constants.py MAX_FPS)
LOW_BANDWIDTH_FPS = 10
LOW_BANDWIDTH_POLL_FACTOR = 3.0
SSH_VARS = ("SSH_CONNECTION", "SSH_CLIENT")
_LEVELS = ("none", "basic", "full")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class LinkMode:
    animations: bool = True
    smooth_scroll: bool = True
    fps: int = DEFAULT_FPS
    poll_factor: float = 1.0
    ssh: bool = False
    low_bandwidth: bool = False
    animation_level: AnimationLevel = "full"

    def poll_interval(self, base: float) -> float:
        """A profile's poll interval on this link."""
        return base * self.poll_factor

    def describe(self) -> str:
        """Short words for the status bar / about screen; empty on a local terminal."""
        parts = []
        if self.low_bandwidth:
            parts.append("low bandwidth")
        elif self.ssh:
            parts.append("SSH")
        if not parts:
            return ""
        if not self.animations:
            parts.append("no animations")
        if self.fps != DEFAULT_FPS:
            parts.append(f"{self.fps} fps")
        if self.poll_factor != 1.0:
            parts.append(f"polling ×{self.poll_factor:g}")
        return ", ".join(parts)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def detect(env: Mapping[str, str] | None = None, low_bandwidth: bool = False) -> LinkMode:
    """The link mode for this process: SSH and low-bandwidth defaults, user env on top."""
    env = os.environ if env is None else env
    ssh = any(env.get(k) for k in SSH_VARS)
    low = low_bandwidth or env.get("TUIOT_LOW_BANDWIDTH", "").strip().lower() in _TRUE
    slow = ssh or low
    level: AnimationLevel = "none" if slow else "full"
    smooth = not slow
    fps = LOW_BANDWIDTH_FPS if low else DEFAULT_FPS

    # Explicit Textual settings win, read the way textual/constants.py reads them.
    user_level = env.get("TEXTUAL_ANIMATIONS")
    if user_level is not None:
        v = user_level.strip().lower()
        level = v if v in _LEVELS else "full"  # type: ignore[assignment]
    user_smooth = env.get("TEXTUAL_SMOOTH_SCROLL")
    if user_smooth is not None:
        n = _int(user_smooth)
        smooth = (n if n is not None else 1) == 1
    user_fps = env.get("TEXTUAL_FPS")
    if user_fps is not None:
        n = _int(user_fps)
        fps = max(1, n) if n is not None else DEFAULT_FPS

    return LinkMode(
        animations=level != "none",
        smooth_scroll=smooth,
        fps=fps,
        poll_factor=LOW_BANDWIDTH_POLL_FACTOR if low else 1.0,
        ssh=ssh,
        low_bandwidth=low,
        animation_level=level,
    )


def apply_env(mode: LinkMode, env: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Export the mode to Textual's environment variables, keeping any the user set."""
    env = os.environ if env is None else env
    wanted: dict[str, str] = {}
    if not mode.animations:
        wanted["TEXTUAL_ANIMATIONS"] = "none"
    if not mode.smooth_scroll:
        wanted["TEXTUAL_SMOOTH_SCROLL"] = "0"
    if mode.fps != DEFAULT_FPS:
        wanted["TEXTUAL_FPS"] = str(mode.fps)
    changed = {k: v for k, v in wanted.items() if k not in env}
    for k, v in changed.items():
        env[k] = v
    return changed


def textual_imported() -> bool:
    """True once Textual has read its settings: `apply_env` no longer has an effect."""
    return "textual.constants" in sys.modules
