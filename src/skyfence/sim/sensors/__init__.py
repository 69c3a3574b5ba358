"""Simulated sensor models, one module per family; :func:`make_sensor` picks one."""

from __future__ import annotations

from skyfence.scenario.model import Origin, SensorBase
from skyfence.sim.sensors.base import (
    ScanOutput,
    SensorModel,
    Snapshot,
    TargetAttributes,
)


def make_sensor(config: SensorBase, origin: Origin) -> SensorModel:
    """The model for ``config.type`` (radar, rf, acoustic, eoir, adsb, remote_id)."""
    from skyfence.sim.sensors.cooperative import AdsbModel, RemoteIdModel
    from skyfence.sim.sensors.passive import AcousticModel, EoirModel, RfModel
    from skyfence.sim.sensors.radar import RadarModel

    models: dict[str, type] = {
        "radar": RadarModel,
        "rf": RfModel,
        "acoustic": AcousticModel,
        "eoir": EoirModel,
        "adsb": AdsbModel,
        "remote_id": RemoteIdModel,
    }
    model: SensorModel = models[config.type](config, origin)  # type: ignore[attr-defined]
    return model


__all__ = ["ScanOutput", "SensorModel", "Snapshot", "TargetAttributes", "make_sensor"]
