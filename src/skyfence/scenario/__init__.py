"""Scenario / site files: the typed model and its loader."""

from skyfence.scenario.load import bundled_names, load_scenario, resolve
from skyfence.scenario.model import KINDS, SENSOR_TYPES, Scenario

__all__ = ["KINDS", "SENSOR_TYPES", "Scenario", "bundled_names", "load_scenario", "resolve"]
