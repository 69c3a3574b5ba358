"""The picture hub: deltas that rebuild the picture, subscribers, slow readers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from skyfence.live.hub import Hub, Snapshot, apply_delta, delta


def track(i: int, t: float, x: float) -> dict[str, Any]:
    return {"t": t, "track_id": i, "enu_m": [x, 0.0, 10.0], "vel_mps": [1.0, 0.0, 0.0],
            "pos_cov_m2": None, "class": "drone", "class_prob": {"drone": 1.0},
            "cooperative_id": None, "threat": 0.5}


def snap(t: float, ids: list[int], alerts: tuple[str, ...] = (),
         silent: bool = False) -> Snapshot:
    return Snapshot(
        t_s=t, tracks={i: track(i, t, 10.0 * i + t) for i in ids},
        swarms={1: {"swarm_id": 1, "count": len(ids), "members": ids}} if len(ids) > 2 else {},
        alerts={a: {"alert_id": a, "t_start": 0.0, "t_end": None} for a in alerts},
        health={"r": {"sensor": "r", "silent": silent, "low_rate": silent,
                      "recent_count": 0 if silent else 5, "expected_count": 5}})


SEQUENCE = [snap(0.0, [1, 2]), snap(1.0, [1, 2, 3], ("a",)), snap(2.0, [2, 3], ("a", "b"), True),
            snap(3.0, []), snap(4.0, [4, 5, 6], ("c",))]


def test_delta_round_trip_through_json() -> None:
    view = Snapshot(t_s=0.0)
    prev = None
    for cur in SEQUENCE:
        change = json.loads(json.dumps(delta(prev, cur)))
        assert change["type"] == "delta" and change["t"] == cur.t_s
        view = apply_delta(view, change)
        assert view == cur
        prev = cur


def test_delta_carries_only_changes() -> None:
    a, b = snap(1.0, [1, 2, 3], ("a",)), snap(1.0, [1, 2, 3], ("a",))
    assert all(delta(a, b)[k] == {"upsert": [], "remove": []}
               for k in ("tracks", "swarms", "alerts", "health"))
    change = delta(SEQUENCE[1], SEQUENCE[2])
    assert change["tracks"]["remove"] == [1] and change["alerts"]["remove"] == []
    assert [r["alert_id"] for r in change["alerts"]["upsert"]] == ["b"]
    assert change["swarms"] == {"upsert": [], "remove": [1]}
    assert [r["sensor"] for r in change["health"]["upsert"]] == ["r"]


def test_subscribe_gets_the_snapshot_first_then_deltas() -> None:
    async def run() -> None:
        hub = Hub()
        empty = hub.subscribe()
        assert empty.empty()
        hub.publish(SEQUENCE[0])
        q = hub.subscribe()
        first = q.get_nowait()
        assert first["type"] == "snapshot" and first["t"] == 0.0
        assert [r["track_id"] for r in first["tracks"]] == [1, 2]
        hub.publish(SEQUENCE[1])
        assert q.get_nowait()["type"] == "delta"
        assert empty.get_nowait()["t"] == 0.0 and empty.get_nowait()["t"] == 1.0
        assert hub.subscribers == 2
        hub.unsubscribe(q)
        hub.publish(SEQUENCE[2])
        assert q.empty() and hub.subscribers == 1 and hub.published == 3

    asyncio.run(run())


def test_slow_subscriber_is_dropped_and_told() -> None:
    async def run() -> None:
        hub = Hub(max_queue=3)
        slow, fast = hub.subscribe(), hub.subscribe()
        for i, s in enumerate(SEQUENCE):
            hub.publish(s)
            while not fast.empty():
                assert fast.get_nowait()["t"] == s.t_s
            assert hub.subscribers == (2 if i < 3 else 1)
        assert hub.dropped_subscribers == 1
        got = [slow.get_nowait() for _ in range(slow.qsize())]
        assert [m["type"] for m in got] == ["delta"] * 3 + ["dropped"]
        again = hub.subscribe()
        assert again.get_nowait()["type"] == "snapshot"

    asyncio.run(run())


def test_ack_goes_to_the_engine() -> None:
    hub = Hub()
    with pytest.raises(LookupError):
        hub.ack("a", "alice", 1.0)
    seen: list[tuple[str, str, float]] = []

    def on_ack(alert_id: str, who: str, t_s: float) -> dict[str, Any]:
        seen.append((alert_id, who, t_s))
        return {"alert_id": alert_id, "acked_by": who, "t_ack": t_s}

    hub.on_ack = on_ack
    assert hub.ack("a", "alice", 2.0)["acked_by"] == "alice" and seen == [("a", "alice", 2.0)]
