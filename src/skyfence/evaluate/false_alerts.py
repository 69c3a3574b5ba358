r"""False alerts: alerts about no true drone, per simulated hour.

An alert is FALSE when none of its ``track_ids`` was ever matched (in the
identity correspondence, at any tick of the run; see
:mod:`skyfence.evaluate.identity`) to a truth
target of kind ``drone``. A swarm alert is judged by its member tracks (its
``track_ids``), so one real drone among the members makes it true. An alert
that names no tracks concerns no drone and is false. Two kinds are excluded
and counted apart: sensor-health alerts (``kind`` ``sensor_unhealthy``), which
are about the equipment, and suspect-broadcast alerts (``suspect_broadcast``),
which are about a broadcast, not a drone: the one about a phantom broadcast
necessarily names a track that matches no true drone, and is exactly the
alert wanted. They are judged by :mod:`skyfence.evaluate.spoofing` (flagged in
time, honest broadcasts never flagged).

.. math::

    \text{false per hour} = \frac{\#\text{false alerts}}{D / 3600}

with :math:`D` the scenario's ``duration_s`` (the simulated time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skyfence.assess.alerts import KIND_SENSOR, KIND_SUSPECT
from skyfence.evaluate.records import Alert

EXCLUDED = (KIND_SENSOR, KIND_SUSPECT)
"""Alert kinds not judged here (module doc)."""


def split_alerts(
    alerts: Sequence[Alert], drone_tracks: set[str]
) -> tuple[list[Alert], list[Alert]]:
    """(false alerts, sensor-health alerts), each in file order; suspect-broadcast
    alerts are in neither."""
    sensor = [a for a in alerts if a.kind == KIND_SENSOR]
    false = [a for a in alerts
             if a.kind not in EXCLUDED and a.track_ids.isdisjoint(drone_tracks)]
    return false, sensor


def false_alert_section(
    alerts: Sequence[Alert] | None, drone_tracks: set[str], duration_s: float
) -> dict[str, Any]:
    """The ``false_alerts`` report section (counts null without an alerts file)."""
    hours = duration_s / 3600.0
    if alerts is None:
        return {"alerts_given": False, "hours": hours, "scored": None, "sensor_health": None,
                "suspect_broadcast": None, "count": None, "per_hour": None, "alerts": []}
    false, sensor = split_alerts(alerts, drone_tracks)
    suspect = sum(a.kind == KIND_SUSPECT for a in alerts)
    return {
        "alerts_given": True,
        "hours": hours,
        "scored": len(alerts) - len(sensor) - suspect,
        "sensor_health": len(sensor),
        "suspect_broadcast": suspect,
        "count": len(false),
        "per_hour": len(false) / hours if hours > 0 else None,
        "alerts": [
            {"alert_id": a.alert_id, "kind": a.kind, "t_start_s": a.t_start_s,
             "zone": a.zone, "track_ids": sorted(a.track_ids)}
            for a in false
        ],
    }
