"""Periodic timestamps (time of day, seconds since the hour) placed on the UTC line.

Wire formats often stamp a message with a value that repeats every period and no
date: ASTERIX the time of day (period one day), ASTM F3411 Remote ID the tenths of
seconds since the hour (period one hour). :func:`nearest_occurrence` resolves such a
value to the occurrence nearest a reference UTC time (a receive time, the previous
record's time): right while the two clocks are within half a period of each other.
"""

from __future__ import annotations

import math


def nearest_occurrence(value_s: float, period_s: float, reference_utc_s: float) -> float:
    """The UTC time that is ``value_s`` into a period of ``period_s`` (periods starting at
    multiples of ``period_s`` since the epoch) and lies nearest ``reference_utc_s``."""
    utc_s = math.floor(reference_utc_s / period_s) * period_s + value_s
    if utc_s - reference_utc_s > period_s / 2:
        utc_s -= period_s
    elif reference_utc_s - utc_s > period_s / 2:
        utc_s += period_s
    return utc_s
