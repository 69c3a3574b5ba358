r"""Classification confusion over track time, against the truth kind of the matched target.

At every tick, every truth point matched to a track in the identity
correspondence (CLEAR MOT, kept from tick to tick while valid; see
:mod:`skyfence.evaluate.identity`) adds one tick of track time to the cell
(truth ``kind`` of the target, ``class`` of the track line). Tracks matched to
nothing (false tracks) and truths matched to nothing are not counted. A tick
weighs the truth period :math:`T` (the median spacing of the ticks; 1 s with
fewer than two ticks), so cells are in track-seconds:

.. math::

    M_{k,c} = T \cdot \#\{(g, i) : \text{truth } i \text{ matched at tick } g,\;
              \text{kind}(i) = k,\; \text{class of its track at } g = c\}

Rows are ``drone``, ``bird``, ``aircraft`` (then any other truth kind, in
order of appearance); columns ``drone``, ``bird``, ``aircraft``, ``unknown``
(then any other class string; a ``class`` null or absent counts as
``unknown``). The same matrix restricted to track lines at least
``MIN_AGE_S`` = 10 s after the track's first line in tracks.jsonl
(:math:`t - t_\text{first}(\text{track}) \ge 10` s) shows the classifier once
it has had time to decide.

Rates, per truth kind :math:`k`: :math:`M_{k,\text{drone}} / \sum_c M_{k,c}`
(``drone_as_drone`` is the share of drone track time called drone,
``bird_as_drone`` the share of bird track time called drone); null when the
row is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

KINDS = ("drone", "bird", "aircraft")
CLASSES = (*KINDS, "unknown")
MIN_AGE_S = 10.0


@dataclass(frozen=True)
class Confusion:
    rows: list[str]
    columns: list[str]
    track_s: FloatArray  # (rows, columns)

    def table(self) -> dict[str, dict[str, float]]:
        return {k: dict(zip(self.columns, self.track_s[i].tolist(), strict=True))
                for i, k in enumerate(self.rows)}

    def rates(self) -> dict[str, float | None]:
        """Share of each truth kind's track time classified drone."""
        total = self.track_s.sum(axis=1)
        drone = self.track_s[:, self.columns.index("drone")]
        return {f"{k}_as_drone": (float(drone[i] / total[i]) if total[i] > 0 else None)
                for i, k in enumerate(self.rows)}


def tick_period_s(tick_t_s: FloatArray) -> float:
    """The median spacing of the ticks; 1 s with fewer than two."""
    return float(np.median(np.diff(tick_t_s))) if len(tick_t_s) >= 2 else 1.0


def track_age_s(t_s: FloatArray, track: IntArray, n_tracks: int) -> FloatArray:
    """Per track line: seconds since its track's first line."""
    first = np.full(n_tracks, np.inf)
    np.minimum.at(first, track, t_s)
    age: FloatArray = t_s - first[track]
    return age


def confusion(
    kind_names: list[str],
    truth_kind: IntArray,
    class_names: list[str],
    track_class: IntArray,
    period_s: float,
) -> Confusion:
    """Confusion matrix from matched pairs: indices into ``kind_names`` and ``class_names``."""
    rows = [*KINDS, *(k for k in dict.fromkeys(kind_names) if k not in KINDS)]
    columns = [*CLASSES, *(c for c in dict.fromkeys(class_names) if c not in CLASSES)]
    row_of = np.array([rows.index(k) for k in kind_names], dtype=np.int64)
    col_of = np.array([columns.index(c) for c in class_names], dtype=np.int64)
    counts = np.zeros((len(rows), len(columns)))
    if len(truth_kind):
        np.add.at(counts, (row_of[truth_kind], col_of[track_class]), 1.0)
    return Confusion(rows, columns, counts * period_s)


def classification_section(
    kind_names: list[str],
    pair_kind: IntArray,
    class_names: list[str],
    pair_class: IntArray,
    pair_age_s: FloatArray,
    tick_t_s: FloatArray,
) -> dict[str, Any]:
    """The ``classification`` report section from the matched pairs of every tick."""
    period = tick_period_s(tick_t_s)
    every = confusion(kind_names, pair_kind, class_names, pair_class, period)
    aged = pair_age_s >= MIN_AGE_S
    old = confusion(kind_names, pair_kind[aged], class_names, pair_class[aged], period)
    return {
        "period_s": period,
        "min_age_s": MIN_AGE_S,
        "rows": every.rows,
        "columns": every.columns,
        "track_s": every.table(),
        "track_s_aged": old.table(),
        "rates": every.rates(),
        "rates_aged": old.rates(),
    }
