"""The report's figures, each a PNG (bytes) drawn with matplotlib's Agg canvas
(no pyplot, no display, no global state): the plan-view map, the alert
timeline, the drones' approach, and sensor health."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse, Patch

from skyfence.report.data import FloatArray, PeriodData
from skyfence.report.geometry import zone_outline
from skyfence.report.summary import DroneSummary

CLASS_COLOURS = {"drone": "#d62728", "bird": "#2ca02c", "aircraft": "#1f77b4",
                 "unknown": "#bcbd22"}
SEVERITY_COLOURS = {"critical": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}
ZONE_COLOURS = {"critical": "#d62728", "warning": "#ff7f0e"}
OTHER = "#7f7f7f"
MAX_ALERT_BARS = 150
MAX_LABELLED_DRONES = 40  # more and the ids hide the map
DPI = 100


def to_png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


# ---------------------------------------------------------------------- the map
def map_png(data: PeriodData, drones: Sequence[DroneSummary]) -> bytes:
    """Plan view (ENU metres, north up): zones, sensors, every track's path coloured
    by its class (drones thick, on top, labelled), estimated origins."""
    fig = Figure(figsize=(10, 9), layout="constrained")
    ax = fig.add_subplot()
    extent: list[FloatArray] = []
    for zone in data.site.site.zones:
        xy = zone_outline(zone)
        colour = ZONE_COLOURS.get(zone.level, OTHER)
        ax.fill(xy[:, 0], xy[:, 1], color=colour, alpha=0.08)
        ax.plot(xy[:, 0], xy[:, 1], color=colour, lw=1.2,
                ls="-" if zone.level == "critical" else "--")
        ax.annotate(zone.name, xy[np.argmax(xy[:, 1])], color=colour, fontsize=8,
                    ha="center", va="bottom")
        extent.append(xy)
    _draw_tracks(ax, data, {d.track_id for d in drones})
    s = data.states
    if len(s):
        extent.append(s.enu_m[:, :2][np.all(np.isfinite(s.enu_m[:, :2]), axis=1)])
    for d in drones:
        if d.origin is not None:
            extent.append(_draw_origin(ax, d))
    sensors = np.array([x.position_enu_m[:2] for x in data.site.sensors], dtype=np.float64)
    if len(sensors):
        ax.scatter(sensors[:, 0], sensors[:, 1], marker="^", c="black", s=30, zorder=5)
        for x, (e, n) in zip(data.site.sensors, sensors, strict=True):
            ax.annotate(x.id, (e, n), fontsize=7, xytext=(3, 3), textcoords="offset points")
        extent.append(sensors)
    ax.plot([0], [0], marker="+", color="black", ms=12, mew=2, zorder=6)
    _fit(fig, ax, np.vstack(extent) if extent else np.zeros((1, 2)))
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("east (m)")
    ax.set_ylabel("north (m)")
    ax.grid(alpha=0.3)
    handles: list[Artist] = [Line2D([], [], color=c, lw=2.5 if k == "drone" else 1, label=k)
                             for k, c in CLASS_COLOURS.items()]
    handles += [Patch(facecolor=c, alpha=0.3, edgecolor=c, label=f"{k} zone")
                for k, c in ZONE_COLOURS.items()]
    handles += [Line2D([], [], marker="^", ls="", color="black", label="sensor"),
                Line2D([], [], color=OTHER, ls=":", label="back-extrapolation"),
                Patch(facecolor="none", edgecolor="purple", label="origin area (95 %)")]
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.85)
    ax.set_title(f"{data.site.name}: tracks t={data.t_from_s:g}–{data.t_to_s:g} s")
    return to_png(fig)


def _draw_tracks(ax: Axes, data: PeriodData, drone_ids: set[int]) -> None:
    s = data.states
    if len(s) < 2:
        return
    same = s.track_id[1:] == s.track_id[:-1]
    seg = np.stack([s.enu_m[:-1, :2], s.enu_m[1:, :2]], axis=1)[same]
    colours = [CLASS_COLOURS.get(str(c), OTHER) for c in s.cls[:-1][same]]
    is_drone = np.isin(s.track_id[:-1][same], list(drone_ids))
    for mask, width, z in ((~is_drone, 0.8, 2), (is_drone, 2.2, 4)):
        if np.any(mask):
            ax.add_collection(LineCollection(list(seg[mask]), colors=np.array(colours)[mask],
                                             linewidths=width, zorder=z,
                                             alpha=1.0 if z == 4 else 0.7))
    if len(drone_ids) > MAX_LABELLED_DRONES:
        return
    for tid in sorted(drone_ids):
        rows = s.rows_of(tid)
        if rows.stop > rows.start:
            e, n = s.enu_m[rows.stop - 1, :2]
            ax.annotate(str(tid), (e, n), fontsize=8, color="#8b0000", zorder=7,
                        xytext=(4, -4), textcoords="offset points")


def _draw_origin(ax: Axes, d: DroneSummary) -> FloatArray:
    o = d.origin
    assert o is not None
    ax.plot(o.path_enu_m[:, 0], o.path_enu_m[:, 1], ls=":", color=OTHER, lw=1.2, zorder=3)
    a, b, azimuth = o.ellipse_m()
    ax.add_patch(Ellipse((float(o.enu_m[0]), float(o.enu_m[1])), 2 * a, 2 * b,
                         angle=90.0 - azimuth, facecolor="purple", alpha=0.12,
                         edgecolor="purple", zorder=3))
    ax.plot([o.enu_m[0]], [o.enu_m[1]], marker="x", color="purple", zorder=6)
    pad = np.array([[o.enu_m[0] - a, o.enu_m[1] - a], [o.enu_m[0] + a, o.enu_m[1] + a]])
    out: FloatArray = np.vstack([o.path_enu_m[:, :2], pad])
    return out


def _fit(fig: Figure, ax: Axes, xy: FloatArray) -> None:
    """Limits around ``xy``, and a figure height that suits their aspect."""
    lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
    pad = np.maximum(0.05 * (hi - lo), 50.0)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    width, height = hi - lo + 2 * pad
    fig.set_size_inches(10.0, float(np.clip(9.0 * height / width + 1.0, 4.0, 12.0)))


# ------------------------------------------------------------- alert timeline
def alerts_png(data: PeriodData) -> bytes:
    """One bar per alert from its start to its end (or the period's end, hatched,
    while still active), coloured by severity, labelled with its id and kind."""
    shown = data.alerts[:MAX_ALERT_BARS]
    fig = Figure(figsize=(10, 1.5 + 0.28 * max(len(shown), 1)), layout="constrained")
    ax = fig.add_subplot()
    for y, a in enumerate(shown):
        t0 = max(float(a["t_start"]), data.t_from_s)
        ended = a.get("t_end") is not None
        t1 = min(float(a["t_end"]), data.t_to_s) if ended else data.t_to_s
        colour = SEVERITY_COLOURS.get(str(a.get("severity")), OTHER)
        ax.barh(y, max(t1 - t0, 0.3), left=t0, height=0.7, color=colour,
                hatch=None if ended else "//", edgecolor="black", linewidth=0.3)
        who = _alert_subject(a)
        ax.annotate(f"{a['alert_id']} {a.get('kind')} {who}", (t0, y), fontsize=7,
                    xytext=(2, 0), textcoords="offset points", va="center")
    if not shown:
        ax.text(0.5, 0.5, "no alerts in this period", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlim(data.t_from_s, data.t_to_s + 1e-6)
    ax.set_ylim(len(shown) - 0.5 if shown else 0.5, -0.5)
    ax.set_yticks([])
    ax.set_xlabel("scenario time t (s)")
    ax.grid(axis="x", alpha=0.3)
    extra = f" (first {MAX_ALERT_BARS} of {len(data.alerts)})" if len(data.alerts) > len(
        shown) else ""
    ax.set_title(f"alerts{extra}: bar from start to end, hatched while still active")
    ax.legend(handles=[Patch(color=c, label=k) for k, c in SEVERITY_COLOURS.items()],
              loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8)
    return to_png(fig)


def _alert_subject(a: dict[str, object]) -> str:
    if a.get("swarm_id") is not None:
        return f"swarm {a['swarm_id']}"
    ids = a.get("track_ids") or []
    if isinstance(ids, list) and ids:
        return "track " + ",".join(str(i) for i in ids[:4]) + ("…" if len(ids) > 4 else "")
    return f"sensor {a['sensor']}" if a.get("sensor") else ""


# ------------------------------------------------------------------ approaches
def approach_png(data: PeriodData, drones: Sequence[DroneSummary]) -> bytes:
    """Each drone's horizontal range from the site origin against time, with its
    zone entries marked."""
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.add_subplot()
    s = data.states
    for d in drones:
        rows = s.rows_of(d.track_id)
        rng_km = np.hypot(s.enu_m[rows, 0], s.enu_m[rows, 1]) / 1000.0
        (line,) = ax.plot(s.t_s[rows], rng_km, lw=1.2, label=f"track {d.track_id}")
        for z in d.zones:
            if z.entered_t_s is not None:
                k = int(np.searchsorted(s.t_s[rows], z.entered_t_s))
                ax.plot([z.entered_t_s], [rng_km[k]], marker="o", color=line.get_color(),
                        mec="black", ms=5)
    if not drones:
        ax.text(0.5, 0.5, "no drone tracks in this period", ha="center", va="center",
                transform=ax.transAxes)
    elif len(drones) <= 12:
        ax.legend(fontsize=7, ncol=2)
    ax.set_xlim(data.t_from_s, data.t_to_s + 1e-6)
    ax.set_xlabel("scenario time t (s)")
    ax.set_ylabel("range from site origin (km)")
    ax.set_title("drone approach (dots: zone entered)")
    ax.grid(alpha=0.3)
    return to_png(fig)


# -------------------------------------------------------------------- health
def health_png(data: PeriodData) -> bytes:
    """Per sensor: reports counted vs expected per tick; silent periods shaded red,
    low-rate periods amber."""
    by_sensor: dict[str, list[dict[str, object]]] = defaultdict(list)
    for h in data.health:
        by_sensor[str(h.get("sensor"))].append(h)
    names = sorted(by_sensor)
    fig = Figure(figsize=(10, 1.0 + 1.3 * max(len(names), 1)), layout="constrained")
    axes = fig.subplots(max(len(names), 1), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=False):
        rows = by_sensor[name]
        t = np.array([float(r["t"]) for r in rows])  # type: ignore[arg-type]
        recent = np.array([float(r.get("recent_count") or 0) for r in rows])  # type: ignore[arg-type]
        expected = np.array([float(r.get("expected_count") or 0)  # type: ignore[arg-type]
                             for r in rows])
        for key, colour in (("silent", "#d62728"), ("low_rate", "#ff7f0e")):
            mask = np.array([bool(r.get(key)) for r in rows])
            if np.any(mask):
                ax.fill_between(t, 0, 1, where=mask, step="mid", color=colour, alpha=0.25,
                                transform=ax.get_xaxis_transform(), label=key)
        ax.step(t, recent, where="mid", lw=1.0, color="black", label="recent")
        ax.step(t, expected, where="mid", lw=1.0, ls="--", color="#1f77b4", label="expected")
        ax.set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if not names:
        axes[0].text(0.5, 0.5, "no sensor health stored in this period", ha="center",
                     va="center", transform=axes[0].transAxes)
    axes[0].legend(handles=[Line2D([], [], color="black", label="reports (recent)"),
                            Line2D([], [], color="#1f77b4", ls="--", label="expected"),
                            Patch(color="#d62728", alpha=0.25, label="silent"),
                            Patch(color="#ff7f0e", alpha=0.25, label="low rate")],
                   fontsize=7, ncol=4, loc="upper right")
    axes[-1].set_xlim(data.t_from_s, data.t_to_s + 1e-6)
    axes[-1].set_xlabel("scenario time t (s)")
    fig.suptitle("sensor health: reports counted vs expected")
    return to_png(fig)
