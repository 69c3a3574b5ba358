"""Alert engine: each rule's lifecycle, hysteresis, debounce, ack, close_all, sensor health."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from skyfence.assess.alerts import (
    KIND_NEW_DRONE,
    KIND_PREDICTED,
    KIND_SENSOR,
    KIND_SUSPECT,
    KIND_SWARM,
    KIND_ZONE,
    Alert,
    AlertEngine,
    AlertParams,
    KeyedHysteresis,
    TrackConditions,
    UnknownAlertError,
)
from skyfence.assess.sensor_health import SensorHealth, SensorHealthMonitor

ZONES = [("runway", "critical"), ("perimeter", "warning")]
INF = np.inf


def one(track_id: int = 17, *, entry: Sequence[float] = (INF, INF),
        inside: Sequence[bool] = (False, False), **flags: Any) -> TrackConditions:
    """One track (a drone unless told otherwise) 1.5 km north-east of the site."""
    flags.setdefault("is_drone", True)
    return TrackConditions.build(
        [track_id], 2, position_enu_m=[[1060.0, 1060.0, 100.0]], inside_zone=[inside],
        entry_time_s=[entry], **{k: [v] for k, v in flags.items()})


def none() -> TrackConditions:
    return TrackConditions.build([], 2)


def run(engine: AlertEngine, conditions: Sequence[TrackConditions], t0: float = 0.0) -> float:
    t = t0
    for c in conditions:
        engine.update(t, c)
        t += 1.0
    return t


def kinds(alerts: Sequence[Alert]) -> list[str]:
    return [a.kind for a in alerts]


def zoned(alerts: Sequence[Alert]) -> list[Alert]:
    """The zone alerts among ``alerts`` (a drone track also has its new-drone alert)."""
    return [a for a in alerts if a.kind in (KIND_PREDICTED, KIND_ZONE)]


# ----------------------------------------------------------- zone rules
def test_predicted_entry_starts_after_debounce_and_ends_beyond_the_loose_horizon() -> None:
    e = AlertEngine(ZONES)
    ch0 = e.update(0.0, one(entry=(100.0, INF)))
    assert ch0.started == []  # one tick is not enough (start_ticks 2)
    ch1 = e.update(1.0, one(entry=(99.0, INF)))
    (a,) = zoned(ch1.started)
    assert (a.kind, a.severity, a.zone, a.track_ids, a.t_start_s) == (
        KIND_PREDICTED, "critical", "runway", (17,), 1.0)
    assert a.reason == ("drone track 17 predicted to enter runway (critical zone) in 99 s, "
                        "now 1.5 km north-east of the site")
    assert a.alert_id == "A-1" and a.active
    # 140 s: beyond the start horizon (120 s) but within the end one (150 s): holds
    run(e, [one(entry=(140.0, INF))] * 5, t0=2.0)
    assert zoned(e.active()) == [a]
    # beyond 150 s for end_ticks (3) ticks: ends at the third
    assert e.update(7.0, one(entry=(160.0, INF))).ended == []
    assert e.update(8.0, one(entry=(INF, INF))).ended == []
    (done,) = e.update(9.0, one(entry=(INF, INF))).ended
    assert (done.alert_id, done.t_end_s) == ("A-1", 9.0)
    assert e.pop_ended() == [done] and e.pop_ended() == []
    assert kinds(e.active()) == [KIND_NEW_DRONE]  # the track is still a new drone


def test_oscillating_around_the_horizon_gives_one_alert_not_many() -> None:
    entry = [100.0, 100.0] + [115.0, 135.0] * 20
    hysteretic = AlertEngine(ZONES)
    run(hysteretic, [one(entry=(x, INF)) for x in entry])
    assert len(zoned(hysteretic.active())) == 1 and hysteretic.pop_ended() == []
    naive = AlertEngine(ZONES, AlertParams(horizon_s=125.0, horizon_end_factor=1.0,
                                           start_ticks=1, end_ticks=1))
    run(naive, [one(entry=(x, INF)) for x in entry])
    assert len(naive.pop_ended()) == 20  # what the hysteresis prevents


def test_debounce_on_start_and_on_end() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=3, end_ticks=2))
    inside = one(inside=(False, True))
    outside = one()
    # a blip of 2 ticks inside is not an entry
    run(e, [inside, inside, outside, inside, inside])
    assert zoned(e.active()) == []
    (a,) = e.update(5.0, inside).started  # third consecutive tick
    assert (a.kind, a.severity, a.zone, a.t_start_s) == (KIND_ZONE, "warning", "perimeter", 5.0)
    assert a.reason == "drone track 17 entered perimeter (warning zone)"
    # one tick out is not an exit; two are
    run(e, [outside, inside, outside], t0=6.0)
    assert zoned(e.active()) == [a]
    (done,) = e.update(9.0, outside).ended
    assert done.t_end_s == 9.0


def test_inside_keeps_the_predicted_alert_and_adds_an_entry_alert() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    e.update(0.0, one(entry=(5.0, INF)))
    e.update(1.0, one(inside=(True, False), entry=(INF, INF)))
    assert kinds(zoned(e.active())) == [KIND_PREDICTED, KIND_ZONE]


def test_an_alert_ends_at_once_when_its_track_is_gone() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    e.update(0.0, one(entry=(10.0, INF)))
    ch = e.update(1.0, none())
    assert sorted(kinds(ch.ended)) == [KIND_NEW_DRONE, KIND_PREDICTED]
    assert {a.t_end_s for a in ch.ended} == {1.0}


def test_only_non_cooperative_drones_alert() -> None:
    p = AlertParams(start_ticks=1)
    cases: dict[str, dict[str, Any]] = {
        "bird": {"is_drone": False},
        "aircraft with ads-b": {"is_drone": False, "cooperative": True},
        "compliant remote id drone": {"cooperative": True},
        "unknown": {"is_drone": False, "is_unknown": True},
    }
    for name, flags in cases.items():
        e = AlertEngine(ZONES, p)
        run(e, [one(inside=(True, True), entry=(0.0, 0.0), **flags)] * 3)
        assert e.active() == [], name
    # unknown tracks alert on zones when asked to (but are no "new drone")
    e = AlertEngine(ZONES, AlertParams(start_ticks=1, unknown_as_drone=True))
    e.update(0.0, one(inside=(True, False), is_drone=False, is_unknown=True))
    (a,) = e.active()
    assert a.kind == KIND_ZONE and a.reason.startswith("unclassified track 17 entered runway")


# ----------------------------------------------------------- track rules
def test_new_non_cooperative_drone_once_per_track() -> None:
    e = AlertEngine(ZONES)
    unknown = one(is_drone=False, is_unknown=True)
    run(e, [unknown, one(), one()])
    (a,) = e.active()
    assert (a.kind, a.severity, a.t_start_s, a.track_ids) == (KIND_NEW_DRONE, "warning", 2.0, (17,))
    assert a.reason == "new non-cooperative drone track 17, 1.5 km north-east of the site"
    # an unknown spell holds it; a reclassification to bird ends it (after end_ticks)
    run(e, [unknown, unknown, one(is_drone=False)], t0=3.0)
    assert e.active() == [a]
    run(e, [one(is_drone=False)] * 2, t0=6.0)
    (done,) = e.pop_ended()
    assert done.t_end_s == 7.0
    # a drone again: still the same track, no second "new" alert
    run(e, [one()] * 5, t0=8.0)
    assert e.active() == []
    # another track, which then turns cooperative (Remote ID received)
    run(e, [one(18)] * 2 + [one(18, cooperative=True)] * 3, t0=13.0)
    (done,) = e.pop_ended()
    assert (done.track_ids, done.t_end_s) == ((18,), 17.0)


def test_suspect_broadcast_alerts_and_does_not_exempt() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    e.update(0.0, one(cooperative=True, suspect=True, inside=(True, False)))
    by_kind = {a.kind: a for a in e.active()}
    assert set(by_kind) == {KIND_SUSPECT, KIND_ZONE, KIND_NEW_DRONE}
    s = by_kind[KIND_SUSPECT]
    assert (s.severity, s.track_ids) == ("warning", (17,))
    assert "suspect cooperative identity" in s.reason
    # a suspect aircraft broadcast alerts too, but as no drone
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    e.update(0.0, one(is_drone=False, cooperative=True, suspect=True, inside=(True, True)))
    assert kinds(e.active()) == [KIND_SUSPECT]


# ----------------------------------------------------------- swarms
def swarm_tick(members: Sequence[int], birds: Sequence[int] = ()) -> TrackConditions:
    ids = [*members, *birds]
    return TrackConditions.build(
        ids, 2, position_enu_m=[[1500.0 + i, 1500.0, 100.0] for i in range(len(ids))],
        is_drone=[True] * len(members) + [False] * len(birds), swarm_id=[7] * len(ids))


def test_swarm_alert_collects_members_and_ignores_birds() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    # two drones and three birds in "swarm" 7: no swarm alert
    e.update(0.0, swarm_tick([1, 2], birds=[50, 51, 52]))
    assert KIND_SWARM not in kinds(e.active())
    e.update(1.0, swarm_tick([1, 2, 3]))
    (a,) = [x for x in e.active() if x.kind == KIND_SWARM]
    assert (a.severity, a.swarm_id, a.track_ids, a.zone) == ("critical", 7, (1, 2, 3), None)
    assert a.reason == "swarm 7 of 3 drones detected 2.1 km north-east of the site"
    e.update(2.0, swarm_tick([2, 3, 4, 5]))  # 4 and 5 join
    e.update(3.0, swarm_tick([5, 6]))  # two left: still held (swarm_hold_count 2)
    (a,) = [x for x in e.active() if x.kind == KIND_SWARM]
    assert a.track_ids == (1, 2, 3, 4, 5, 6)
    run(e, [swarm_tick([6])] * 3, t0=4.0)
    (done,) = [x for x in e.pop_ended() if x.kind == KIND_SWARM]
    assert done.t_end_s == 6.0 and done.track_ids == (1, 2, 3, 4, 5, 6)


def swarms_tick(groups: dict[int, Sequence[int]], unknown: Sequence[int] = ()) -> TrackConditions:
    """Tracks in swarms ``{swarm id: track ids}``; drones unless in ``unknown``."""
    ids = [t for members in groups.values() for t in members]
    sid = [s for s, members in groups.items() for _ in members]
    return TrackConditions.build(
        ids, 2, position_enu_m=[[6000.0 + 10 * i, 3000.0, 100.0] for i in range(len(ids))],
        is_drone=[t not in unknown for t in ids], is_unknown=[t in unknown for t in ids],
        swarm_id=sid)


def swarm_alerts(e: AlertEngine) -> list[Alert]:
    return [a for a in e.active() if a.kind == KIND_SWARM]


def test_swarm_alert_continues_through_splits_and_new_swarm_ids() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    e.update(0.0, swarms_tick({7: [1, 2, 3, 4, 5, 6]}))
    (a,) = swarm_alerts(e)
    first = a.alert_id
    assert (a.swarm_id, a.size, a.size_history, a.swarm_ids) == (7, 6, ((0.0, 6),), (7,))
    # the swarm splits: the part with a new id is still this alert's, no new alert
    e.update(1.0, swarms_tick({7: [1, 2, 3], 9: [4, 5, 6]}))
    # then the tracker renumbers the whole swarm (say, a merge into id 12), two more join
    e.update(2.0, swarms_tick({12: [1, 2, 3, 4, 5, 6, 20, 21]}))
    (a,) = swarm_alerts(e)
    assert (a.alert_id, a.swarm_id, a.swarm_ids) == (first, 12, (7, 9, 12))
    assert (a.size, a.size_history) == (8, ((0.0, 6), (2.0, 8)))
    assert a.track_ids == (1, 2, 3, 4, 5, 6, 20, 21)
    assert a.reason.endswith("of the site, up to 8 drones")
    # down to two: held (swarm_hold_count 2), the size follows, the peak stays
    e.update(3.0, swarms_tick({12: [20, 21]}))
    (a,) = swarm_alerts(e)
    assert (a.size, a.size_history[-1]) == (8, (3.0, 2))
    run(e, [none()] * 3, t0=4.0)
    (done,) = [x for x in e.pop_ended() if x.kind == KIND_SWARM]
    assert done.t_end_s == 6.0 and done.size_history[-1] == (4.0, 0)
    record = done.record()
    assert (record["size"], record["size_history"][:2], record["swarm_ids"]) == (
        8, [[0.0, 6], [2.0, 8]], [7, 9, 12])


def test_a_different_swarm_gets_its_own_alert_despite_a_stray_member() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    e.update(0.0, swarms_tick({7: [1, 2, 3, 4]}))
    # track 4 now flies with three drones never seen in swarm 7: most of swarm 8 is new
    e.update(1.0, swarms_tick({7: [1, 2, 3], 8: [4, 30, 31, 32]}))
    assert [(a.swarm_id, a.track_ids) for a in swarm_alerts(e)] == [
        (7, (1, 2, 3, 4)), (8, (4, 30, 31, 32))]


def test_unclassified_members_count_in_the_size_but_do_not_start_it() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    e.update(0.0, swarms_tick({5: [1, 2, 3, 4, 5]}, unknown=[3, 4, 5]))
    assert swarm_alerts(e) == []  # two drones: no swarm alert yet
    e.update(1.0, swarms_tick({5: [1, 2, 3, 4, 5]}, unknown=[4, 5]))
    (a,) = swarm_alerts(e)
    assert (a.size, a.track_ids) == (5, (1, 2, 3, 4, 5))
    assert a.reason == "swarm 5 of 5 drones detected 6.7 km north-east of the site"


# ----------------------------------------------------------- ack, close, records
def test_ack_is_recorded_and_unknown_ids_are_rejected() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    (a,) = e.update(0.0, one()).started
    acked = e.ack(a.alert_id, "alice", 0.5)
    assert (acked.acked_by, acked.t_ack_s) == ("alice", 0.5)
    assert e.ack(a.alert_id, "bob", 0.7).acked_by == "alice"  # the first ack counts
    assert e.get(a.alert_id).acked_by == "alice" and e.get(a.alert_id).active
    with pytest.raises(UnknownAlertError, match="no active alert 'A-99'"):
        e.ack("A-99", "alice", 1.0)
    with pytest.raises(ValueError, match="operator"):
        e.ack(a.alert_id, "", 1.0)
    e.update(1.0, none())  # the track is gone: the alert ends, its ack kept
    (done,) = e.pop_ended()
    assert (done.acked_by, done.t_ack_s, done.t_end_s) == ("alice", 0.5, 1.0)
    with pytest.raises(UnknownAlertError):
        e.ack(a.alert_id, "alice", 2.0)


def test_close_all_hands_over_every_alert_once() -> None:
    e = AlertEngine(ZONES, AlertParams(start_ticks=1))
    e.update(0.0, TrackConditions.build([1, 2], 2, is_drone=[True, True],
                                        entry_time_s=[[30.0, INF], [INF, INF]]))
    e.update(1.0, TrackConditions.build([1], 2, is_drone=[True],
                                        entry_time_s=[[29.0, INF]]))  # track 2 ended
    closed = e.close_all(1.5)
    assert [(a.kind, a.track_ids, a.t_end_s) for a in closed] == [
        (KIND_NEW_DRONE, (2,), 1.0), (KIND_PREDICTED, (1,), 1.5), (KIND_NEW_DRONE, (1,), 1.5)]
    assert len({a.alert_id for a in closed}) == 3
    assert e.active() == [] and e.pop_ended() == [] and e.close_all(2.0) == []
    record = closed[1].record()
    assert {"alert_id", "kind", "severity", "t_start", "t_end", "track_ids", "swarm_id",
            "zone", "reason"} <= set(record)
    assert json.loads(json.dumps(record)) == {
        "alert_id": "A-1", "kind": KIND_PREDICTED, "severity": "critical", "t_start": 0.0,
        "t_end": 1.5, "track_ids": [1], "swarm_id": None, "zone": "runway",
        "reason": closed[1].reason, "sensor": None, "acked_by": None, "t_ack": None}
    with pytest.raises(ValueError, match="before the last tick"):
        e.close_all(0.5)


def test_bad_inputs_are_clear_errors() -> None:
    e = AlertEngine(ZONES)
    e.update(1.0, none())
    with pytest.raises(ValueError, match="move forward"):
        e.update(1.0, none())
    with pytest.raises(ValueError, match="inside_zone"):
        e.update(2.0, TrackConditions.build([1], 3))
    with pytest.raises(ValueError, match="zone level"):
        AlertEngine([("z", "severe")])
    with pytest.raises(ValueError):
        AlertParams(swarm_hold_count=4, swarm_min_count=3)


def test_keyed_hysteresis_with_owners() -> None:
    h = KeyedHysteresis(start_ticks=2, end_ticks=2, stride=10)
    i64 = np.array
    assert [x.tolist() for x in h.step(i64([11, 23]), i64([]))] == [[], []]
    assert [x.tolist() for x in h.step(i64([23, 11]), i64([]))] == [[11, 23], []]
    # 23's owner (2) is gone: ends at once; 11 is held by its start-free hold
    assert [x.tolist() for x in h.step(i64([]), i64([11]), alive=i64([1]))] == [[], [23]]
    assert [x.tolist() for x in h.step(i64([]), i64([]), alive=i64([1]))] == [[], []]
    assert [x.tolist() for x in h.step(i64([]), i64([]), alive=i64([1]))] == [[], [11]]


# ----------------------------------------------------------- sensor health
def sensor_run(
    counts: np.ndarray, monitored: Sequence[bool] | None = None
) -> tuple[AlertEngine, list[Alert]]:
    """Feed (ticks, sensors) counts at 1 s ticks; answer the engine and its started alerts."""
    names = ["radar-1", "rf-1"][: counts.shape[1]]
    monitor = SensorHealthMonitor(names, period_s=1.0, monitored=monitored)
    e = AlertEngine(ZONES)
    started = []
    for t, k in enumerate(counts):
        started += e.update(float(t), none(), monitor.observe(float(t), k)).started
    return e, started


def test_silent_sensor_alerts_and_recovers() -> None:
    rng = np.random.default_rng(5)
    counts = rng.poisson(3.0, (100, 2))
    counts[40:60, 0] = 0  # radar-1 silent for 20 s
    e, started = sensor_run(counts)
    (a,) = started
    # last report at 39 s; silent for more than 5 periods at 45 s
    assert (a.kind, a.severity, a.sensor, a.track_ids, a.zone) == (
        KIND_SENSOR, "warning", "radar-1", (), None)
    assert a.t_start_s == 45.0 and a.reason == "sensor radar-1 silent for 6 s"
    # one alert over the silence and the low count in the 30 s window after it: the
    # window is back above 75 % of the usual count at about 80 s, plus 5 healthy ticks
    (done,) = e.pop_ended()
    assert done.alert_id == a.alert_id and 75.0 <= (done.t_end_s or 0.0) <= 95.0
    # a sensor not expected to report all the time may be quiet
    _, started = sensor_run(counts, monitored=[False, True])
    assert started == []


def test_rate_drop_to_a_fifth_alerts_and_a_steady_rate_does_not() -> None:
    rng = np.random.default_rng(11)
    counts = np.column_stack((rng.poisson(4.0, 900), rng.poisson(4.0, 900)))
    counts[600:, 0] = rng.poisson(0.8, 300)  # radar-1 drops to 20 % at 600 s
    e, started = sensor_run(counts)
    (a,) = started
    assert a.sensor == "radar-1" and 600.0 < a.t_start_s <= 630.0
    m = re.fullmatch(r"sensor radar-1 reported (\d+) detections in the last 30 s, "
                     r"about (\d+) expected", a.reason)
    assert m is not None
    assert int(m[1]) <= 0.5 * int(m[2]) and 105 <= int(m[2]) <= 125  # 4/s x 30 s
    assert [x.sensor for x in e.active()] == ["radar-1"]  # still low: still active


def test_monitor_snapshot_fields_and_healthy_default() -> None:
    m = SensorHealthMonitor(["a"], period_s=[2.0])
    h = m.observe(0.0, [0])
    assert h.sensor_id == ("a",) and not h.unhealthy.any()
    for t in range(1, 12):
        h = m.observe(float(t), [0])
    assert h.silent.tolist() == [True] and h.silent_for_s.tolist() == [11.0]
    assert not SensorHealth.healthy(["a", "b"]).unhealthy.any()
    with pytest.raises(ValueError, match="move forward"):
        m.observe(5.0, [1])


# ----------------------------------------------------------- restore and reconfigure
def test_restore_continues_alerts_without_raising_them_again() -> None:
    """A fresh engine given the alerts a previous one had active at t=9 carries on:
    same ids, no second alert, an end after end_ticks quiet ticks, new ids after
    every used one, no second new-drone alert for a track that had one."""
    zone = Alert("A-3", KIND_ZONE, "critical", 4.0, "drone track 17 entered runway",
                 track_ids=(17,), zone="runway", acked_by="ops", t_ack_s=6.0)
    swarm = Alert("A-5", KIND_SWARM, "critical", 5.0, "swarm 7 of 3 drones", track_ids=(1, 2, 3),
                  swarm_id=7, size=3, size_history=((5.0, 3),), swarm_ids=(7,))
    lost = Alert("A-6", KIND_ZONE, "warning", 5.0, "zone gone", track_ids=(17,), zone="moat")
    ended = Alert("A-4", KIND_SUSPECT, "warning", 2.0, "ended", track_ids=(17,), t_end_s=3.0)
    e = AlertEngine(ZONES)
    n = e.restore(9.0, [zone, swarm, lost, ended], used_ids=["A-1", "A-8", "B-99"],
                  new_drone_alerted=[17, 1, 2, 3])
    assert n == 2 and e.active() == [zone, swarm]  # the unknown zone and the ended one skipped
    assert e.get("A-3").acked_by == "ops"
    with pytest.raises(ValueError):
        e.update(9.0, none())  # the restored tick is the last one
    def both(swarm: int) -> TrackConditions:
        return TrackConditions.build(
            [17, 1, 2, 3], 2, position_enu_m=np.zeros((4, 3)), is_drone=[True] * 4,
            inside_zone=[[True, False]] + [[False, False]] * 3, swarm_id=[-1] + [swarm] * 3)

    # both hold, swarm 7 renumbered 8 (a successor): nothing starts (no new-drone
    # alerts for tracks that had theirs), nothing ends
    for t, swarm_id in ((10.0, 7), (11.0, 8), (12.0, 8)):
        ch = e.update(t, both(swarm_id))
        assert ch.started == [] and ch.ended == []
    assert [a.alert_id for a in e.active()] == ["A-3", "A-5"]
    assert e.get("A-5").swarm_ids == (7, 8)
    outside = TrackConditions.build([17], 2, is_drone=[True])  # 17 out of the zone, swarm gone
    assert e.update(13.0, outside).ended == []
    assert e.update(14.0, outside).ended == []
    done = e.update(15.0, outside).ended  # end_ticks (3) quiet ticks
    assert sorted((a.alert_id, a.t_end_s) for a in done) == [("A-3", 15.0), ("A-5", 15.0)]
    assert e.active() == []
    e.update(16.0, one(18, inside=(True, False)))
    started = e.update(17.0, one(18, inside=(True, False))).started
    assert sorted(a.alert_id for a in started) == ["A-10", "A-9"]  # after A-8


def test_restored_sensor_and_track_alerts_are_keyed_like_raised_ones() -> None:
    sensor = Alert("A-2", KIND_SENSOR, "warning", 1.0, "sensor r1 silent", sensor="r1")
    predicted = Alert("A-1", KIND_PREDICTED, "warning", 1.0, "predicted", track_ids=(17,),
                      zone="perimeter")
    e = AlertEngine(ZONES)
    assert e.restore(1.0, [predicted, sensor]) == 2
    # the predicted alert holds on the perimeter's entry time, the sensor on its ill health
    e.update(2.0, one(entry=(INF, 100.0)))
    assert [a.alert_id for a in e.active()] == ["A-1", "A-2"]
    # the track is beyond every horizon: ends at the third tick; meanwhile its
    # new-drone alert (not among the restored) takes the number after theirs
    assert [a.alert_id for a in e.update(3.0, one()).started] == ["A-3"]
    e.update(4.0, one())
    assert [a.alert_id for a in e.update(5.0, one()).ended] == ["A-1"]
    assert [a.alert_id for a in e.active()] == ["A-2", "A-3"]  # no sensor facts: it stays


def test_reconfigure_changes_thresholds_and_debounce_from_the_next_tick() -> None:
    e = AlertEngine(ZONES)
    e.update(0.0, one(entry=(100.0, INF)))
    e.reconfigure(AlertParams(horizon_s=60.0, start_ticks=3, end_ticks=1, sensor_end_ticks=2))
    assert e.params.horizon_s == 60.0
    # 100 s is beyond the new 60 s horizon: no predicted alert however long it lasts
    run(e, [one(entry=(100.0, INF))] * 4, t0=1.0)
    assert zoned(e.active()) == []
    run(e, [one(entry=(50.0, INF))] * 2, t0=5.0)
    assert zoned(e.active()) == []  # two ticks are not start_ticks (3) any more
    (a,) = zoned(e.update(7.0, one(entry=(50.0, INF))).started)
    assert a.t_start_s == 7.0
    # end_ticks 1: a single tick beyond 1.25 × 60 s ends it
    assert zoned(e.update(8.0, one(entry=(80.0, INF))).ended) == [replace(a, t_end_s=8.0)]
