"""The admin's configuration (``PUT /api/config``) applied to a running assessor.

The API's ``ApiConfig`` (api/models.py) holds the alert and threat
parameters an admin may change; :func:`assess_params` turns its JSON form
into :class:`~skyfence.assess.engine.AssessParams` over the ones in force
(refusing, with ``ValueError``, what the assessment would refuse, e.g. threat
weights that do not sum to 1), and :meth:`LiveEngine.configure` puts them into
its :class:`~skyfence.assess.engine.Assessor` between two ticks
(:meth:`~skyfence.assess.engine.Assessor.reconfigure`, under the engine's
lock). Alerts already active stay active; the new thresholds and debounce
counts judge them from the next tick on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, Protocol

from skyfence.assess.engine import AssessParams

if TYPE_CHECKING:
    from skyfence.live.engine import LiveEngine


class ConfigModel(Protocol):
    """The API's ``ApiConfig`` as this module sees it (a pydantic model)."""

    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...

    def model_dump_json(self) -> str: ...


class MetaStore(Protocol):
    def set_meta(self, key: str, value: str) -> None: ...


def assess_params(config: Mapping[str, Any], base: AssessParams) -> AssessParams:
    """``base`` with the ``alerts`` and ``threat`` fields of ``config`` (an ApiConfig
    as JSON) replaced; ValueError if the result is not valid."""
    alerts = dict(config.get("alerts") or {})
    threat = dict(config.get("threat") or {})
    for name, values, target in (("alerts", alerts, base.alerts),
                                 ("threat", threat, base.threat)):
        known = {f.name for f in fields(target)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{name}: unknown parameters {', '.join(unknown)}")
    if "swarm_min_count" in alerts:  # the hold count may not exceed the start count
        alerts.setdefault("swarm_hold_count",
                          min(base.alerts.swarm_hold_count, int(alerts["swarm_min_count"])))
    try:
        return replace(base, alerts=replace(base.alerts, **alerts),
                       threat=replace(base.threat, **threat))
    except TypeError as exc:
        raise ValueError(str(exc)) from exc



def config_handler(engine: LiveEngine, store: MetaStore | None,
                   say: Callable[[str], None] | None = None) -> Callable[[ConfigModel], None]:
    """The API's ``on_config`` for a running engine: apply the config (from the next
    tick), keep it in the store's meta (``config_json``, applied again by a
    restarted engine) and say so (stderr by default). ValueError: refused, nothing
    changed."""

    def on_config(config: ConfigModel) -> None:
        engine.configure(assess_params(config.model_dump(mode="json"), engine.assessor.params))
        text = config.model_dump_json()
        if store is not None:
            store.set_meta("config_json", text)
        (say or _stderr)(f"configuration changed, in effect from the next tick: {text}")

    return on_config


def _stderr(text: str) -> None:
    print(f"skyfence run: {text}", file=sys.stderr, flush=True)
