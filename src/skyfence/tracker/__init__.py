"""The tracking engine: an array program over all tracks (imports no I/O).

Parts, named by their role (Stone Soup's vocabulary): :mod:`.motion`
(predictor), :mod:`.measurement` (measurement models), :mod:`.updater`,
:mod:`.gating` (hypothesiser/gater), :mod:`.association` (data associator:
GNN), :mod:`.ambiguity` (the margin test for bearing pairs) and :mod:`.jpda`
(JPDA marginals and the PDA update),
:mod:`.initiator` (and :mod:`.passive_initiator` over :mod:`.triangulation`:
tracks from crossing bearings), :mod:`.manager` (confirmation and deleter), held together
by :class:`Tracker`. Tracks live in a :class:`TrackBank` (structure of
arrays); a scan is a :class:`Detections` batch.
"""

from skyfence.tracker.bank import TrackBank
from skyfence.tracker.base import CLASSES, Detections
from skyfence.tracker.params import TrackerParams
from skyfence.tracker.sensors import SensorSpec, sensor_specs
from skyfence.tracker.tracker import StepResult, Tracker

__all__ = [
    "CLASSES",
    "Detections",
    "SensorSpec",
    "StepResult",
    "TrackBank",
    "Tracker",
    "TrackerParams",
    "sensor_specs",
]
