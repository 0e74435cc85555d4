"""The plugin pattern: a config model with a `type` literal, a registry refusing duplicates, entry points.

Each plugin family (feeds, analysers, sinks; audio adds its own types to the same families) owns one
`PluginRegistry`. A plugin registers its pydantic config class (whose `type` field is a `Literal`) together
with a factory building the plugin from a validated config. Site configs hold `registry.Spec` fields: a
plain validator dispatches on `type` to the registered config class, so a typo in a field or an unknown
type fails validation with the field's path, and the known types are listed.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from detectors.errors import PluginError

log = logging.getLogger(__name__)

P = TypeVar("P")
F = TypeVar("F", bound=Callable[..., Any])

ENTRY_POINT_GROUP = "popart.detectors"


class PluginConfig(BaseModel):
    """Base of every plugin config: strict (`extra="forbid"`), immutable, tagged by `type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str


def plugin_name(config_type: type[PluginConfig]) -> str:
    """The single `Literal` value of a config class's `type` field."""
    annotation = config_type.model_fields["type"].annotation
    values = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()
    if len(values) != 1 or not isinstance(values[0], str):
        raise PluginError(f"{config_type.__name__}.type must be a Literal of exactly one string")
    return values[0]


@dataclass(frozen=True)
class PluginSpec(Generic[P]):
    """One registered plugin: its name, config model and factory."""

    name: str
    config_type: type[PluginConfig]
    factory: Callable[[Any], P]


class PluginRegistry(Generic[P]):
    """Named plugins of one family; registering a name twice is an error, never an override."""

    def __init__(self, family: str) -> None:
        self.family = family
        self._specs: dict[str, PluginSpec[P]] = {}

    def add(self, config_type: type[PluginConfig], factory: Callable[[Any], P]) -> None:
        """Register `factory` for configs of `config_type`; refuses a name already taken."""
        name = plugin_name(config_type)
        if name in self._specs:
            other = self._specs[name].config_type
            raise PluginError(
                f"{self.family} plugin {name!r} registered twice "
                f"({other.__module__}.{other.__qualname__} and "
                f"{config_type.__module__}.{config_type.__qualname__})"
            )
        self._specs[name] = PluginSpec(name=name, config_type=config_type, factory=factory)

    def register(self, config_type: type[PluginConfig]) -> Callable[[F], F]:
        """Class or function decorator: `@ANALYSERS.register(HogConfig)`."""

        def decorate(factory: F) -> F:
            self.add(config_type, factory)
            return factory

        return decorate

    def names(self) -> list[str]:
        """Registered plugin names, sorted."""
        return sorted(self._specs)

    def spec(self, name: str) -> PluginSpec[P]:
        """The plugin registered as `name`, or a `PluginError` listing the known ones."""
        try:
            return self._specs[name]
        except KeyError:
            raise PluginError(
                f"unknown {self.family} type {name!r}; known: {', '.join(self.names()) or 'none'}"
            ) from None

    def validate_config(self, value: Any) -> PluginConfig:
        """Validate a raw mapping into the config class its `type` names (pydantic validator)."""
        if isinstance(value, PluginConfig):
            return value
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise PydanticCustomError(
                "plugin_type", "a {family} needs a 'type', one of: {known}",
                {"family": self.family, "known": ", ".join(self.names())},
            )
        spec = self._specs.get(value["type"])
        if spec is None:
            raise PydanticCustomError(
                "plugin_type", "unknown {family} type '{name}'; known: {known}",
                {"family": self.family, "name": value["type"], "known": ", ".join(self.names())},
            )
        return spec.config_type.model_validate(value)

    def create(self, config: PluginConfig) -> P:
        """Build the plugin for a validated config; any failure becomes a `PluginError` naming it."""
        spec = self.spec(config.type)
        try:
            return spec.factory(config)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"{self.family} plugin {config.type!r} could not start: {exc}") from exc


def dump_config(config: PluginConfig) -> dict[str, Any]:
    """Serialise a plugin config with its concrete class's fields (used by the `*Spec` types)."""
    return config.model_dump(mode="json")


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Import third-party plugin modules declared as entry points; a failing one stops startup."""
    loaded = []
    for point in entry_points(group=group):
        try:
            point.load()
        except Exception as exc:
            raise PluginError(
                f"plugin entry point {point.name!r} ({point.value}) cannot load: {exc}"
            ) from exc
        loaded.append(point.name)
        log.info("loaded detector plugin entry point %s", point.name)
    return loaded
