"""Every change the console makes, and the one way it makes them.

A write is refused under `--read-only` (or a read-only profile) before anything else;
a destructive one asks first, naming what it will change; each change that lands is a
line in the audit log; each outcome is a toast. The calls run as workers of the app, so
a slow vendor never holds the screen.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tuiot.domain import Alarm, Identity, Node, Origin, Rule, Threshold
from tuiot.ui import labels

if TYPE_CHECKING:
    from tuiot.ui.app import ConsoleApp

NAMED = 3  # a confirmation names this many of the things it changes, then counts the rest


def named(items: list[str], noun: str, plural: str | None = None) -> str:
    """'alarm a', '2 alarms: a; b' or '5 alarms: a; b; c and 2 more': what a confirmation is about."""
    if len(items) == 1:
        return f"{noun} {labels.clip(items[0], 60)}"
    shown = "; ".join(labels.clip(i, 60) for i in items[:NAMED])
    more = f" and {len(items) - NAMED} more" if len(items) > NAMED else ""
    return f"{labels.count(len(items), noun, plural)}: {shown}{more}"


def rule_changes(old: Rule, new: Rule, source_name: Callable[[str], str]) -> list[str]:
    """What an edit changes, as 'field a → b' phrases: the question before it replaces the rule."""

    def said(values: list[str]) -> str:
        return ", ".join(labels.clip(v, 40) for v in values) or "none"

    def changed(a: dict[str, Any], b: dict[str, Any], phrases: tuple[tuple[str, str], ...]) -> list[str]:
        return [phrase.format(a[f], b[f]) for f, phrase in phrases if a[f] != b[f]]

    def said_of(t: Threshold) -> dict[str, Any]:
        return {"condition": labels.clip(t.condition, 40), "severity": t.severity.value, "checks": t.checks}

    changes = []
    if old.name != new.name:
        changes.append(f"name → '{labels.clip(new.name, 40)}'")
    if old.enabled != new.enabled:
        changes.append("enabled" if new.enabled else "disabled")
    changes += changed(old.model_dump(), new.model_dump(), (("profile", "profile {} → {}"), ("kind", "kind {} → {}"),
                                                            ("minutes", "silence {} → {} min")))
    if old.sources != new.sources:
        changes.append(f"watches {said([source_name(s) for s in old.sources])} → {said([source_name(s) for s in new.sources])}")
    for i in range(max(len(old.thresholds), len(new.thresholds))):
        was = old.thresholds[i] if i < len(old.thresholds) else None
        now = new.thresholds[i] if i < len(new.thresholds) else None
        if was is None or now is None:
            t = was or now
            assert t is not None
            changes.append(f"{'added' if was is None else 'removed'} '{labels.clip(t.condition, 40)}' ({t.severity.value})")
        elif was != now:
            changes += changed(said_of(was), said_of(now), (("condition", "condition '{}' → '{}'"),
                                                            ("severity", "severity {} → {}"), ("checks", "checks {} → {}")))
    return changes


def rule_created(rule: Rule, source_name: Callable[[str], str]) -> list[str]:
    """What a new rule is, in `rule_changes`' phrases: its audit line, as an edit's says what changed."""
    blank = Rule(id=rule.id, profile=rule.profile, name=rule.name, enabled=rule.enabled, kind=rule.kind,
                 origin=rule.origin, minutes=rule.minutes)
    return [f"new {rule.origin.value} {rule.kind} rule", *rule_changes(blank, rule, source_name)]


class Writes:
    """The console's writes: rules, alarm closes and identity changes."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app

    # ---- the guard rails ----------------------------------------------------------------

    def read_only_why(self, profile: str) -> str | None:
        """Why writes to `profile` are refused (--read-only, or the profile's own setting), or None."""
        app = self.app
        p = app.config.profiles.get(profile)
        if app.read_only:
            return "--read-only is set"
        if p is not None and p.read_only:
            return f"profile {profile} is read-only"
        return None

    def writable(self, profile: str) -> bool:
        """Whether `profile` takes writes; when not, a toast says why."""
        why = self.read_only_why(profile)
        if why is not None:
            self.app.notify(f"read-only: {why}; nothing was changed", severity="warning")
        return why is None

    def confirm(self, question: str, then: Callable[[], Awaitable[None]]) -> None:
        from tuiot.ui.screens.confirm import Confirm  # on the first write asked for, not at start-up

        def answered(ok: bool | None) -> None:
            if ok:
                self.app.run_worker(then(), exit_on_error=False, group="write")

        self.app.push_screen(Confirm(question), answered)

    def audit(self, action: str, profile: str, what: str, changes: list[str] | None = None) -> None:
        """One line of audit.log; `changes` says what a write to `what` changed, when the
        action and target alone do not (a rule's edit)."""
        from tuiot.config import data_dir

        record: dict[str, Any] = {"at": self.app.clock().isoformat(), "action": action, "profile": profile, "target": what}
        if changes:
            record["changes"] = changes
        line = json.dumps(record, ensure_ascii=False)
        try:
            d = data_dir()
            d.mkdir(parents=True, exist_ok=True)
            with open(d / "audit.log", "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError as e:
            self.app.notify(f"audit log not written: {e}", severity="warning")

    # ---- rules ------------------------------------------------------------------------------

    def edit_rule(self, rule: Rule | None) -> None:
        """The rule editor, for `rule` or (None) a new one. It stays open until the rule is
        stored, and shows why when it is not: a refusal never loses what was typed."""
        app = self.app
        # an existing rule opens under read-only too, as a viewer: to be read and backtested
        why_viewing = self.read_only_why(rule.profile) if rule is not None else None
        writable = [n for n in app.config.profiles if self.read_only_why(n) is None]
        if rule is None and not writable:
            self.writable(next(iter(app.config.profiles), ""))  # says why, before anything is typed
            return
        from tuiot.adapters.base import Capability
        from tuiot.ui.screens.confirm import Confirm  # here, as the editor is: not at start-up
        from tuiot.ui.screens.rule_editor import RuleEditor

        native = [n for n, a in app.adapters.items() if a.can(Capability.rule_write)]

        async def backtest(r: Rule) -> Any:
            from tuiot.fleet.backtest import backtest as run

            return await run(app.adapters[r.profile], r)

        async def save(r: Rule, saving: Callable[[], None]) -> str | None:
            if (why := self.read_only_why(r.profile)) is not None:
                # a rule being edited keeps its profile: there is no other to choose
                return f"read-only ({why}): " + ("choose another profile, or esc" if rule is None else "esc to close")
            if (why := await self._missing_source(r)) is not None:
                return why
            if rule is not None:  # an edit replaces what the rule was: say what, and ask
                changes = rule_changes(rule, r, lambda ref: labels.source_name(app.fleet, ref))
                if not changes:
                    app.notify(f"rule '{rule.name}' unchanged: nothing was written")
                    return None
                question = f"Save the {rule.origin.value} rule '{rule.name}' of {rule.profile}: {'; '.join(changes)}?"
                if not await app.push_screen_wait(Confirm(question)):
                    return "not saved: edit on, save again, or esc to leave it as it was"
            saving()  # only now: the question is answered
            return await self._store_rule(r, rule, tell_failure=False)  # the form says it

        def name_of(ref: str) -> str | None:
            seen = ref in app.fleet.nodes or ref in app.fleet.readings
            return labels.source_name(app.fleet, ref) if seen else None

        profiles = list(app.config.profiles) if rule is not None else writable

        def find(text: str, profile: str | None) -> list[tuple[str, str]]:
            found = [n for n in app.fleet.search(text, limit=200, profile=profile)
                     if n.kind == "device" and n.profile in profiles]
            return [(n.ref, f"{labels.display_name(app.fleet, n)} · {n.profile}" + (" · offline" if n.online is False else ""))
                    for n in found]  # the picker orders them and shows the first few

        async def metrics(device: str) -> list[tuple[str, str]]:
            out = []
            # an adapter may answer with the whole subtree: each node is taken under its own parent
            for kid in [k for k in await app.naming.children_of(device) if k.parent == device]:
                if kid.kind == "sensor":
                    out += [(m.ref, self._metric_choice(m, f"{kid.name} · ")) for m in await app.naming.children_of(kid.ref)
                            if m.kind == "metric" and m.parent == kid.ref]
                elif kid.kind == "metric":
                    out.append((kid.ref, self._metric_choice(kid)))
            return out

        app.push_screen(RuleEditor(rule, profiles=profiles, backtest=backtest, native_profiles=native, save=save,
                                   metric=app.recent_metric, read_only=why_viewing is not None,
                                   read_only_why=why_viewing or "", name_of=name_of,
                                   unit_of=lambda ref: labels.value_unit(app.fleet, ref),
                                   find=find, metrics=metrics))

    def _metric_choice(self, metric: Node, prefix: str = "") -> str:
        """'Voltage (V) · 230.1 V, 4s ago': a metric as the picker lists it."""
        from tuiot.ui.views import age, value_text

        unit = f" ({metric.unit})" if labels.shows_unit(metric.name, metric.unit) else ""
        r = self.app.fleet.readings.get(metric.ref)
        last = f" · {value_text(r.value)}{' ' + r.unit if r.unit else ''}, {age(self.app.clock() - r.ts)} ago" if r else ""
        return f"{prefix}{metric.name}{unit}{last}"

    async def _missing_source(self, r: Rule) -> str | None:
        """Why a rule's source is not there (a typo makes a rule that never fires), or None.

        A source the console has seen is there; any other is read once from the vendor,
        and only the vendor saying it does not exist refuses the save: a slow or
        unreachable vendor does not stop a rule from being written."""
        from tuiot.adapters.base import InvalidRequest, NotFound

        adapter = self.app.adapters.get(r.profile)
        if adapter is None:
            return None
        for ref in r.sources:
            if ref in self.app.fleet.nodes or ref in self.app.fleet.readings:
                continue
            try:
                if "/device/" in ref:
                    await adapter.children(ref)
                else:
                    await adapter.latest([ref])
            except (NotFound, InvalidRequest) as e:
                return f"{ref.split('/', 2)[2]}: not in {r.profile} ({e})"
            except Exception:  # noqa: BLE001 - unreachable is not 'missing'
                continue
        return None

    def toggle_rule(self, rule: Rule) -> None:
        """Enable or disable a rule, after asking: a disabled rule raises nothing."""
        if not self.writable(rule.profile):
            return
        changed = rule.model_copy(update={"enabled": not rule.enabled})
        verb = "Enable" if changed.enabled else "Disable"

        async def go() -> None:
            await self._store_rule(changed, rule)

        self.confirm(f"{verb} the {rule.origin.value} rule '{rule.name}' of {rule.profile}?", go)

    async def _store_rule(self, rule: Rule, old: Rule | None, *, tell_failure: bool = True) -> str | None:
        """Store a rule (the vendor's or rules.toml); None when stored, else why not."""
        app = self.app
        try:
            if rule.origin is Origin.vendor:
                adapter = app.adapters[rule.profile]
                await (adapter.update_rule(rule) if old is not None else adapter.create_rule(rule))
            else:
                from tuiot.fleet.rulefile import save_rule

                await asyncio.to_thread(save_rule, rule, app.rules_path, replace=old.name if old else None, new=old is None)
        except Exception as e:
            if tell_failure:
                app.notify(f"rule not saved: {e}", severity="error")
            return f"not saved: {e}"
        if old is not None and old.enabled != rule.enabled and (old.name, old.profile) == (rule.name, rule.profile):
            done = "enabled" if rule.enabled else "disabled"
        else:
            done = "saved"
        app.notify(f"{done} rule '{rule.name}'")

        def name(ref: str) -> str:
            return labels.source_name(app.fleet, ref)

        changes = rule_changes(old, rule, name) if old is not None else rule_created(rule, name)
        self.audit(f"rule.{'save' if done == 'saved' else done.removesuffix('d')}", rule.profile, rule.name, changes)
        app.lists.rules_changed()
        return None

    def delete_rule(self, rule: Rule) -> None:
        app = self.app
        if not self.writable(rule.profile):
            return

        async def go() -> None:
            try:
                if rule.origin is Origin.vendor:
                    await app.adapters[rule.profile].delete_rule(rule.id)
                else:
                    from tuiot.fleet.rulefile import delete_rule

                    await asyncio.to_thread(delete_rule, rule.name, app.rules_path)
            except Exception as e:
                app.notify(f"rule not deleted: {e}", severity="error")
                return
            self.audit("rule.delete", rule.profile, rule.name)
            app.notify(f"deleted rule '{rule.name}'")
            app.lists.rules_changed()

        self.confirm(f"Delete the {rule.origin.value} rule '{rule.name}' of {rule.profile}?", go)

    # ---- alarms -----------------------------------------------------------------------------

    def close_alarms(self, alarms: list[Alarm]) -> None:
        app = self.app
        refused = [a for a in alarms if not a.closable]
        if refused:  # the vendor's refusal first: under read-only too, it is the reason that holds
            why = "; ".join(dict.fromkeys(labels.unclosable_reason(a) for a in refused))
            app.notify(f"not closed: {why}" + (f" ({labels.count(len(refused), 'alarm')})" if len(refused) > 1 else ""),
                       severity="warning")
            alarms = [a for a in alarms if a.closable]
            if not alarms:
                return

        async def close(a: Alarm) -> None:
            if a.origin is Origin.local:
                if app.local is not None:
                    await asyncio.to_thread(app.local.close, a.id)
            else:
                await app.adapters[a.profile].close_alarm(a.id)

        def after(done: int, alarms: list[Alarm]) -> None:
            app.notify(f"closed {labels.count(done, 'alarm')}" if done == len(alarms)
                       else f"closed {done} of {labels.count(len(alarms), 'alarm')}")
            app.lists.alarms_changed({a.profile for a in alarms})

        def said(a: Alarm) -> str:
            # a local rule's description is its condition: the device says which pump it is about
            text = a.description or a.id
            device = labels.known_name(app.fleet, a.device) if a.device else None
            return f"{device}: {text}" if device and device not in text else text

        self._bulk(alarms, lambda chosen: f"Close {named([said(a) for a in chosen], 'alarm')}?",
                   close, lambda a: ("alarm.close", a.id), lambda a, e: f"{a.profile}: alarm {a.id} not closed: {e}", after)

    def _bulk(self, items: list[Any], question: Callable[[list[Any]], str], act: Callable[[Any], Awaitable[Any]],
              audit: Callable[[Any], tuple[str, str]], failed: Callable[[Any, Exception], str],
              after: Callable[[int, list[Any]], None]) -> None:
        """One write over marked rows (alarms, identities): the writable ones, after one
        question; each change audited, each failure a toast, the rows unmarked after."""
        chosen = [i for i in items if self.writable(i.profile)]
        if not chosen:
            return

        async def go() -> None:
            done = 0
            for item in chosen:
                try:
                    await act(item)
                    done += 1
                    action, target = audit(item)
                    self.audit(action, item.profile, target)
                except Exception as e:
                    self.app.notify(failed(item, e), severity="error")
            self.app.lists.unmark({i.ref for i in chosen})
            after(done, chosen)

        self.confirm(question(chosen), go)

    # ---- identities ---------------------------------------------------------------------------

    def lock(self, items: list[Identity], lock: bool) -> None:
        verb = "lock" if lock else "unlock"
        self._identities(items, verb.title(), verb, lambda a, i: getattr(a, verb)(i.identity))

    def tag_add(self, items: list[Identity], name: str, value: str, replace: bool = False) -> None:
        if replace:  # the question says the other values go
            self._identities(items, f"Set tag {name}={value} (replacing its other values) on",
                             f"tag-set {name}={value}", lambda a, i: a.tag_add(i.identity, name, value, replace=True))
            return
        self._identities(items, f"Add tag {name}={value} to", f"tag-add {name}={value}",
                         lambda a, i: a.tag_add(i.identity, name, value))

    def tag_remove(self, items: list[Identity], name: str, value: str | None) -> None:
        tag = f"{name}={value}" if value else name
        self._identities(items, f"Remove tag {tag} from", f"tag-remove {tag}",
                         lambda a, i: a.tag_remove(i.identity, name, [value] if value else None))

    def installation_status(self, items: list[Identity], status: str) -> None:
        self._identities(items, f"Set installation status '{status}' on", f"status {status}",
                         lambda a, i: a.set_installation_status(i.identity, status), noun="thing", tree=True)

    def group(self, items: list[Identity], group: str) -> None:
        self._identities(items, "Move", f"group {group}", lambda a, i: a.set_group(i.identity, group),
                         noun="thing", after=f" to group '{group}'", tree=True)

    def _identities(self, items: list[Identity], verb: str, what: str, call: Callable[[Any, Identity], Awaitable[Any]],
                    *, noun: str = "identity", after: str = "", tree: bool = False) -> None:
        """Change each identity in turn: `verb` and `after` frame the question, `what` the audit
        line; with `tree`, the change shows in the Devices tree too (its group, its attributes)."""
        app = self.app
        plural = "identities" if noun == "identity" else None

        def done(n: int, chosen: list[Identity]) -> None:
            # the toast says what was done (lock, tag-add env=qa…), not only how many
            app.notify(f"{what}: done for {n} of {len(chosen)} ({named([i.identity for i in chosen], noun, plural)})")
            app.lists.identities_changed({i.profile for i in chosen}, tree=tree)

        self._bulk(items, lambda chosen: f"{verb} {named([i.identity for i in chosen], noun, plural)}{after}?",
                   lambda i: call(app.adapters[i.profile], i), lambda i: ("identity.write", f"{what} {i.identity}"),
                   lambda i, e: f"{i.identity}: {e}", done)
