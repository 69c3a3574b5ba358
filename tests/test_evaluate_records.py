"""Reading the scorer's JSONL inputs: bad lines are UserErrors naming file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skyfence.errors import UserError
from skyfence.evaluate.records import first_detections, read_alerts, read_tracks, read_truth

TRUTH = {"t": 0.0, "id": "d1", "kind": "drone", "enu_m": [1, 2, 3], "vel_mps": [0, 0, 0]}
TRACK = {"t": 0.0, "track_id": 7, "enu_m": [1, 2, 3], "vel_mps": [0, 0, 0],
         "pos_cov_m2": None, "class": "drone", "class_prob": {}, "cooperative_id": None,
         "threat": 0.1}


def write(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


def test_truth_to_arrays(tmp_path: Path) -> None:
    lines = [TRUTH, "", {**TRUTH, "id": "d2", "kind": "bird"}, {**TRUTH, "t": 1, "extra": 1}]
    table = read_truth(write(tmp_path / "truth.jsonl", lines))
    assert table.ids == ["d1", "d2"]
    assert table.kinds == ["drone", "bird"]
    assert table.target.tolist() == [0, 1, 0]
    assert table.line.tolist() == [1, 3, 4]  # the blank line 2 is skipped
    assert table.t_s.tolist() == [0.0, 0.0, 1.0]
    np.testing.assert_array_equal(table.enu_m[0], [1.0, 2.0, 3.0])


def test_track_ids_may_be_numbers(tmp_path: Path) -> None:
    table = read_tracks(write(tmp_path / "tracks.jsonl", [TRACK, {**TRACK, "track_id": "x"}]))
    assert table.track_ids == ["7", "x"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ('{"t": 1.0, "id": "d1"', "truncated"),
        ('{"t": "soon", "id": "d1", "kind": "drone", "enu_m": [0, 0, 0]}', "$.t"),
        ('{"t": 1.0, "id": "d1", "kind": "drone"}', "enu_m"),
        ('{"t": 1.0, "id": "d1", "kind": "drone", "enu_m": [0, 0]}', "enu_m"),
        ("[1, 2, 3]", "object"),
        ('{"t": 1e999, "id": "d1", "kind": "drone", "enu_m": [0, 0, 0]}', "out of range"),
        ('{"t": NaN, "id": "d1", "kind": "drone", "enu_m": [0, 0, 0]}', "malformed"),
    ],
)
def test_bad_truth_line_names_file_and_line(tmp_path: Path, bad: str, reason: str) -> None:
    path = write(tmp_path / "truth.jsonl", [TRUTH, TRUTH, bad, TRUTH])
    with pytest.raises(UserError) as info:
        read_truth(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3: ")
    assert reason in message


def test_bad_bytes_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "tracks.jsonl"
    path.write_bytes(json.dumps(TRACK).encode() + b"\n\xff\xfe\n")
    with pytest.raises(UserError, match=r"tracks\.jsonl:2: "):
        read_tracks(path)
    with pytest.raises(UserError, match="no such file"):
        read_tracks(tmp_path / "absent.jsonl")


def test_alerts_and_associations(tmp_path: Path) -> None:
    alert = {"alert_id": 1, "kind": "zone", "severity": "critical", "t_start": 4.0,
             "t_end": 9.0, "track_ids": [7, "x"], "swarm_id": None, "zone": "z", "reason": "r"}
    (got,) = read_alerts(write(tmp_path / "alerts.jsonl", [alert]))
    assert (got.alert_id, got.t_start_s, got.track_ids, got.zone) == (
        "1", 4.0, frozenset({"7", "x"}), "z")
    with pytest.raises(UserError, match=r"alerts\.jsonl:2: .*track_ids"):
        read_alerts(write(tmp_path / "alerts.jsonl", [alert, {**alert, "track_ids": None}]))
    assoc = [{"t": 2.0, "sensor": "r", "id": "d1"}, {"t": 1.0, "sensor": "r", "id": None},
             {"t": 1.5, "sensor": "e", "id": "d1"}, {"t": 3.0, "sensor": "e", "id": "d2"}]
    assert first_detections(write(tmp_path / "associations.jsonl", assoc)) == {
        "d1": 1.5, "d2": 3.0}
