"""API tokens and roles.

TOKENS.yaml maps each token to a role, either directly or with a name that
the API records as who acknowledged an alert::

    s3cret-viewer-token: viewer
    s3cret-ops-token: {role: operator, name: alice}

(optionally nested under a top-level ``tokens:`` key). Roles are ordered:
``viewer`` reads, ``operator`` also acknowledges alerts, ``admin`` also
changes configuration. Any problem in the file is a :class:`UserError`
naming the file and the entry (exit code 2).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from skyfence.errors import UserError

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}


def allows(role: Role, needed: Role) -> bool:
    """True when ``role`` may do what ``needed`` may (viewer < operator < admin)."""
    return _RANK[role] >= _RANK[needed]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a token speaks for."""

    name: str
    role: Role


class Tokens:
    """The accepted tokens; :meth:`lookup` compares in constant time per token."""

    def __init__(self, entries: Mapping[str, Principal]) -> None:
        self._entries = [(token.encode(), who) for token, who in entries.items()]

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, token: str | None) -> Principal | None:
        if not token:
            return None
        given = token.encode()
        found: Principal | None = None
        for known, who in self._entries:
            if hmac.compare_digest(known, given):
                found = who
        return found


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key repeated in one mapping."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise UserError(f"token entry repeated (line {key_node.start_mark.line + 1})")
        seen.add(key)
    return dict(loader.construct_pairs(node))


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _valid_token(token: str) -> bool:
    # sent in an HTTP header and a query string: visible ASCII, no spaces
    return bool(token) and all(33 <= ord(c) < 127 for c in token)


def parse_tokens(data: object, where: str) -> Tokens:
    """Tokens from parsed YAML ``data``; ``where`` names the file in errors."""
    if isinstance(data, dict) and set(data) == {"tokens"}:
        data = data["tokens"]
    if not isinstance(data, dict) or not data:
        raise UserError(f"{where}: expected a mapping of token to role "
                        f"({', '.join(ROLES)}), got {type(data).__name__ if data else 'nothing'}")
    problems: list[str] = []
    entries: dict[str, Principal] = {}
    for n, (token, value) in enumerate(data.items(), start=1):
        entry = f"{where}: entry {n}"
        if not isinstance(token, str) or not _valid_token(token):
            problems.append(f"{entry}: the token must be a non-empty string of visible "
                            "ASCII characters without spaces (quote a numeric token)")
            continue
        spec: Mapping[str, object] = value if isinstance(value, dict) else {"role": value}
        extra = sorted(str(k) for k in set(spec) - {"role", "name"})
        if extra:
            problems.append(f"{entry}: unknown keys {extra} (allowed: role, name)")
            continue
        role = spec.get("role")
        if role not in ROLES:
            problems.append(f"{entry}: role {role!r} is not one of {', '.join(ROLES)}")
            continue
        name = spec.get("name", f"{role}-{n}")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{entry}: name must be a non-empty string")
            continue
        entries[token] = Principal(name=name.strip(), role=role)
    if problems:
        raise UserError(problems)
    return Tokens(entries)


def load_tokens(path: str | Path) -> Tokens:
    """Read and check TOKENS.yaml (module doc)."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{where}: cannot read the tokens file: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except UserError as exc:
        raise UserError([f"{where}: {p}" for p in exc.problems]) from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: not valid YAML: {exc}") from exc
    return parse_tokens(data, where)


def tokens_from(pairs: Iterable[tuple[str, Role]]) -> Tokens:
    """Tokens built in code (tests, embedded use): ``(token, role)`` pairs."""
    return parse_tokens(dict(pairs), "<tokens>")
