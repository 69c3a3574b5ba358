"""The track bank: every track as rows of arrays (structure of arrays).

One row per track, all arrays index-aligned. The engine keeps every track
predicted to the latest scan time (:attr:`TrackBank.t_s`), so predict, gate
and update run over all rows at once. Rows are appended by the initiator and
dropped by the deleter.

**Bounded memory.** A track's only history is its *trail*, a ring buffer of
fixed length K (:attr:`TrackerParams.history_length`) per track: the times
and states of its last K updates (:meth:`TrackBank.record_trail`, called once
per scan for the tracks that scan updated or started, after the ground
constraint), read oldest first by :meth:`TrackBank.trail` or, for all tracks
at once, :meth:`TrackBank.trails`. Row ``i``'s K slots are written in turn::

    slot = trail_head[i]                    the next write; the oldest entry once full
    trail_t_s[i, slot], trail_x[i, slot] = t, x[i]
    trail_head[i] = (slot + 1) mod K        trail_len[i] = min(trail_len[i] + 1, K)

so the entries in time order are slots ``(trail_head − trail_len + j) mod K``
for ``j = 0 … trail_len − 1``. A slot never written holds NaN (time and
state). Two updates at the same instant (two sensors reporting at once) keep
one entry, the later state. So the bank takes ``N × (a fixed row size)``
bytes whatever the length of the run; everything older is the store's job.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from skyfence.tracker import evidence
from skyfence.tracker.base import (
    STATE_DIM,
    BoolArray,
    FloatArray,
    IntArray,
    ObjectArray,
)

DEFAULT_HISTORY_LENGTH = 32
"""K of a bank made without one (TrackerParams.history_length's default)."""


@dataclass
class TrackBank:
    id: IntArray  # (N,) unique, increasing with birth
    x: FloatArray  # (N, 6) ENU position (m) and velocity (m/s)
    P: FloatArray  # (N, 6, 6) covariance of x
    t_init_s: FloatArray  # (N,) time of the first report
    t_update_s: FloatArray  # (N,) time of the last update
    hits: IntArray  # (N,) associated reports so far (all sensors)
    opportunities: IntArray  # (N,) scans of miss-counting sensors that covered the track
    history: IntArray  # (N,) bit i set: hit at the i-th latest opportunity (M-of-N)
    misses: IntArray  # (N,) consecutive missed opportunities
    score: FloatArray  # (N,) log-likelihood-ratio track score
    score_max: FloatArray  # (N,) the best score so far
    confirmed: BoolArray  # (N,)
    class_loglik: FloatArray  # (N, len(SOURCES), 4) class evidence ledger (evidence.py)
    t_kinematics_s: FloatArray  # (N,) time of the last kinematic evidence
    cooperative_id: ObjectArray  # (N,) ICAO address / UAS id (str) or None
    operator_enu_m: FloatArray  # (N, 3) Remote ID operator position (ENU m); NaN: none
    t_coop_jump_s: FloatArray  # (N,) last time its broadcast jumped out of its gate; NaN never
    passive_sensors: IntArray  # (N,) bit s: passive sensor s heard this track started by
    # triangulation (passive_initiator.py); 0 for a track that was not
    # IMM (imm.py), M modes; M = 0 with a single motion model. x, P above are
    # then the moment-matched combination of the modes.
    mode_prob: FloatArray  # (N, M) mode probabilities
    mode_x: FloatArray  # (N, M, 6) mode-conditioned means
    mode_P: FloatArray  # noqa: N815  (N, M, 6, 6) mode-conditioned covariances
    # the trail, a ring buffer of the last K updates per track (module doc)
    trail_t_s: FloatArray  # (N, K) time of each entry (s); NaN: slot never written
    trail_x: FloatArray  # (N, K, 6) state right after that update; NaN: never written
    trail_len: IntArray  # (N,) entries held, 0 … K
    trail_head: IntArray  # (N,) slot of the next entry (the oldest one once full)

    @classmethod
    def empty(cls, mode_prob: FloatArray | None = None,
              history_length: int = DEFAULT_HISTORY_LENGTH) -> TrackBank:
        return cls.new(np.zeros((0, 6)), np.zeros((0, 6, 6)), 0.0, np.zeros(0, dtype=np.int64),
                       mode_prob, history_length)

    @classmethod
    def new(cls, x: FloatArray, P: FloatArray, t_s: float, ids: IntArray,
            mode_prob: FloatArray | None = None,
            history_length: int = DEFAULT_HISTORY_LENGTH) -> TrackBank:
        """Fresh tentative tracks born at ``t_s`` with one hit. With ``mode_prob``
        (M,), the IMM's initial mode probabilities, every mode starts at (x, P).
        Their trails (``history_length`` slots) are empty until
        :meth:`record_trail`."""
        n = x.shape[0]
        k = int(history_length)
        if k < 0:
            raise ValueError("history_length must be >= 0")
        mu = np.zeros(0) if mode_prob is None else np.asarray(mode_prob, dtype=np.float64)
        m = mu.shape[0]
        return cls(
            id=np.asarray(ids, dtype=np.int64),
            x=np.asarray(x, dtype=np.float64),
            P=np.asarray(P, dtype=np.float64),
            t_init_s=np.full(n, t_s),
            t_update_s=np.full(n, t_s),
            hits=np.ones(n, dtype=np.int64),
            opportunities=np.zeros(n, dtype=np.int64),
            history=np.zeros(n, dtype=np.int64),
            misses=np.zeros(n, dtype=np.int64),
            score=np.zeros(n),
            score_max=np.zeros(n),
            confirmed=np.zeros(n, dtype=np.bool_),
            class_loglik=evidence.empty_ledger(n),
            t_kinematics_s=np.full(n, t_s),
            cooperative_id=np.full(n, None, dtype=object),
            operator_enu_m=np.full((n, 3), np.nan),
            t_coop_jump_s=np.full(n, np.nan),
            passive_sensors=np.zeros(n, dtype=np.int64),
            mode_prob=np.broadcast_to(mu, (n, m)).copy(),
            mode_x=np.repeat(np.asarray(x, dtype=np.float64)[:, None], m, axis=1),
            mode_P=np.repeat(np.asarray(P, dtype=np.float64)[:, None], m, axis=1),
            trail_t_s=np.full((n, k), np.nan),
            trail_x=np.full((n, k, STATE_DIM), np.nan),
            trail_len=np.zeros(n, dtype=np.int64),
            trail_head=np.zeros(n, dtype=np.int64),
        )

    def __len__(self) -> int:
        return int(self.id.shape[0])

    def extend(self, other: TrackBank) -> None:
        """Append ``other``'s rows."""
        if len(other) == 0:
            return
        if other.mode_prob.shape[1] != self.mode_prob.shape[1]:
            raise ValueError(f"tracks with {other.mode_prob.shape[1]} IMM modes cannot join a "
                             f"bank with {self.mode_prob.shape[1]}: pass TrackBank.new the "
                             "tracker's mode_prob")
        if other.trail_t_s.shape[1] != self.trail_t_s.shape[1]:
            raise ValueError(f"tracks with a trail of {other.trail_t_s.shape[1]} cannot join a "
                             f"bank with {self.trail_t_s.shape[1]}: pass TrackBank.new the "
                             "tracker's history_length")
        for f in fields(self):
            setattr(self, f.name, np.concatenate((getattr(self, f.name), getattr(other, f.name))))

    def keep(self, mask: BoolArray) -> None:
        """Drop the rows where ``mask`` is False."""
        if mask.all():
            return
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name)[mask])

    def take(self, mask: BoolArray) -> TrackBank:
        """A new bank of the rows where ``mask`` is True (copies)."""
        return TrackBank(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    # ------------------------------------------------------------------ the trail
    @property
    def history_length(self) -> int:
        """K, the slots of every track's trail."""
        return int(self.trail_t_s.shape[1])

    def record_trail(self, rows: IntArray, t_s: float) -> None:
        """Append the current states of tracks ``rows`` (distinct) at ``t_s`` to their
        trails; a track whose newest entry is already at ``t_s`` has it replaced."""
        k = self.history_length
        rows = np.asarray(rows, dtype=np.int64)
        if k == 0 or rows.size == 0:
            return
        head = self.trail_head[rows]
        newest = (head - 1) % k
        same = (self.trail_len[rows] > 0) & (self.trail_t_s[rows, newest] == t_s)
        slot = np.where(same, newest, head)
        self.trail_t_s[rows, slot] = t_s
        self.trail_x[rows, slot] = self.x[rows]
        grown = rows[~same]
        self.trail_head[grown] = (self.trail_head[grown] + 1) % k
        self.trail_len[grown] = np.minimum(self.trail_len[grown] + 1, k)

    def trails(self) -> tuple[FloatArray, FloatArray]:
        """Every track's trail in time order: times (N, K) and states (N, K, 6), the
        oldest entry first, NaN after each track's ``trail_len`` entries."""
        n, k = len(self), self.history_length
        if k == 0:
            return np.zeros((n, 0)), np.zeros((n, 0, STATE_DIM))
        j = np.arange(k)
        slot = (self.trail_head[:, None] - self.trail_len[:, None] + j) % k
        held = j[None, :] < self.trail_len[:, None]
        t = np.where(held, np.take_along_axis(self.trail_t_s, slot, axis=1), np.nan)
        x = np.where(held[:, :, None],
                     np.take_along_axis(self.trail_x, slot[:, :, None], axis=1), np.nan)
        return np.asarray(t, dtype=np.float64), np.asarray(x, dtype=np.float64)

    def trail(self, row: int) -> tuple[FloatArray, FloatArray]:
        """Track row ``row``'s trail, oldest first: times (L,) and states (L, 6),
        L = ``trail_len[row]`` ≤ K (for a UI trail or swarm detection)."""
        k = self.history_length
        n = int(self.trail_len[row])
        slot = (int(self.trail_head[row]) - n + np.arange(n)) % max(k, 1)
        return self.trail_t_s[row, slot].copy(), self.trail_x[row, slot].copy()

    def has_identity(self) -> BoolArray:
        """(N,) True where a cooperative report named the track."""
        # identities are str or None: != None is "is not None" here, in one C loop
        return np.asarray(self.cooperative_id != None, dtype=np.bool_)  # noqa: E711

    def class_probabilities(self, params: evidence.EvidenceParams) -> FloatArray:
        """(N, 4): P(drone, bird, aircraft, unknown) from the evidence ledger
        (evidence.posterior)."""
        return evidence.posterior(self.class_loglik, params)
