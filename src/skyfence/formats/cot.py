"""Cursor on Target (CoT 2.0) events of skyfence's confirmed tracks, sent over UDP for
TAK users (ATAK, WinTAK, iTAK, TAK Server).

Each confirmed track becomes one event per output tick::

    <event version="2.0" uid="skyfence.SITE.T12" type="a-h-A-M-F-Q" how="m-g"
           time="…Z" start="…Z" stale="…Z">
      <point lat="…" lon="…" hae="…" ce="…" le="…"/>
      <detail>
        <contact callsign="skyfence 12 drone"/>
        <track course="…" speed="…"/>
        <remarks>drone p=0.80; threat 0.72; …</remarks>
      </detail>
    </event>

``uid`` is stable for the track's life, so a TAK map moves one marker;
``stale`` is the tick time plus ``stale_s`` (default 3 ticks of 1 s): a track
skyfence stops reporting disappears from the map by itself. ``hae`` is the
height above the WGS-84 ellipsoid (the site origin's ``alt_m`` is taken as
ellipsoidal); ``ce``/``le`` the 1-sigma horizontal/vertical errors in metres
from the track's position covariance; ``course`` degrees from true north,
``speed`` m/s.

Type (MIL-STD-2525 atoms: ``a`` atom, affiliation, ``A`` air, …):

==================  ===================================  ========================
skyfence class      type                                 affiliation ``{aff}``
==================  ===================================  ========================
drone               ``a-{aff}-A-M-F-Q`` (UAV)            ``h`` hostile when the
unknown             ``a-{aff}-A``                        threat ≥ ``hostile_threat``
                                                         (0.7) or the track is in
                                                         an active critical-zone
                                                         alert; ``s`` suspect when
                                                         threat ≥ ``suspect_threat``
                                                         (0.4) or its broadcast is
                                                         contradicted; else ``u``
aircraft, with a    ``a-{coop}-A-C-F`` (civil fixed      ``cooperative_affiliation``
cooperative id      wing)                                (``n`` neutral; ``f`` friend)
aircraft, none      ``a-u-A-C``                          unknown
bird                not sent (``send_birds``: ``a-u-A``  —
                    with the remark "bird")
==================  ===================================  ========================

skyfence only describes what it sees: an affiliation here is a display hint
for the people watching, never a command to anything.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pymap3d

from skyfence.formats.udp_out import UdpOut
from skyfence.live.hub import Snapshot

DEFAULT_PORT = 6969  # the TAK "SA" multicast group 239.2.3.1:6969 listens here
_UNKNOWN_ERROR_M = 9_999_999.0  # CoT's "not known" for ce/le


@dataclass(frozen=True, slots=True)
class CotSettings:
    """How tracks are typed and stamped (module doc)."""

    stale_s: float = 3.0
    hostile_threat: float = 0.7
    suspect_threat: float = 0.4
    cooperative_affiliation: str = "n"  # n neutral | f friend
    send_birds: bool = False
    uid_prefix: str = "skyfence"
    how: str = "m-g"  # machine-generated

    def __post_init__(self) -> None:
        if self.cooperative_affiliation not in ("n", "f"):
            raise ValueError("cooperative_affiliation must be 'n' or 'f'")
        if not self.stale_s > 0:
            raise ValueError("stale_s must be > 0")


def iso_utc(t_utc_s: float) -> str:
    """CoT's time format: ISO 8601 UTC with milliseconds and a Z."""
    return datetime.fromtimestamp(t_utc_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def affiliation(track: Mapping[str, Any], critical: bool, settings: CotSettings) -> str:
    threat = track.get("threat")
    threat = float(threat) if threat is not None else 0.0
    if critical or threat >= settings.hostile_threat:
        return "h"
    if threat >= settings.suspect_threat or track.get("suspect"):
        return "s"
    return "u"


def cot_type(track: Mapping[str, Any], critical: bool = False,
             settings: CotSettings | None = None) -> str | None:
    """The CoT type of a track (module doc's table); None: not sent."""
    s = settings or CotSettings()
    cls = track.get("class") or "unknown"
    if cls == "bird":
        return "a-u-A" if s.send_birds else None
    if cls == "aircraft":
        return f"a-{s.cooperative_affiliation}-A-C-F" if track.get("cooperative_id") \
            else "a-u-A-C"
    aff = affiliation(track, critical, s)
    return f"a-{aff}-A-M-F-Q" if cls == "drone" else f"a-{aff}-A"


def _errors_m(cov: Sequence[Sequence[float]] | None) -> tuple[float, float]:
    """(ce, le): 1-sigma horizontal (largest axis) and vertical errors."""
    if not cov:
        return _UNKNOWN_ERROR_M, _UNKNOWN_ERROR_M
    a, b, d = float(cov[0][0]), float(cov[0][1]), float(cov[1][1])
    largest = (a + d) / 2 + math.sqrt(((a - d) / 2) ** 2 + b * b)
    ce, le = math.sqrt(max(largest, 0.0)), math.sqrt(max(float(cov[2][2]), 0.0))
    return (ce if math.isfinite(ce) else _UNKNOWN_ERROR_M,
            le if math.isfinite(le) else _UNKNOWN_ERROR_M)


def track_event(track: Mapping[str, Any], origin: tuple[float, float, float],
                t_utc_s: float, site: str = "site", critical: bool = False,
                settings: CotSettings | None = None) -> bytes | None:
    """One track as a CoT event (UTF-8 XML); None if its class is not sent."""
    s = settings or CotSettings()
    kind = cot_type(track, critical, s)
    if kind is None:
        return None
    tid = int(track["track_id"])
    e, n, u = track["enu_m"]
    lat, lon, hae = pymap3d.enu2geodetic(e, n, u, *origin)
    ce, le = _errors_m(track.get("pos_cov_m2"))
    now = iso_utc(t_utc_s)
    event = ET.Element("event", {
        "version": "2.0", "uid": f"{s.uid_prefix}.{site}.T{tid}", "type": kind,
        "how": s.how, "time": now, "start": now, "stale": iso_utc(t_utc_s + s.stale_s)})
    ET.SubElement(event, "point", {"lat": f"{float(lat):.7f}", "lon": f"{float(lon):.7f}",
                                   "hae": f"{float(hae):.1f}", "ce": f"{ce:.1f}",
                                   "le": f"{le:.1f}"})
    detail = ET.SubElement(event, "detail")
    cls = str(track.get("class") or "unknown")
    ET.SubElement(detail, "contact", {"callsign": f"{s.uid_prefix} {tid} {cls}"})
    vel = track.get("vel_mps")
    if vel is not None and all(v is not None for v in vel[:2]):
        course = math.degrees(math.atan2(vel[0], vel[1])) % 360.0
        ET.SubElement(detail, "track", {"course": f"{course:.1f}",
                                        "speed": f"{math.hypot(vel[0], vel[1]):.2f}"})
    ET.SubElement(detail, "remarks").text = _remarks(track, cls, critical)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + ET.tostring(event)


def _remarks(track: Mapping[str, Any], cls: str, critical: bool) -> str:
    parts = [cls]
    prob = (track.get("class_prob") or {}).get(cls)
    if prob is not None:
        parts[0] += f" p={float(prob):.2f}"
    if track.get("threat") is not None:
        parts.append(f"threat {float(track['threat']):.2f}")
    if track.get("cooperative_id"):
        parts.append(f"id {track['cooperative_id']}")
    if track.get("suspect"):
        parts.append("broadcast contradicted by sensors")
    if track.get("swarm_id") is not None:
        parts.append(f"swarm {track['swarm_id']}")
    if critical:
        parts.append("in a critical-zone alert")
    return "; ".join(parts)


def critical_tracks(snapshot: Snapshot) -> set[int]:
    """Tracks named by an active critical alert."""
    return {int(t) for a in snapshot.alerts.values()
            if a.get("severity") == "critical" and a.get("t_end") is None
            for t in a.get("track_ids") or []}


def snapshot_events(snapshot: Snapshot, origin: tuple[float, float, float],
                    epoch_utc_s: float, site: str = "site",
                    settings: CotSettings | None = None) -> list[bytes]:
    """The events of a tick's confirmed tracks."""
    critical = critical_tracks(snapshot)
    t_utc = epoch_utc_s + snapshot.t_s
    out = []
    for tid, track in snapshot.tracks.items():
        event = track_event(track, origin, t_utc, site, int(tid) in critical, settings)
        if event is not None:
            out.append(event)
    return out


class CotSender:
    """Sends each tick's events as UDP datagrams (one event each) to ``host:port``,
    unicast or multicast (``ttl`` hops)."""

    def __init__(self, origin: tuple[float, float, float], epoch_utc_s: float,
                 host: str = "239.2.3.1", port: int = DEFAULT_PORT, site: str = "site",
                 settings: CotSettings | None = None, ttl: int = 1) -> None:
        self.origin, self.epoch_utc_s = origin, epoch_utc_s
        self.site = site
        self.settings = settings or CotSettings()
        self.out = UdpOut(host, port, ttl)

    def send(self, snapshot: Snapshot) -> int:
        """Send this tick's events; how many went (a send error is counted, not raised)."""
        return self.out.send_all(snapshot_events(snapshot, self.origin, self.epoch_utc_s,
                                                 self.site, self.settings))

    def close(self) -> None:
        self.out.close()
