"""The live system: engine service, picture hub (no I/O in hub.py)."""
