"""Read a scenario file: YAML → validated :class:`Scenario`, or one message per problem.

Every problem names the file, the field path (``sensors[2].sigma.range_m``)
and the reason, and is raised together as one :class:`ScenarioError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from skyfence.errors import ScenarioError
from skyfence.scenario.model import Scenario

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "scenarios"


def bundled_names() -> list[str]:
    """Names of the scenarios shipped with skyfence (``night-swarm``, ...)."""
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml"))


def resolve(path_or_name: str | Path) -> Path:
    """A path as given, or the bundled scenario of that name."""
    path = Path(path_or_name)
    if path.exists() or path.suffix:
        return path
    bundled = BUNDLED_DIR / f"{path_or_name}.yaml"
    return bundled if bundled.exists() else path


def load_scenario(path_or_name: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Load and validate; ``overrides`` are ``dotted.path=yaml-value`` strings."""
    path = resolve(path_or_name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        names = ", ".join(bundled_names())
        raise ScenarioError(
            f"{path}: no such file (bundled scenarios: {names})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    data = parse_yaml(text, str(path))
    for item in overrides:
        apply_override(data, item, str(path))
    return validate(data, str(path))


def parse_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{where}: {at}not valid YAML: {reason}") from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ScenarioError(f"{where}: the file is {kind}, expected a mapping of fields")
    return data


def apply_override(data: dict[str, Any], item: str, where: str) -> None:
    """Set ``a.b.0.c=value`` inside ``data`` (value parsed as YAML)."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ScenarioError(f"{where}: override {item!r} is not of the form path=value")
    parts = key.split(".")
    node: Any = data
    try:
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        value = yaml.safe_load(raw)
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    except (KeyError, IndexError, ValueError, TypeError, yaml.YAMLError):
        raise ScenarioError(f"{where}: override {item!r}: no such field to set") from None


def validate(data: dict[str, Any], where: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(list(_messages(exc, where))) from None


def _messages(exc: ValidationError, where: str) -> Iterable[str]:
    for err in exc.errors():
        path = _dotted(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling against docs/scenarios.md)"
        elif err["type"] == "union_tag_invalid":
            tags = err["ctx"]["expected_tags"]
            msg = f"unknown type {err['input'].get('type')!r}; expected one of {tags}"
        elif isinstance(err.get("input"), (int, float, str)) and err["type"] != "missing":
            msg = f"{msg} (got {err['input']!r})"
        yield f"{where}: {path or '(top level)'}: {msg}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for k, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("radar", "rf", "acoustic", "eoir", "adsb", "remote_id", "drone",
                      "swarm", "bird_flock", "aircraft") and k > 0 and isinstance(loc[k - 1], int):
            continue  # the discriminator tag pydantic inserts; the index says enough
        else:
            out += f".{part}" if out else str(part)
    return out
