r"""Protected zones: point-in-zone tests, zone entries and alert lead time.

Zones are horizontal areas, any height; the point-in-zone tests are
:mod:`skyfence.zones`'s (circle, and polygon by the even-odd rule).

A target ENTERS a zone at the first truth tick at which it is inside (a target
that starts inside enters at its first tick). Its alert lead time is

.. math::

    \text{lead} = \max(0,\; t_\text{entry} - t_\text{start}(a^*))

where :math:`a^*` is the alert with the earliest ``t_start`` whose
``track_ids`` include a track matched to the target (in the identity
correspondence, :mod:`skyfence.evaluate.identity`) at any tick up to and
including the entry tick; 0 when there is no such alert (an alert that starts
after the entry gave no warning either).

Per true drone (truth ``kind`` drone) that entered a critical zone, its
critical entry is its earliest entry into any critical zone (on a tie, the
zone listed first in the scenario), and its lead time is the same formula at
that entry: seconds from the first alert about it to the entry, 0 for a drone
never alerted by then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from skyfence.evaluate.records import Alert
from skyfence.scenario.model import Zone
from skyfence.zones import points_in_circle, points_in_polygon

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def points_in_zone(xy: FloatArray, zone: Zone) -> BoolArray:
    if zone.circle is not None:
        return points_in_circle(xy, zone.circle.center_enu_m, zone.circle.radius_m)
    assert zone.polygon is not None  # the model guarantees one shape
    return points_in_polygon(xy, zone.polygon)


@dataclass(frozen=True)
class ZoneEntry:
    zone: str
    level: str
    target: int
    tick: int


def zone_entries(
    zones: Sequence[Zone], enu_m: FloatArray, target: IntArray, tick: IntArray
) -> list[ZoneEntry]:
    """First tick each target is inside each zone, zone by zone, in order of entry."""
    out: list[ZoneEntry] = []
    for zone in zones:
        inside = points_in_zone(enu_m, zone)
        tg, tk = target[inside], tick[inside]
        order = np.lexsort((tk, tg))
        ids, at = np.unique(tg[order], return_index=True)
        first = tk[order][at]
        for k in np.argsort(first, kind="stable"):
            out.append(ZoneEntry(zone.name, zone.level, int(ids[k]), int(first[k])))
    return out


def first_alert(alerts: Sequence[Alert], track_ids: set[str]) -> Alert | None:
    """The alert with the earliest ``t_start`` naming any of ``track_ids``."""
    naming = [a for a in alerts if not a.track_ids.isdisjoint(track_ids)]
    return min(naming, key=lambda a: a.t_start_s, default=None)


def lead_time_s(entry_t_s: float, alert: Alert | None) -> float:
    """:math:`\\max(0, t_\\text{entry} - t_\\text{start})`; 0 without an alert."""
    return 0.0 if alert is None else max(0.0, entry_t_s - alert.t_start_s)


def first_critical_entries(
    entries: Sequence[ZoneEntry], is_drone: Sequence[bool]
) -> list[ZoneEntry]:
    """Each drone target's first entry into a critical zone, in order of entry.

    ``entries`` as :func:`zone_entries` gives them (zone by zone, so on a tie
    the zone listed first wins); ``is_drone`` per target index.
    """
    first: dict[int, ZoneEntry] = {}
    for e in entries:
        if e.level == "critical" and is_drone[e.target]:
            seen = first.get(e.target)
            if seen is None or e.tick < seen.tick:
                first[e.target] = e
    return sorted(first.values(), key=lambda e: (e.tick, e.target))
