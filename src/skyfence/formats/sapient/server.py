"""skyfence as a SAPIENT fusion node (BSI Flex 335 v2.0): sensor nodes connect over
TCP (default port 5020, framing.py) and report to it.

Per connection (:class:`Session`, no I/O; :class:`SapientServer` is the asyncio
transport around it):

- a ``Registration`` is validated (validate.py: every mandatory field, the
  node_id a UUID, …) and answered with a ``RegistrationAck`` — acceptance
  true, or false with the problems as reasons;
- any other message before an accepted registration: an ``Error``;
- every message is validated; one that breaks a rule gets an ``Error``
  listing the problems, and is counted by its first problem's kind;
- ``StatusReport``: the node's own health (:meth:`FusionNode.health`: system
  state, mode, last report), beside the engine's rate-based sensor health;
- ``DetectionReport``: one measurement record (convert.py) of the site sensor
  the node is mapped to, pushed to the engine's :class:`PushSource`; one that
  cannot be converted (a unit or datum skyfence does not take) gets an Error;
- ``Task``: always a ``TaskAck`` with status rejected and the reason —
  skyfence senses and fuses; it accepts no tasking and controls no effector;
- ``Alert``, ``AlertAck``, ``TaskAck``, ``RegistrationAck``, ``Error`` from a
  child are counted and logged, nothing more.

Nodes map to site sensors through ``nodes`` (node_id → sensor id). A node not
in it reports as sensor ``sapient-<node_id>`` of the kind its registered node
type suggests (radar; camera → eoir; acoustic; passive RF → rf), positioned
by its StatusReport ``node_location`` if it gave one; it is counted in
:attr:`FusionNode.unknown_nodes`. The engine only tracks sensors the site
lists (others are its bad lines), so a site must name every node it fuses.

Times: a measurement's ``t`` is the SapientMessage timestamp in UTC seconds
after ``epoch_utc_s`` (default 00:00 UTC of the day the node starts). A
DetectionReport stamped more than ``max_clock_skew_s`` (300 s) from the
fusion node's clock is refused with an Error ("timestamp too far from now"):
one node with a wrong clock must not stall the engine (a report from the far
future) or be silently dropped as late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pymap3d

from skyfence.formats.errors import DecodeError, Rejections
from skyfence.formats.sapient import convert, framing, validate
from skyfence.formats.sapient.convert import NodeSensor, SapientMessage
from skyfence.formats.sapient.proto.sapient_msg.bsi_flex_335_v2_0 import (
    registration_pb2,
    status_report_pb2,
)
from skyfence.scenario.model import Scenario

log = logging.getLogger(__name__)

DEFAULT_PORT = 5020
NOT_REGISTERED = "not registered"
WRONG_NODE = "node_id not registered on this connection"
TOO_MANY_NODES = "too many nodes"
CLOCK_SKEW = "timestamp too far from now"
MAX_ERROR_PACKET = 4096  # bytes of an offending message echoed in an Error

_NODE_KIND = {
    registration_pb2.Registration.NODE_TYPE_RADAR: "radar",
    registration_pb2.Registration.NODE_TYPE_CAMERA: "eoir",
    registration_pb2.Registration.NODE_TYPE_ACOUSTIC: "acoustic",
    registration_pb2.Registration.NODE_TYPE_PASSIVE_RF: "rf",
}
_SYSTEM = {status_report_pb2.StatusReport.SYSTEM_OK: "ok",
           status_report_pb2.StatusReport.SYSTEM_WARNING: "warning",
           status_report_pb2.StatusReport.SYSTEM_ERROR: "error",
           status_report_pb2.StatusReport.SYSTEM_GOODBYE: "goodbye"}

Emit = Callable[[list[dict[str, Any]]], object]


def day_start_utc_s(now_utc_s: float | None = None) -> float:
    """00:00 UTC of the day of ``now_utc_s`` (default: now), in Unix seconds."""
    now = time.time() if now_utc_s is None else now_utc_s
    return float(int(now // 86_400) * 86_400)


@dataclass
class NodeHealth:
    """What a SAPIENT node says about itself (StatusReports), and what it sent."""

    node_id: str
    sensor: str
    name: str = ""
    system: str = "unknown"  # ok | warning | error | goodbye | unknown
    mode: str = ""
    t_status_s: float | None = None
    connected: bool = True
    detections: int = 0
    rejected: int = 0

    def record(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "sensor": self.sensor, "name": self.name,
                "system": self.system, "mode": self.mode, "t_status": self.t_status_s,
                "connected": self.connected, "detections": self.detections,
                "rejected": self.rejected}


@dataclass
class _Registered:
    node_id: str
    sensor: NodeSensor
    allowed: frozenset[str]
    health: NodeHealth


@dataclass
class FusionNode:
    """The fusion node's protocol state shared by all connections (module doc).

    ``emit`` takes the measurement records of each DetectionReport (a
    :meth:`PushSource.push`); ``clock`` is UTC seconds (reply timestamps)."""

    origin: tuple[float, float, float]
    sensors: Mapping[str, NodeSensor]
    emit: Emit
    nodes: Mapping[str, str] = field(default_factory=dict)
    node_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # skyfence's own; give
    # it a fixed one per site so nodes see the same fusion node after a restart
    epoch_utc_s: float = field(default_factory=day_start_utc_s)
    clock: Callable[[], float] = time.time
    rejections: Rejections = field(default_factory=Rejections)
    messages: Counter[str] = field(default_factory=Counter)
    unknown_nodes: set[str] = field(default_factory=set)
    nodes_seen: dict[str, NodeHealth] = field(default_factory=dict)
    max_nodes: int = 1000  # registrations of more distinct nodes are refused (bounded memory)
    # a DetectionReport stamped further than this from ``clock`` is refused (None: no check):
    # one node with a wrong clock must not hold the engine's time back or push it ahead
    max_clock_skew_s: float | None = 300.0

    def __post_init__(self) -> None:
        for node, sensor in self.nodes.items():
            if not validate.is_uuid(node):
                raise ValueError(f"SAPIENT node id {node!r} is not a UUID")
            if sensor not in self.sensors:
                raise ValueError(f"SAPIENT node {node} maps to {sensor!r}, not a site sensor")
        self.converter = convert.DetectionConverter(self.origin, self.epoch_utc_s)

    @classmethod
    def for_site(cls, site: Scenario, emit: Emit, nodes: Mapping[str, str] | None = None,
                 **kwargs: Any) -> FusionNode:
        o = site.site.origin
        sensors = {s.id: NodeSensor(s.id, s.type, (float(s.position_enu_m[0]),
                                                    float(s.position_enu_m[1]),
                                                    float(s.position_enu_m[2])))
                   for s in site.sensors}
        return cls((o.lat, o.lon, o.alt_m), sensors, emit, dict(nodes or {}), **kwargs)

    def session(self, peer: str = "") -> Session:
        return Session(self, peer)

    def health(self) -> dict[str, dict[str, Any]]:
        """Each node's self-reported health, by node_id."""
        return {n: h.record() for n, h in self.nodes_seen.items()}


