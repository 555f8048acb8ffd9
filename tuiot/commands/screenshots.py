"""`tuiot screenshots --out DIR`: an SVG of every console screen from a seeded demo."""

from __future__ import annotations

import argparse
from pathlib import Path

from tuiot.cli_context import CliContext

# A fixed present, so the screenshots change only when a screen does.
EPOCH = 1_780_000_000.0 - (1_780_000_000.0 % 3600)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screenshots", help="write an SVG of every console screen (seeded demo)", parents=[sub.parent_options])
    p.add_argument("--out", default="screenshots", help="directory (default screenshots/)")
    p.add_argument("--size", default="120x40", help="terminal size, e.g. 120x40 or 80x24")
    p.set_defaults(run=run)


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from datetime import datetime, timezone

    from tuiot.config import Config
    from tuiot.simulators.demo import build_demo
    from tuiot.ui.app import ConsoleApp

    width, _, height = args.size.partition("x")
    size = (int(width), int(height))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fixed = datetime.fromtimestamp(EPOCH, timezone.utc)
    demo = build_demo(devices=args.devices, seed=args.seed, epoch=EPOCH, vendors=("teamviewer", "thingsee", "murano", "thingspro"),
                      now=EPOCH)
    app = ConsoleApp(config=Config(profiles={p.name: p for p in demo.profiles}), demo=demo, clock=lambda: fixed)
    written = []
    async with app.run_test(size=size) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if app.fleet.profiles and all(p.indexed for p in app.fleet.profiles.values()):
                break
        # open one device down to its metrics, as a user would with the arrow keys
        device = next(n for n in app.fleet.nodes.values() if n.kind == "device" and n.profile == "TeamViewer")
        app.finder.reveal(device.ref)
        await pilot.press("space")
        for _ in range(100):
            await pilot.pause(0.05)
            if any(n.kind == "metric" for n in app.fleet.nodes.values()):
                break
        await pilot.pause(0.5)
        shots = [("devices", None), ("metrics", None), ("live", "l"), ("alarms", "4"), ("rules", "5"), ("identities", "6")]
        for name, key in shots:
            if name == "metrics":
                metric = next(n for n in app.fleet.nodes.values() if n.kind == "metric" and n.unit)
                app.finder.reveal(metric.ref)
                await app.action_open_selected()
                await pilot.pause(1.0)
            elif key:
                if name == "live":
                    app.finder.reveal("Thingsee/profile/Thingsee")  # the Devices cursor on the profile
                    await pilot.press("3")
                else:
                    await pilot.press(key)
            await pilot.pause(1.0)
            path = out / f"{name}.svg"
            path.write_text(app.export_screenshot(title=f"tuiot — {name}"), encoding="utf-8")
            written.append(path)
    for p in written:
        ctx.say(str(p))
    return 0
