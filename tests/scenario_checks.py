"""Shared check for scenario files that must be refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from skyfence.errors import ScenarioError
from skyfence.scenario import load_scenario


def write_scenario(tmp_path: Path, content: object) -> Path:
    """``content`` (YAML text, or data to dump) as ``tmp_path/bad.yaml``."""
    path = tmp_path / "bad.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def assert_refused(tmp_path: Path, content: object, words: list[str], what: str) -> None:
    """Loading ``content`` raises a ScenarioError naming the file and every one of
    ``words``."""
    path = write_scenario(tmp_path, content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert str(path) in text
    for word in words:
        assert word in text, f"{what}: {word!r} not in {text!r}"