class Session:
    """One connection's conversation: payloads in, replies out (module doc)."""

    def __init__(self, node: FusionNode, peer: str = "") -> None:
        self.node = node
        self.peer = peer
        self.registered: _Registered | None = None

    # ------------------------------------------------------------ entry
    def handle(self, payload: bytes) -> list[SapientMessage]:
        """The replies to one framed payload (never raises on bad input)."""
        try:
            msg = framing.parse(payload)
        except DecodeError as exc:
            return [self._reject(exc, payload, None)]
        return self._handle(msg, payload)

    def _handle(self, msg: SapientMessage, payload: bytes) -> list[SapientMessage]:
        node = self.node
        kind = msg.WhichOneof("content") or "none"
        node.messages[kind] += 1
        found = validate.problems(msg)
        if found:
            invalid = DecodeError(found[0].kind, "; ".join(map(str, found)))
            if kind == "registration":
                node.rejections.add(invalid, self.peer)
                return [convert.registration_ack(node.node_id, node.clock(),
                                                 self._reply_to(msg), [str(p) for p in found])]
            return [self._reject(invalid, payload, msg, [str(p) for p in found])]
        if kind == "registration":
            return [self._register(msg)]
        if self.registered is None:
            return [self._reject(DecodeError(NOT_REGISTERED, kind), payload, msg,
                                 ["not registered: send a Registration first"])]
        if msg.node_id.lower() not in self.registered.allowed:
            return [self._reject(DecodeError(WRONG_NODE, msg.node_id), payload, msg)]
        handler = _HANDLERS.get(kind)
        return handler(self, msg, payload) if handler is not None else []

    def close(self) -> None:
        if self.registered is not None:
            self.registered.health.connected = False

    # ------------------------------------------------------------ messages
    def _register(self, msg: SapientMessage) -> SapientMessage:
        node = self.node
        node_id = msg.node_id.lower()
        reg = msg.registration
        if node_id not in node.nodes_seen and len(node.nodes_seen) >= node.max_nodes:
            node.rejections.add(DecodeError(TOO_MANY_NODES, node_id), self.peer)
            return convert.registration_ack(node.node_id, node.clock(), msg.node_id,
                                            [f"{TOO_MANY_NODES} (at most {node.max_nodes})"])
        sensor_id = node.nodes.get(node_id) or next(
            (s for n, s in node.nodes.items() if n.lower() == node_id), None)
        if sensor_id is None:
            if len(node.unknown_nodes) < node.max_nodes:
                node.unknown_nodes.add(node_id)
            types = [d.node_type for d in reg.node_definition]
            kind = next((_NODE_KIND[t] for t in types if t in _NODE_KIND), "radar")
            sensor = NodeSensor(f"sapient-{node_id}", kind, None)
        else:
            sensor = node.sensors[sensor_id]
        health = NodeHealth(node_id, sensor.sensor_id, reg.name or reg.short_name)
        node.nodes_seen[node_id] = health
        allowed = frozenset([node_id, *(d.lower() for d in reg.dependent_nodes)])
        self.registered = _Registered(node_id, sensor, allowed, health)
        log.info("SAPIENT node %s (%s) registered from %s as %s", node_id, health.name,
                 self.peer, sensor.sensor_id)
        return convert.registration_ack(node.node_id, node.clock(), msg.node_id)

    def _status(self, msg: SapientMessage, payload: bytes) -> list[SapientMessage]:
        assert self.registered is not None
        reg = self.registered
        status = msg.status_report
        h = reg.health
        h.system = _SYSTEM.get(status.system, "unknown")
        h.mode = status.mode
        h.t_status_s = convert.timestamp_s(msg.timestamp) - self.node.epoch_utc_s
        if status.system == status_report_pb2.StatusReport.SYSTEM_GOODBYE:
            h.connected = False
        if reg.sensor.position_enu_m is None and status.HasField("node_location"):
            with contextlib.suppress(DecodeError):
                lat, lon, alt = convert._geodetic(status.node_location)
                e, n, u = pymap3d.geodetic2enu(lat, lon, alt or self.node.origin[2],
                                               *self.node.origin)
                reg.sensor = NodeSensor(reg.sensor.sensor_id, reg.sensor.kind,
                                        (float(e), float(n), float(u)))
        return []

    def _detection(self, msg: SapientMessage, payload: bytes) -> list[SapientMessage]:
        assert self.registered is not None
        try:
            skew = self.node.max_clock_skew_s
            if skew is not None:
                off_s = convert.timestamp_s(msg.timestamp) - self.node.clock()
                if abs(off_s) > skew:
                    raise DecodeError(CLOCK_SKEW, f"{off_s:+.1f} s from the fusion node's clock")
            record = self.node.converter.record(msg, self.registered.sensor)
        except DecodeError as exc:
            self.registered.health.rejected += 1
            return [self._reject(exc, payload, msg)]
        self.registered.health.detections += 1
        self.node.emit([record])
        return []

    def _task(self, msg: SapientMessage, payload: bytes) -> list[SapientMessage]:
        log.info("SAPIENT task %s from %s rejected: skyfence accepts no tasking",
                 msg.task.task_id, msg.node_id)
        return [convert.task_rejected(self.node.node_id, self.node.clock(), msg.node_id,
                                      msg.task.task_id)]

    def _ignored(self, msg: SapientMessage, payload: bytes) -> list[SapientMessage]:
        kind = msg.WhichOneof("content")
        if kind == "error":
            log.warning("SAPIENT node %s reported an error: %s", msg.node_id,
                        "; ".join(msg.error.error_message)[:200])
        return []

    # ------------------------------------------------------------ errors
    def _reply_to(self, msg: SapientMessage | None) -> str | None:
        if msg is not None and validate.is_uuid(msg.node_id):
            return msg.node_id
        return self.registered.node_id if self.registered is not None else None

    def _reject(self, exc: DecodeError, payload: bytes, msg: SapientMessage | None,
                reasons: Sequence[str] | None = None) -> SapientMessage:
        self.node.rejections.add(exc, self.peer)
        text = list(reasons) if reasons else [str(exc)]
        return convert.error(self.node.node_id, self.node.clock(), self._reply_to(msg),
                             payload[:MAX_ERROR_PACKET], text)


