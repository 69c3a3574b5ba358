"""Validation of SapientMessages against the rules the v2.0 protos carry.

The BSI Flex 335 v2.0 .proto files mark fields with ``field_options``
(``is_mandatory``, ``is_uuid``, ``is_ulid``) and oneofs with ``oneof_options``
(``is_mandatory``); :func:`problems` walks a message and its set
sub-messages and checks every such rule, so the checks follow the standard's
own files rather than a hand-copied list:

- a mandatory field: a singular field with presence must be set, a repeated
  field must have at least one element, a proto3 field without presence must
  not hold its default (empty string, 0);
- a mandatory oneof must have one member set;
- an ``is_uuid`` field, when set, must be a UUID (8-4-4-4-12 hex digits);
- an ``is_ulid`` field, when set, must be a ULID (26 Crockford base32 characters);
- a ``google.protobuf.Timestamp`` must be in its valid range.

Each :class:`Problem` has a fixed ``kind`` (counted in Rejections) and the
``path`` of the field (``detection_report.range_bearing.coordinate_system``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from skyfence.formats.sapient.proto.sapient_msg import proto_options_pb2 as options
from skyfence.formats.sapient.ulid import is_ulid

MISSING = "missing mandatory field"
BAD_UUID = "bad UUID"
BAD_ULID = "bad ULID"
BAD_TIMESTAMP = "bad timestamp"

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MAX_TIMESTAMP_S = 253_402_300_799  # 9999-12-31T23:59:59Z
_MIN_TIMESTAMP_S = -62_135_596_800  # 0001-01-01T00:00:00Z
_MAX_PROBLEMS = 20
# the generated stubs type the extensions as plain FieldDescriptors
_FIELD_OPTIONS: Any = options.field_options
_ONEOF_OPTIONS: Any = options.oneof_options


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    path: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}"


def is_uuid(text: str) -> bool:
    return _UUID.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class _Rule:
    field: FieldDescriptor
    mandatory: bool
    uuid: bool
    ulid: bool
    repeated: bool
    message: bool
    presence: bool


@cache
def _rules(descriptor: Descriptor) -> tuple[tuple[_Rule, ...], tuple[str, ...]]:
    """The fields of a message type worth looking at, and its mandatory oneofs."""
    rules = []
    for f in descriptor.fields:
        opts: options.ValidationOptions = f.GetOptions().Extensions[_FIELD_OPTIONS]
        is_message = f.type == FieldDescriptor.TYPE_MESSAGE
        rule = _Rule(f, opts.is_mandatory, opts.is_uuid, opts.is_ulid,
                     f.is_repeated, is_message, f.has_presence)
        if rule.mandatory or rule.uuid or rule.ulid or is_message:
            rules.append(rule)
    oneofs = tuple(o.name for o in descriptor.oneofs
                   if o.GetOptions().Extensions[_ONEOF_OPTIONS].is_mandatory)
    return tuple(rules), oneofs


def problems(msg: Message, path: str = "", limit: int = _MAX_PROBLEMS) -> list[Problem]:
    """Every rule ``msg`` breaks (module doc), up to ``limit``."""
    out: list[Problem] = []
    _walk(msg, path, out, limit)
    return out


def _walk(msg: Message, path: str, out: list[Problem], limit: int) -> None:
    descriptor = msg.DESCRIPTOR
    if isinstance(msg, Timestamp):
        seconds, nanos = msg.seconds, msg.nanos
        if not (_MIN_TIMESTAMP_S <= seconds <= _MAX_TIMESTAMP_S and 0 <= nanos < 10**9):
            out.append(Problem(BAD_TIMESTAMP, path or "timestamp"))
        return
    rules, oneofs = _rules(descriptor)
    prefix = f"{path}." if path else ""
    for name in oneofs:
        if msg.WhichOneof(name) is None:
            out.append(Problem(MISSING, prefix + name))
    for rule in rules:
        if len(out) >= limit:
            return
        name = rule.field.name
        where = prefix + name
        if rule.repeated:
            values = getattr(msg, name)
            if rule.mandatory and len(values) == 0:
                out.append(Problem(MISSING, where))
            if rule.message:
                for i, sub in enumerate(values):
                    _walk(sub, f"{where}[{i}]", out, limit)
            elif rule.uuid or rule.ulid:
                for i, text in enumerate(values):
                    _check_id(rule, text, f"{where}[{i}]", out)
            continue
        if rule.presence:
            present = msg.HasField(name)
        else:
            present = getattr(msg, name) != rule.field.default_value
        if not present:
            if rule.mandatory:
                out.append(Problem(MISSING, where))
            continue
        if rule.message:
            _walk(getattr(msg, name), where, out, limit)
        elif rule.uuid or rule.ulid:
            _check_id(rule, getattr(msg, name), where, out)


def _check_id(rule: _Rule, text: str, where: str, out: list[Problem]) -> None:
    if rule.uuid and not is_uuid(text):
        out.append(Problem(BAD_UUID, where))
    elif rule.ulid and not is_ulid(text):
        out.append(Problem(BAD_ULID, where))
