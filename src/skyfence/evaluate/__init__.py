"""Scoring of tracks and alerts against simulated truth (``skyfence evaluate``).

:func:`evaluate` is the whole scorer; :mod:`~skyfence.evaluate.report` documents
every field of its result, :mod:`~skyfence.evaluate.gospa` the metric.
"""

from skyfence.evaluate.gospa import GospaParams, GospaResult, gospa_grouped
from skyfence.evaluate.report import evaluate

# (the one-tick function stays skyfence.evaluate.gospa.gospa: re-exporting it
# here would hide the module of the same name)
__all__ = ["GospaParams", "GospaResult", "evaluate", "gospa_grouped"]
