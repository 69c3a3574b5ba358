r"""Cooperative trust: is a broadcast (ADS-B, Remote ID) contradicted by the sensors?

A cooperative track carries an identity and a position its target broadcasts.
Two contradictions make its broadcast *suspect*:

**Nothing there.** The sensors that should see a target where the broadcast
says it is see nothing. Over a track's last ``n`` radar opportunities (scans
of a radar that covers it; the bank's M-of-N history) the radar associated
``k`` plots. A real target there is detected with probability at least
``p = detect_fraction · P_D`` per scan (``P_D`` the radar's nominal
detection probability; the fraction allows for a small target), so

.. math::

    P(K \le k \mid n, p) = \sum_{i \le k} \binom{n}{i} p^i (1-p)^{n-i} \le \alpha

is evidence that nothing is there. Only tracks the radar should see well are
judged: inside ``judge_range_fraction`` of its maximum range (beyond, a small
drone may simply be too faint).

**Jumped out of its gate.** The tracker matches a broadcast to its track by
identity; when the reported position lies outside the track's gate it
restarts the track on the broadcast (tracker.py, ``reinit``) and records the
time. A broadcast whose position jumped further than any motion the track
allowed is suspect for ``jump_memory_s`` seconds after the jump.

Defaults: ``α`` = 1e-3, ``detect_fraction`` 0.75, at most the last 12
opportunities; with ``P_D`` = 0.9 a broadcast with no plot in 7 radar scans
is flagged (0.325⁷ = 3.9e-4), with ``P_D`` = 0.6 in 11 (0.55¹¹ = 1.4e-3 is
not enough; 12: 7.7e-4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import binom

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class TrustParams:
    alpha: float = 1e-3
    """Significance of 'nothing there' (the chance a real target misses so often)."""
    detect_fraction: float = 0.75
    """p = detect_fraction · P_D: the per-scan detection probability a real target
    there has at least."""
    window: int = 12
    """At most this many latest radar opportunities are judged."""
    min_opportunities: int = 5
    """Fewer opportunities than this: not judged yet."""
    judge_range_fraction: float = 0.6
    """Only tracks within this fraction of a covering radar's maximum range are judged."""
    jump_memory_s: float = 60.0
    """A broadcast that jumped out of its gate stays suspect this long (s)."""


@dataclass(frozen=True, slots=True)
class Trust:
    """Per cooperative track: suspect, and why (empty string when not)."""

    suspect: BoolArray  # (N,)
    nothing_there: BoolArray  # (N,)
    jumped: BoolArray  # (N,)
    p_value: FloatArray  # (N,) P(K ≤ k | n, p); 1 where not judged

    def reason(self, i: int) -> str:
        parts = []
        if self.jumped[i]:
            parts.append("its broadcast position jumped outside the track's gate")
        if self.nothing_there[i]:
            parts.append(f"the radar sees nothing where it broadcasts "
                         f"(chance {self.p_value[i]:.1e} for a real target)")
        return "; ".join(parts)


def assess_trust(t_s: float, cooperative: BoolArray, hits: IntArray, opportunities: IntArray,
                 p_detect: FloatArray, t_jump_s: FloatArray,
                 params: TrustParams | None = None) -> Trust:
    """Trust of N tracks.

    ``cooperative`` (N,): the track carries a broadcast identity; ``hits``,
    ``opportunities`` (N,): radar plots associated over the latest radar
    opportunities (at most ``window``); ``p_detect`` (N,): the covering
    radar's nominal P_D where the track is judged (0: not judged);
    ``t_jump_s`` (N,): time of the last out-of-gate jump of its broadcast
    (NaN: never).
    """
    p = params or TrustParams()
    judged = cooperative & (opportunities >= p.min_opportunities) & (p_detect > 0)
    pval = np.ones(cooperative.shape[0])
    if judged.any():
        pval[judged] = binom.cdf(hits[judged], opportunities[judged],
                                 p.detect_fraction * p_detect[judged])
    nothing = judged & (pval <= p.alpha)
    with np.errstate(invalid="ignore"):
        jumped = cooperative & (t_s - t_jump_s <= p.jump_memory_s)
    return Trust(nothing | jumped, nothing, jumped, pval)
