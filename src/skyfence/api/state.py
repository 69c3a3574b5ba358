"""What the API's handlers share: the site, the hub, tokens, history, config, counters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from skyfence.api.models import ApiConfig
from skyfence.api.tokens import Tokens
from skyfence.live.hub import Hub
from skyfence.scenario.model import Scenario


class HistorySource(Protocol):
    """The recorded past (the event store). Times are scenario seconds; a bound
    may be ``-inf``/``inf`` when the request left it open. Records are shaped as
    the hub's (tracks.jsonl lines, alerts.jsonl records)."""

    def track_history(self, track_id: int, t_from: float, t_to: float) -> list[dict[str, Any]]:
        """Every recorded line of ``track_id`` with ``t_from <= t <= t_to``, by time."""
        ...

    def alerts(self, t_from: float, t_to: float) -> list[dict[str, Any]]:
        """Every alert whose span ``[t_start, t_end]`` meets ``[t_from, t_to]``."""
        ...

    def tracks_at(self, t: float) -> list[dict[str, Any]]:
        """The confirmed tracks as recorded at the last tick at or before ``t``."""
        ...


@dataclass
class ApiState:
    site: Scenario
    hub: Hub
    tokens: Tokens
    history: HistorySource | None = None
    config: ApiConfig = field(default_factory=ApiConfig)
    on_config: Callable[[ApiConfig], None] | None = None
    rejected: int = 0
