"""Bad scenario files: each answered by a clear message (file, field path, reason), exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scenario_checks import assert_refused, write_scenario
from skyfence.cli import main
from skyfence.errors import ScenarioError
from skyfence.scenario import bundled_names, load_scenario

GOOD = {
    "name": "t",
    "duration_s": 60,
    "site": {"origin": {"lat": 51.0, "lon": -1.0}},
    "sensors": [{"id": "r1", "type": "radar", "position_enu_m": [0, 0, 10]}],
    "targets": [{"type": "drone", "waypoints_enu_m": [[1000, 0, 100], [0, 0, 100]]}],
}


def _with(path: str, value: object) -> dict[str, object]:
    """GOOD with one field replaced (dotted path; list indices as numbers)."""
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


_DELETE = object()

# (what is wrong, the file's data or raw text, words the message must contain)
CASES: list[tuple[str, object, list[str]]] = [
    ("missing duration", _with("duration_s", _DELETE), ["duration_s", "Field required"]),
    ("negative duration", _with("duration_s", -5), ["duration_s", "greater than 0"]),
    ("duration not a number", _with("duration_s", "long"), ["duration_s", "number"]),
    ("latitude out of range", _with("site.origin.lat", 123), ["site.origin.lat", "less than"]),
    ("unknown sensor type", _with("sensors.0.type", "sonar"), ["sensors[0]", "sonar"]),
    ("misspelt field", _with("sensors.0.perod_s", 1.0), ["sensors[0].perod_s", "unknown field"]),
    ("position of 2 numbers", _with("sensors.0.position_enu_m", [0, 0]),
     ["sensors[0].position_enu_m", "at least 3"]),
    ("pd above 1", _with("sensors.0.pd", 1.5), ["sensors[0].pd", "less than or equal to 1"]),
    ("negative clutter", _with("sensors.0.clutter_per_scan", -1), ["clutter_per_scan"]),
    ("negative sigma", _with("sensors.0.sigma", {"range_m": -3}), ["sensors[0].sigma.range_m"]),
    ("min range above max", _with("sensors.0.min_range_m", 20000),
     ["sensors[0]", "min_range_m must be below max_range_m"]),
    ("no waypoints", _with("targets.0.waypoints_enu_m", []), ["targets[0].waypoints_enu_m"]),
    ("dive without target", _with("targets.0.end", "dive"), ["targets[0]", "dive_target_enu_m"]),
    ("unknown end", _with("targets.0.end", "explode"), ["targets[0].end"]),
    ("zone with two shapes", _with("site.zones", [{
        "name": "z", "level": "critical", "circle": {"center_enu_m": [0, 0], "radius_m": 5},
        "polygon": [[0, 0], [1, 0], [1, 1]]}]), ["site.zones[0]", "exactly one"]),
    ("zone with bad level", _with("site.zones", [{
        "name": "z", "level": "panic", "circle": {"center_enu_m": [0, 0], "radius_m": 5}}]),
     ["site.zones[0].level", "warning", "critical"]),
    ("repeated sensor ids", _with("sensors", [GOOD["sensors"][0], GOOD["sensors"][0]]),  # type: ignore[index]
     ["sensor ids must be unique", "r1"]),
    ("confusion row not summing to 1", _with("sensors", [{
        "id": "e", "type": "eoir", "position_enu_m": [0, 0, 5],
        "confusion": {"drone": {"drone": 0.5, "bird": 0.2}}}]),
     ["sensors[0].confusion", "sums to 0.7"]),
    ("bad icao", _with("targets", [{"type": "aircraft", "icao": "XYZ",
                                     "waypoints_enu_m": [[0, 0, 1000]]}]), ["targets[0].icao"]),
    ("not yaml", "name: [unclosed\n", ["line", "not valid YAML"]),
    ("a list, not a mapping", "- 1\n- 2\n", ["expected a mapping"]),
    ("empty file", "", ["empty"]),
]


@pytest.mark.parametrize(("what", "content", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_file_gives_clear_message(tmp_path: Path, what: str, content: object,
                                      words: list[str]) -> None:
    assert_refused(tmp_path, content, words, what)


@pytest.mark.parametrize(("what", "content", "words"), CASES[:6], ids=[c[0] for c in CASES[:6]])
def test_cli_exit_code_2_and_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          what: str, content: object, words: list[str]) -> None:
    path = write_scenario(tmp_path, content)
    code = main(["simulate", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert str(path) in err and words[0] in err


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    data = _with("duration_s", -1)
    data["seed"] = -3
    data["sensors"][0]["pd"] = 7  # type: ignore[index]
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(tmp_path, data))
    assert len(info.value.problems) == 3


def test_missing_file_names_the_bundled_scenarios(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"no such file.*night-swarm"):
        load_scenario(tmp_path / "nope.yaml")


def test_bad_override_is_a_user_error(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, GOOD)
    with pytest.raises(ScenarioError, match="no such field"):
        load_scenario(path, ["sensors.5.pd=0.3"])
    with pytest.raises(ScenarioError, match="path=value"):
        load_scenario(path, ["duration_s"])
    assert load_scenario(path, ["duration_s=30"]).duration_s == 30


def test_bundled_scenarios_load() -> None:
    names = bundled_names()
    assert {"night-swarm", "airport-mixed", "birds-only", "dense-swarm"} <= set(names)
    for name in names:
        assert load_scenario(name).name == name


def test_defaults_make_short_files_enough() -> None:
    scenario = load_scenario_from(GOOD)
    radar = scenario.sensors[0]
    assert radar.period_s == 1.0 and radar.sigma.range_m == 10.0  # type: ignore[union-attr]
    assert scenario.truth_period_s == 1.0 and scenario.seed == 0


def load_scenario_from(data: dict[str, object]):  # type: ignore[no-untyped-def]
    from skyfence.scenario.load import validate

    return validate(data, "<test>")


def test_docs_cover_every_field() -> None:
    """docs/scenarios.md names every field of every scenario model (no silent drift)."""
    import re

    from pydantic import BaseModel

    from skyfence.scenario import model

    doc = (Path(__file__).parent.parent / "docs" / "scenarios.md").read_text()
    missing = []
    for obj in vars(model).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
            for name in obj.model_fields:
                if not re.search(rf"`[\w.]*\b{name}\b[^`]*`", doc):
                    missing.append(f"{obj.__name__}.{name}")
    assert not missing, f"undocumented fields: {missing}"
