"""The site file's live feeds (`sources`, `outputs`): accepted, defaulted, refused clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scenario_checks import assert_refused, write_scenario
from skyfence.scenario import load_scenario


def site(**more: Any) -> dict[str, Any]:
    return {"name": "feeds", "duration_s": 10,
            "site": {"origin": {"lat": 45.0, "lon": 7.0}},
            "sensors": [{"id": "radar-1", "type": "radar", "position_enu_m": [0, 0, 10]},
                        {"id": "adsb-1", "type": "adsb", "position_enu_m": [0, 0, 5]},
                        {"id": "rf-1", "type": "rf", "position_enu_m": [50, 0, 5]}],
            **more}


def test_feeds_load_with_their_default_ports(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, site(
        sources=[{"format": "adsb-beast", "sensor": "adsb-1", "host": "10.0.0.5"},
                 {"format": "asterix", "sensor": "radar-1", "port": 8600},
                 {"format": "sapient", "nodes": {"0f6c1a52-6d8e-4f0e-9d3c-2b7a1c9e4d11": "rf-1"}}],
        outputs=[{"format": "cot"}, {"format": "asterix-cat062", "port": 8700, "sic": 7}]))
    s = load_scenario(path)
    assert [f.resolved_port() for f in s.sources] == [30005, 8600, 5020]
    assert [f.resolved_port() for f in s.outputs] == [6969, 8700]
    assert s.outputs[1].sac == 0 and s.outputs[1].sic == 7


def test_a_feed_must_name_a_sensor_of_its_type(tmp_path: Path) -> None:
    assert_refused(tmp_path, site(sources=[{"format": "adsb-avr", "sensor": "radar-1"}]),
                   ["sources.0", "radar-1", "not adsb"], "wrong sensor type")
    assert_refused(tmp_path, site(sources=[{"format": "asterix", "sensor": "radar-9",
                                            "port": 1}]), ["no sensor 'radar-9'"], "unknown")
    assert_refused(tmp_path, site(sources=[{"format": "asterix", "sensor": "radar-1"}]),
                   ["port is required"], "asterix port")
    assert_refused(tmp_path, site(sources=[{"format": "adsb-beast"}]),
                   ["sensor is required"], "no sensor")
    assert_refused(tmp_path, site(outputs=[{"format": "cot", "port": 70000}]),
                   ["outputs", "port"], "bad port")