_HANDLERS: dict[str, Callable[[Session, SapientMessage, bytes], list[SapientMessage]]] = {
    "status_report": Session._status,
    "detection_report": Session._detection,
    "task": Session._task,
    "alert": Session._ignored,
    "alert_ack": Session._ignored,
    "task_ack": Session._ignored,
    "registration_ack": Session._ignored,
    "error": Session._ignored,
}


class SapientServer:
    """The asyncio TCP transport of a :class:`FusionNode` (module doc)."""

    def __init__(self, node: FusionNode, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 max_message_bytes: int = framing.MAX_MESSAGE_BYTES,
                 read_chunk: int = 65_536) -> None:
        self.node = node
        self.host = host
        self.port = port
        self.max_message_bytes = max_message_bytes
        self.read_chunk = read_chunk
        self.connections = 0
        self.closed_too_large = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen; the port bound (``port=0``: a free one)."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("SAPIENT fusion node listening on %s:%d", self.host, self.port)
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        name = writer.get_extra_info("peername") or ("?", "?")
        peer = f"{name[0]}:{name[1]}"
        self.connections += 1
        frames = framing.FrameReader(self.max_message_bytes)
        session = self.node.session(peer)
        try:
            while chunk := await reader.read(self.read_chunk):
                try:
                    payloads = frames.feed(chunk)
                except DecodeError as exc:  # message too large: out of step, close
                    self.node.rejections.add(exc, peer)
                    self.closed_too_large += 1
                    reply = convert.error(self.node.node_id, self.node.clock(),
                                          session._reply_to(None), chunk[:framing.HEADER.size],
                                          [str(exc)])
                    writer.write(framing.frame(reply))
                    break
                for payload in payloads:
                    for reply in session.handle(payload):
                        writer.write(framing.frame(reply))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("SAPIENT connection %s lost: %s", peer, exc)
        finally:
            session.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
