"""Incident reports and exports from the event store (docs/reports.md).

- :func:`build_report`: one self-contained HTML page for a period — map, alert
  timeline, per-drone summaries with estimated origins, sensor health;
- :func:`skyfence.report.export.export`: track states or alerts as CSV or GeoJSON.

Modules: :mod:`~skyfence.report.data` (reading the store),
:mod:`~skyfence.report.geometry`, :mod:`~skyfence.report.origin`
(back-extrapolation), :mod:`~skyfence.report.summary` (per drone),
:mod:`~skyfence.report.plots` (matplotlib, Agg), :mod:`~skyfence.report.html`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from skyfence.errors import UserError
from skyfence.report.data import PeriodData, load_period, open_existing, resolve_period, site_for
from skyfence.report.summary import DroneSummary, summarise_drones

__all__ = ["DroneSummary", "PeriodData", "build_report", "load_period", "open_existing",
           "render_report", "resolve_period", "site_for", "summarise_drones"]


def render_report(data: PeriodData, fit_window_s: float = 10.0, back_s: float = 60.0,
                  generated_at: datetime | None = None) -> str:
    """The report's HTML for the period in ``data``."""
    from skyfence.report import plots
    from skyfence.report.html import Figures, render_html

    drones = summarise_drones(data, fit_window_s, back_s)
    figures = Figures(map_png=plots.map_png(data, drones), alerts_png=plots.alerts_png(data),
                      approach_png=plots.approach_png(data, drones),
                      health_png=plots.health_png(data))
    return render_html(data, drones, figures, generated_at)


def build_report(data: PeriodData, out: Path, fit_window_s: float = 10.0,
                 back_s: float = 60.0) -> dict[str, object]:
    """Write the report to ``out``; a short summary of what it holds."""
    text = render_report(data, fit_window_s, back_s)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{out}: cannot write: {exc}") from None
    return {"out": str(out), "t_from_s": data.t_from_s, "t_to_s": data.t_to_s,
            "ticks": len(data.tick_t_s), "tracks": len(data.states.ids()),
            "drones": len(data.states.drone_ids()), "alerts": len(data.alerts),
            "bytes": len(text.encode("utf-8"))}
