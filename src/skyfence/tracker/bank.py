"""The track bank: every track as rows of arrays (structure of arrays).

One row per track, all arrays index-aligned. The engine keeps every track
predicted to the latest scan time (:attr:`TrackBank.t_s`), so predict, gate
and update run over all rows at once. Rows are appended by the initiator and
dropped by the deleter; nothing keeps history (that is the store's job).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from skyfence.tracker.base import CLASSES, BoolArray, FloatArray, IntArray, ObjectArray


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
    class_evidence: FloatArray  # (N, len(CLASSES)) evidence counts per class
    cooperative_id: ObjectArray  # (N,) ICAO address / UAS id (str) or None
    passive_sensors: IntArray  # (N,) bit s: passive sensor s heard this track started by
    # triangulation (passive_initiator.py); 0 for a track that was not
    # IMM (imm.py), M modes; M = 0 with a single motion model. x, P above are
    # then the moment-matched combination of the modes.
    mode_prob: FloatArray  # (N, M) mode probabilities
    mode_x: FloatArray  # (N, M, 6) mode-conditioned means
    mode_P: FloatArray  # noqa: N815  (N, M, 6, 6) mode-conditioned covariances

    @classmethod
    def empty(cls, mode_prob: FloatArray | None = None) -> TrackBank:
        return cls.new(np.zeros((0, 6)), np.zeros((0, 6, 6)), 0.0, np.zeros(0, dtype=np.int64),
                       mode_prob)

    @classmethod
    def new(cls, x: FloatArray, P: FloatArray, t_s: float, ids: IntArray,
            mode_prob: FloatArray | None = None) -> TrackBank:
        """Fresh tentative tracks born at ``t_s`` with one hit. With ``mode_prob``
        (M,), the IMM's initial mode probabilities, every mode starts at (x, P)."""
        n = x.shape[0]
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
            class_evidence=np.zeros((n, len(CLASSES))),
            cooperative_id=np.full(n, None, dtype=object),
            passive_sensors=np.zeros(n, dtype=np.int64),
            mode_prob=np.broadcast_to(mu, (n, m)).copy(),
            mode_x=np.repeat(np.asarray(x, dtype=np.float64)[:, None], m, axis=1),
            mode_P=np.repeat(np.asarray(P, dtype=np.float64)[:, None], m, axis=1),
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

    def has_identity(self) -> BoolArray:
        """(N,) True where a cooperative report named the track."""
        ids = self.cooperative_id
        return np.fromiter((c is not None for c in ids), dtype=np.bool_, count=len(ids))

    def class_probabilities(self, unknown_prior: float) -> FloatArray:
        """(N, 4): P(drone, bird, aircraft, unknown) from the evidence counts.

        ``p_k = n_k / (Σn + u)`` and ``p_unknown = u / (Σn + u)`` with ``u`` the
        pseudo-count of 'unknown': with no evidence a track is unknown.
        """
        counts = np.concatenate(
            (self.class_evidence, np.full((len(self), 1), unknown_prior)), axis=1
        )
        return np.asarray(counts / counts.sum(axis=1, keepdims=True), dtype=np.float64)
