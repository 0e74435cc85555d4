"""Site configuration: YAML, strict fields, errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.config import load_site_config
from detectors.errors import ConfigError

GOOD = """
site: {venue: Stade Test, municipality: Lyon}
feeds:
  - id: plaza-1
    source: {type: file, path: clip.avi, analysis_fps: 5}
    zones:
      - {name: stage, polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]], area_m2: 40}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    config = load_site_config(write(tmp_path, GOOD))
    assert config.site.municipality == "Lyon"
    zone = config.feeds[0].zones[0].at_size(100, 50)
    assert zone.polygon.tolist() == [[10, 5], [90, 5], [90, 45], [10, 45]]
    assert zone.contains_norm((0.5, 0.5)) and not zone.contains_norm((0.95, 0.5))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(GOOD.replace("analysis_fps", "analysis_fsp"),
                     "feeds.0.source.analysis_fsp: Extra inputs", id="typo-in-feed"),
        pytest.param(GOOD.replace("type: file", "type: betamax"), "unknown feed type 'betamax'",
                     id="unknown-type"),
        pytest.param(GOOD.replace("0.9, 0.9", "1.9, 0.9"), "feeds.0.zones.0: Value error, normalised",
                     id="polygon-out-of-frame"),
        pytest.param(GOOD.replace("id: plaza-1", "id: 'plaza 1'"), "feeds.0.id: String should match",
                     id="bad-feed-id"),
        pytest.param("feeds: [", "not valid YAML", id="broken-yaml"),
        pytest.param("site: {}\n", "feeds: Field required", id="no-feeds"),
    ],
)
def test_bad_files_fail_with_the_field_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_site_config(write(tmp_path, text))
    assert message in str(info.value)
    assert "site.yaml" in str(info.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_site_config(tmp_path / "nope.yaml")


def test_an_analyser_missing_its_input_is_refused(tmp_path: Path) -> None:
    text = GOOD + "    analysers: [{type: motion}, {type: zones, zones: [stage]}]\n"
    with pytest.raises(ConfigError, match=r"analysers.1 \(zones\) needs a tracker analyser on the same feed"):
        load_site_config(write(tmp_path, text))
    text = GOOD + "    analysers: [{type: tracker}]\n"
    with pytest.raises(ConfigError, match=r"analysers.0 \(tracker\) needs a hog or onnx analyser"):
        load_site_config(write(tmp_path, text))


def test_an_analyser_naming_an_unknown_zone_is_refused(tmp_path: Path) -> None:
    text = GOOD + "    analysers: [{type: motion}, {type: tracker, source: motion}, {type: zones, zones: [stgae]}]\n"
    with pytest.raises(ConfigError, match=r"names unknown zones \['stgae'\]"):
        load_site_config(write(tmp_path, text))
