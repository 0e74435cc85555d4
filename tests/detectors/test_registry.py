"""The plugin registry: names from the config literal, duplicates refused, unknown types listed."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError

from detectors.errors import PluginError
from detectors.registry import PluginConfig, PluginRegistry, plugin_name


class EchoConfig(PluginConfig):
    type: Literal["echo"] = "echo"
    word: str = "hi"


class Echo:
    def __init__(self, config: EchoConfig) -> None:
        self.word = config.word


def test_register_and_create_builds_the_plugin_from_its_config() -> None:
    registry: PluginRegistry[Echo] = PluginRegistry("thing")
    registry.register(EchoConfig)(Echo)
    config = registry.validate_config({"type": "echo", "word": "ho"})
    assert isinstance(config, EchoConfig)
    assert registry.create(config).word == "ho"
    assert registry.names() == ["echo"]


def test_a_name_registered_twice_is_refused() -> None:
    registry: PluginRegistry[Echo] = PluginRegistry("thing")
    registry.add(EchoConfig, Echo)
    with pytest.raises(PluginError, match="registered twice"):
        registry.add(EchoConfig, Echo)


def test_a_config_without_a_single_literal_type_is_refused() -> None:
    class Loose(PluginConfig):
        type: str = "x"

    with pytest.raises(PluginError, match="Literal"):
        plugin_name(Loose)


def test_a_plugin_that_fails_to_start_names_itself() -> None:
    registry: PluginRegistry[Echo] = PluginRegistry("thing")

    def broken(config: EchoConfig) -> Echo:
        raise RuntimeError("model file missing")

    registry.add(EchoConfig, broken)
    with pytest.raises(PluginError, match="thing plugin 'echo' could not start: model file missing"):
        registry.create(EchoConfig())


def test_unknown_type_and_unknown_field_fail_validation_with_their_path() -> None:
    from typing import Annotated

    from pydantic import PlainValidator

    registry: PluginRegistry[Echo] = PluginRegistry("thing")
    registry.add(EchoConfig, Echo)

    class Holder(BaseModel):
        things: list[Annotated[PluginConfig, PlainValidator(registry.validate_config)]]

    with pytest.raises(ValidationError) as info:
        Holder.model_validate({"things": [{"type": "echo"}, {"type": "ehco"}, {"type": "echo", "wrd": 1}]})
    errors = {".".join(map(str, e["loc"])): e["msg"] for e in info.value.errors()}
    assert errors["things.1"] == "unknown thing type 'ehco'; known: echo"
    assert errors["things.2.wrd"] == "Extra inputs are not permitted"
