"""Getting things out of the console: copying (y, OSC 52) and exporting (e) what is selected.

Separate from the app because both speak to the world outside the screen (the terminal's
clipboard through SSH and tmux, a file on disk) and each has its own failure to tell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuiot.ui import labels

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp


class CopyExport:
    """A `ConsoleApp`'s copies to the clipboard and exports to files."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app

    def copy_selected(self) -> None:
        """The ids of Devices' marked devices, else of the node under the cursor."""
        app = self.app
        refs = sorted(app.marked) or ([c] if (c := app.devices.cursor()) else [])
        text = "\n".join(r.split("/", 2)[-1] for r in refs)
        if text:
            self.copy(text)

    def copy(self, text: str) -> None:
        """OSC 52, wrapped for tmux: reaches the local clipboard through SSH."""
        from tuiot.fleet.export import osc52

        app = self.app
        try:
            seq = osc52(text)
        except ValueError as e:
            app.notify(str(e), severity="error")
            return
        driver = getattr(app, "_driver", None)
        if driver is not None:
            driver.write(seq)
            driver.flush()
        lines = text.splitlines()
        if len(lines) > 1:
            app.notify(f"copied {len(lines)} lines")
            return
        # the whole id, broken between its parts (a toast is 60 columns, half the screen at
        # most): at 80 columns the detail pane may have clipped it, and the toast is where
        # it shows whole; clipped at its end it lost the part that tells ids apart
        room = max(min(60, app.size.width // 2) - 4, 16)
        said = f"copied {text}"
        if len(said) > room:
            parts = labels.fold(text, room, indent=0)
            said = "\n".join(["copied", *(parts if len(parts) <= 6 else [*parts[:2], "…", *parts[-3:]])])
        app.notify(said)

    def export(self, fmt: str) -> None:
        """Devices' marked devices, else what the tree shows, to a file in `fmt`."""
        from tuiot.fleet.export import ExportError, export_file

        app = self.app
        fleet = app.fleet
        if app.current == "devices":
            # the marked devices, else what the tree shows: the loaded nodes below the selection
            sel = app.devices.cursor()
            if app.marked:
                refs = set().union(*(fleet.below(m) | {m} for m in app.marked))
            else:
                refs = fleet.below(sel) | {sel} if sel else set(fleet.nodes)
            rows = [{**n.model_dump(mode="json"), "ref": n.ref} for r in sorted(refs) if (n := fleet.nodes.get(r))]
            columns, stem = ["ref", "kind", "id", "name", "parent", "online", "severity", "unit"], "devices"
        else:
            return
        try:
            path = export_file(rows, columns, fmt, stem=stem)
        except (ExportError, ValueError) as e:
            app.notify(str(e), severity="error")
            return
        app.notify(f"exported {labels.count(len(rows), 'row')} to {path}")
