"""skyfence: open counter-drone airspace awareness."""

__version__ = "0.1.0"
