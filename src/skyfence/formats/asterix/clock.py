"""Absolute UTC from ASTERIX time of day, across midnight.

ASTERIX stamps records with the time of day (seconds since UTC midnight, reset to 0
at midnight) and no date. :class:`DayClock` places each time of day on the UTC line:

* with a receiver time ``rx_utc_s`` (pcap timestamp, live receive time): the midnight
  + time of day nearest to the receiver time — right as long as the receiver clock is
  within 12 h of the radar's, and a 23:59:59.9 plot received at 00:00:00.1 stays on
  the day before;
* without one (raw block files): the candidate (yesterday, today, tomorrow) nearest to
  the previous record's time, so a time of day that drops from 86399 s to 0 s moves to
  the next day, and a late record from just before midnight stays on the earlier day;
* the very first record without a receiver time is placed on the day starting at
  ``first_day_utc_s`` (default 0: "day 0", for files whose date is unknown).
"""

from __future__ import annotations

from skyfence.formats.asterix.fields import SECONDS_PER_DAY
from skyfence.formats.timebase import nearest_occurrence


class DayClock:
    """Resolves time of day to UTC seconds; remembers the last resolved time."""

    __slots__ = ("first_day_utc_s", "last_utc_s")

    def __init__(self, first_day_utc_s: float = 0.0) -> None:
        self.first_day_utc_s = first_day_utc_s
        self.last_utc_s: float | None = None

    def resolve(self, time_of_day_s: float, rx_utc_s: float | None = None) -> float:
        """UTC seconds of a time of day, near ``rx_utc_s`` or the previous record."""
        reference = rx_utc_s if rx_utc_s is not None else self.last_utc_s
        if reference is None:
            utc_s = self.first_day_utc_s + time_of_day_s
        else:
            utc_s = nearest_utc_s(time_of_day_s, reference)
        self.last_utc_s = utc_s
        return utc_s


def nearest_utc_s(time_of_day_s: float, reference_utc_s: float) -> float:
    """The UTC time with this time of day that lies nearest ``reference_utc_s``."""
    return nearest_occurrence(time_of_day_s, SECONDS_PER_DAY, reference_utc_s)
