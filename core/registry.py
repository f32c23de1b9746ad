"""Finding, ordering and validating plugins.

``plugins.toml`` is the allow-list and the order. A plugin is named by module
(``module = "plugins.livestock:plugin"``) or by an entry point of the group ``minori.plugins``.
A required plugin that fails stops start-up with one line; an optional one is marked failed
and the rest of the service goes on without it.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from importlib.metadata import entry_points
from typing import Any, Literal

import msgspec

from core.clock import Clock
from core.plugin import Facade, Plugin, PluginContext, Services
from core.services import build_services
from core.settings import ConfigError, PluginEntry, Settings, redact, resolve_env_refs

ENTRY_POINT_GROUP = "minori.plugins"
log = logging.getLogger("minori.plugins")

Status = Literal["loaded", "failed", "disabled"]


@dataclass
class LoadedPlugin:
    name: str
    entry: PluginEntry
    status: Status
    plugin: Plugin | None = None
    context: PluginContext | None = None
    error: str | None = None

    @property
    def shown_settings(self) -> dict[str, Any]:
        """The settings in force (defaults included), with ``$env`` references shown as
        written and secret-looking values redacted."""
        effective: dict[str, Any] = {}
        if self.context is not None and self.context.settings is not None:
            effective = msgspec.to_builtins(self.context.settings)
        references = {k: v for k, v in self.entry.settings.items() if _is_env_ref(v)}
        return redact({**(effective or dict(self.entry.settings)), **references})


class PluginRegistry:
    """The plugins of one app, in dependency order, and the services built from them."""

    def __init__(
        self, plugins: list[LoadedPlugin], services: Services, facades: list[Facade] = ()
    ) -> None:
        self.all = plugins
        self.services = services
        self.facades = list(facades)

    @property
    def active(self) -> list[LoadedPlugin]:
        return [p for p in self.all if p.status == "loaded"]

    def get(self, name: str) -> LoadedPlugin:
        for loaded in self.all:
            if loaded.name == name:
                return loaded
        raise KeyError(name)

    @classmethod
    def load(
        cls, settings: Settings, clock: Clock, services: Services | None = None
    ) -> PluginRegistry:
        services = services or build_services(settings, clock)
        found: dict[str, LoadedPlugin] = {}
        for name, entry in settings.plugins.items():
            found[name] = _import(name, entry)
        ordered = _order(found)
        for loaded in ordered:
            if loaded.status != "loaded":
                continue
            assert loaded.plugin is not None
            missing = [r for r in loaded.plugin.requires if found[r].status != "loaded"]
            if missing:
                _fail(loaded, f"requires plugin {', '.join(missing)}, which did not load")
                continue
            try:
                plugin_settings = _validate_settings(loaded, settings)
            except ConfigError as exc:
                _fail(loaded, str(exc))
                continue
            loaded.context = PluginContext.build(services, loaded.name, plugin_settings)
            for event, handler in loaded.plugin.events.items():
                services.events.subscribe(event, loaded.name, loaded.context, handler)
            for spec in loaded.plugin.predictors:
                services.predictors.register(
                    loaded.name, spec, loaded.context, models_dir=settings.models_dir
                )
        return cls(ordered, services, [_facade(n, m) for n, m in settings.facades.items()])


def _facade(name: str, target: str) -> Facade:
    module_name, _, attribute = target.partition(":")
    try:
        facade = getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:
        raise ConfigError(
            f"facade {name!r}: cannot be imported: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(facade, Facade):
        raise ConfigError(f"facade {name!r}: {target} is not a core.plugin.Facade")
    return facade


def _is_env_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"$env"}


def _fail(loaded: LoadedPlugin, reason: str) -> None:
    message = f"plugin {loaded.name!r}: {reason}"
    if loaded.entry.required:
        raise ConfigError(message)
    log.error("optional plugin disabled: %s", message, extra={"plugin": loaded.name})
    loaded.status = "failed"
    loaded.error = reason


def _import(name: str, entry: PluginEntry) -> LoadedPlugin:
    loaded = LoadedPlugin(name=name, entry=entry, status="loaded")
    if not entry.enabled:
        loaded.status = "disabled"
        return loaded
    try:
        if entry.module is not None:
            module_name, _, attribute = entry.module.partition(":")
            obj = getattr(importlib.import_module(module_name), attribute or "plugin")
        else:
            matches = entry_points(group=ENTRY_POINT_GROUP, name=entry.entry_point)
            if not matches:
                raise LookupError(
                    f"no installed package provides entry point {entry.entry_point!r} "
                    f"in group {ENTRY_POINT_GROUP!r}"
                )
            obj = next(iter(matches)).load()
    except Exception as exc:
        _fail(loaded, f"cannot be imported: {type(exc).__name__}: {exc}")
        return loaded
    if not isinstance(obj, Plugin):
        _fail(loaded, f"{entry.module or entry.entry_point} is not a core.plugin.Plugin")
    elif obj.name != name:
        _fail(loaded, f"declares the name {obj.name!r}; plugins.toml must use the same name")
    else:
        loaded.plugin = obj
    return loaded


def _order(found: dict[str, LoadedPlugin]) -> list[LoadedPlugin]:
    """Plugins.toml order, moved only where ``requires`` demands it."""
    graph: dict[str, list[str]] = {}
    for name, loaded in found.items():
        requires = list(loaded.plugin.requires) if loaded.plugin else []
        unknown = [r for r in requires if r not in found]
        if unknown:
            raise ConfigError(
                f"plugin {name!r} requires {', '.join(map(repr, unknown))}, "
                "which plugins.toml does not list"
            )
        graph[name] = requires
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise ConfigError(f"plugins require each other in a cycle: {cycle}") from None
    # Take the first plugin in file order whose requirements are all placed, again and again.
    ordered: list[str] = []
    remaining = list(found)
    while remaining:
        name = next(n for n in remaining if all(r in ordered for r in graph[n]))
        ordered.append(name)
        remaining.remove(name)
    return [found[name] for name in ordered]


_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")


def _validate_settings(loaded: LoadedPlugin, settings: Settings) -> Any:
    assert loaded.plugin is not None
    schema = loaded.plugin.settings
    raw = resolve_env_refs(
        dict(loaded.entry.settings), settings.environ, f"[plugins.{loaded.name}.settings]"
    )
    if schema is None:
        if raw:
            raise ConfigError("takes no settings, but plugins.toml gives some")
        return None
    try:
        return msgspec.convert(raw, schema, strict=False)
    except msgspec.ValidationError as exc:
        match = _AT_PATH.match(str(exc))
        assert match is not None
        setting = (match["path"] or "").lstrip(".") or "(settings)"
        message = match["message"]
        if message.startswith("Object contains unknown field"):
            raise ConfigError(f"unknown setting {message.rsplit(' ', 1)[-1]}") from None
        raise ConfigError(f"setting {setting!r}: {message[0].lower()}{message[1:]}") from None
