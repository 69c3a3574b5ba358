"""Situation assessment: zones, swarms, threat ranking and alerts."""
