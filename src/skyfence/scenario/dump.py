"""Write a scenario back to YAML, every default spelled out (a record of what ran)."""

from __future__ import annotations

from pathlib import Path

import yaml

from skyfence.errors import UserError
from skyfence.scenario.model import Scenario


def dump_scenario(scenario: Scenario, path: Path) -> None:
    text = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc}") from None
