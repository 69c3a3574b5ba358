"""``skyfence replay``: placeholder until it is written."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Add this module's sub-commands to the ``skyfence`` parser."""
