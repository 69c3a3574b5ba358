r"""Sensor health: is a sensor silent, or reporting far fewer detections than usual?

Pure and array-based over M sensors. Once per tick the caller passes, per
sensor, the number of detections (measurement lines) it reported since the
previous tick; :meth:`SensorHealthMonitor.observe` answers a
:class:`SensorHealth` snapshot that :class:`skyfence.assess.alerts.AlertEngine`
turns into ``sensor_unhealthy`` alerts.

Only *monitored* sensors are judged: those expected to report all the time
(a radar with clutter, any sensor with ``clutter_per_scan > 0``). A
cooperative receiver or a clutter-free RF detector is quiet whenever nothing
it senses is in the air, so its silence says nothing about its health.

Silence
    :math:`t - t_\text{last report} > n_\text{silent} \cdot T` with ``T`` the
    sensor's period and :math:`n_\text{silent}` = ``silent_periods``
    (default 5). Time of the last report is known at tick resolution; before
    the first report it is the first tick.

Rate drop (a one-sided Poisson test)
    The long-run rate :math:`\bar r` (detections per second) is a running mean
    of each tick's ``count / dt``: weight :math:`w = dt / \min(\max(t - t_0, dt), \tau)`,
    :math:`\bar r \leftarrow \bar r + w\,(count/dt - \bar r)`, an exact
    cumulative mean for the first :math:`\tau` seconds (``baseline_tau_s``,
    600 s) and an exponential average with time constant :math:`\tau` after.
    It is frozen while the sensor is flagged, so a lasting fault does not
    become the new normal. Over the last ``window_s`` (30 s) the sensor
    reported :math:`k` detections where :math:`\lambda = \bar r \cdot W` were
    expected (:math:`W` the seconds of ticks in the window). Under "nothing
    changed", :math:`k \sim \text{Poisson}(\lambda)`, and the drop is flagged when

    .. math::

        P(K \le k \mid \lambda) \le \alpha \quad\text{and}\quad k \le \rho_\text{drop}\,\lambda

    (``alpha`` 1e-4, ``drop_ratio`` 0.5: significant AND large). It is tested
    only once ``warmup_s`` (60 s) have passed, the window holds at least
    half of ``window_s``, and :math:`\lambda \ge` ``min_expected`` (10). A
    flagged drop clears only when :math:`k \ge \rho_\text{recover}\,\lambda`
    (``recover_ratio`` 0.75): a looser threshold, so a rate near the limit does
    not flap. With 1 s ticks and one test per tick, a healthy sensor with
    :math:`\lambda = 10` is flagged about once in 10^4 ticks at most (in fact
    rarer: the ratio condition also has to hold).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy.special import pdtr

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SensorHealthParams:
    """Thresholds of the silence and rate-drop tests (see the module doc)."""

    silent_periods: float = 5.0
    window_s: float = 30.0
    baseline_tau_s: float = 600.0
    warmup_s: float = 60.0
    alpha: float = 1e-4
    drop_ratio: float = 0.5
    recover_ratio: float = 0.75
    min_expected: float = 10.0


@dataclass(frozen=True, slots=True)
class SensorHealth:
    """Health facts of every sensor at one tick (arrays are (M,), in ``sensor_id`` order)."""

    sensor_id: tuple[str, ...]
    silent: BoolArray  # silent for more than silent_periods periods
    low_rate: BoolArray  # rate-drop flag (with its recover hysteresis)
    silent_for_s: FloatArray  # seconds since the last report
    recent_count: IntArray  # detections in the window
    expected_count: FloatArray  # lambda: long-run rate x window seconds
    window_s: FloatArray  # seconds of ticks in the window
    # the sensor says it has failed (SAPIENT StatusReport error, ASTERIX CAT034 NOGO):
    # set by the caller from what the sensors report (with_reported_faults)
    reported_fault: BoolArray | None = None

    @property
    def unhealthy(self) -> BoolArray:
        bad: BoolArray = self.silent | self.low_rate
        if self.reported_fault is not None:
            bad = bad | self.reported_fault
        return bad

    def with_reported_faults(self, faulty: Collection[str]) -> SensorHealth:
        """These facts with ``reported_fault`` set for the sensors in ``faulty``."""
        flags = np.array([s in faulty for s in self.sensor_id], dtype=bool)
        return replace(self, reported_fault=flags)

    @staticmethod
    def healthy(sensor_id: Sequence[str]) -> SensorHealth:
        """All sensors fine (for callers without a monitor)."""
        m = len(sensor_id)
        no = np.zeros(m, dtype=bool)
        return SensorHealth(tuple(sensor_id), no, no.copy(), np.zeros(m), np.zeros(m, np.int64),
                            np.zeros(m), np.zeros(m))


class SensorHealthMonitor:
    """Running silence and rate-drop tests over M sensors; one :meth:`observe` per tick."""

    def __init__(
        self,
        sensor_id: Sequence[str],
        period_s: npt.ArrayLike,
        monitored: npt.ArrayLike | None = None,
        params: SensorHealthParams | None = None,
    ) -> None:
        self.sensor_id = tuple(sensor_id)
        m = len(self.sensor_id)
        self.period_s = np.broadcast_to(np.asarray(period_s, dtype=np.float64), (m,)).copy()
        self.monitored: BoolArray = (
            np.ones(m, dtype=bool) if monitored is None
            else np.broadcast_to(np.asarray(monitored, dtype=bool), (m,)).copy()
        )
        self.params = params or SensorHealthParams()
        self._t0_s: float | None = None
        self._t_prev_s = -np.inf
        self._last_report_s = np.zeros(m)
        self._rate = np.zeros(m)  # long-run detections per second
        self._window: deque[tuple[float, float, IntArray]] = deque()  # (t, dt, counts)
        self._window_sum = np.zeros(m, dtype=np.int64)
        self._window_dt = 0.0
        self._low = np.zeros(m, dtype=bool)

    def observe(self, t_s: float, counts: npt.ArrayLike) -> SensorHealth:
        """Take each sensor's detections since the previous tick; answer the health at ``t_s``.

        The first call only starts the clocks (its counts cover an unknown
        interval and are not used for rates).
        """
        k = np.asarray(counts, dtype=np.int64).reshape(len(self.sensor_id))
        p = self.params
        if self._t0_s is None:
            self._t0_s = self._t_prev_s = t_s
            self._last_report_s[:] = t_s
            return self._snapshot(t_s, np.zeros(len(k)))
        dt = t_s - self._t_prev_s
        if dt <= 0:
            raise ValueError(f"sensor health ticks must move forward: {t_s} after {self._t_prev_s}")
        self._t_prev_s = t_s
        self._last_report_s[k > 0] = t_s
        self._push(t_s, dt, k)
        silent = self.monitored & (t_s - self._last_report_s > p.silent_periods * self.period_s)
        expected = self._rate * self._window_dt
        elapsed = t_s - self._t0_s
        testable = (
            self.monitored & (elapsed >= p.warmup_s) & (expected >= p.min_expected)
            & (self._window_dt >= 0.5 * p.window_s)
        )
        recent = self._window_sum
        drop = testable & (pdtr(recent, expected) <= p.alpha) & (recent <= p.drop_ratio * expected)
        still = testable & (recent < p.recover_ratio * expected)
        self._low = np.where(self._low, still, drop)
        # the long-run rate learns only from healthy ticks
        learn = ~(silent | self._low)
        w = dt / min(max(elapsed, dt), p.baseline_tau_s)
        self._rate[learn] += w * (k[learn] / dt - self._rate[learn])
        return self._snapshot(t_s, expected)

    def _push(self, t_s: float, dt: float, k: IntArray) -> None:
        self._window.append((t_s, dt, k))
        self._window_sum += k
        self._window_dt += dt
        while self._window and self._window[0][0] <= t_s - self.params.window_s:
            _, old_dt, old = self._window.popleft()
            self._window_sum -= old
            self._window_dt -= old_dt

    def _snapshot(self, t_s: float, expected: FloatArray) -> SensorHealth:
        silent_for = t_s - self._last_report_s
        silent = self.monitored & (silent_for > self.params.silent_periods * self.period_s)
        return SensorHealth(
            sensor_id=self.sensor_id,
            silent=silent,
            low_rate=self._low.copy(),
            silent_for_s=silent_for,
            recent_count=self._window_sum.copy(),
            expected_count=np.asarray(expected, dtype=np.float64),
            window_s=np.full(len(self.sensor_id), self._window_dt),
        )
