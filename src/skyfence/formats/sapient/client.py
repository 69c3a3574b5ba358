"""skyfence as a child of a parent SAPIENT fusion node (BSI Flex 335 v2.0).

:class:`ParentLink` (no I/O) turns the live picture into SAPIENT messages:

- a ``Registration`` as a fusion node (convert.fusion_registration), then a
  ``StatusReport`` heartbeat each tick;
- each tick's confirmed tracks (:class:`~skyfence.live.hub.Snapshot`) as
  ``DetectionReport``s: one stable ULID ``object_id`` per skyfence track_id
  for the track's life, a fresh ULID ``report_id`` per report, WGS-84
  lat/lon/alt from site ENU (pymap3d), ENU velocity, the class as SAPIENT
  taxonomy with its probability (convert.track_report);
- alerts as SAPIENT ``Alert``s (one stable ULID per skyfence alert_id): sent
  when an alert first appears (ACTIVE), when its record changes (an
  acknowledgement) and once when it ends (CLEAR), with its tracks as
  associated detections.

:class:`SapientClient` is the asyncio TCP transport: connect, register (and
wait for the RegistrationAck), then :meth:`SapientClient.send` a snapshot per
tick — or :meth:`SapientClient.follow` a hub. A ``Task`` from the parent is
answered with a rejected ``TaskAck``: skyfence accepts no tasking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from skyfence.errors import UserError
from skyfence.formats.errors import DecodeError, Rejections
from skyfence.formats.sapient import convert, framing, validate
from skyfence.formats.sapient.convert import SapientMessage
from skyfence.formats.sapient.proto.sapient_msg.bsi_flex_335_v2_0 import status_report_pb2
from skyfence.formats.sapient.ulid import UlidGenerator
from skyfence.live.hub import Snapshot

log = logging.getLogger(__name__)


class ParentLink:
    """Snapshots → SAPIENT messages for a parent node (module doc); ``epoch_utc_s``
    maps the snapshot's ``t`` to UTC."""

    def __init__(self, origin: tuple[float, float, float], node_id: str, epoch_utc_s: float,
                 ulids: UlidGenerator | None = None, name: str = "skyfence",
                 clock: Callable[[], float] = time.time) -> None:
        if not validate.is_uuid(node_id):
            raise ValueError(f"node_id {node_id!r} is not a UUID")
        self.origin = origin
        self.node_id = node_id
        self.epoch_utc_s = epoch_utc_s
        self.ulids = ulids or UlidGenerator()
        self.name = name
        self.clock = clock
        self.objects: dict[int, str] = {}  # track_id → object ULID
        self.alert_ids: dict[str, str] = {}  # skyfence alert_id → SAPIENT alert ULID
        self._sent_alerts: dict[str, dict[str, Any]] = {}
        self._status_sent = False

    def registration(self) -> SapientMessage:
        return convert.fusion_registration(self.node_id, self.clock(), self.name)

    def object_id(self, track_id: int) -> str:
        if track_id not in self.objects:
            self.objects[track_id] = self.ulids.new()
        return self.objects[track_id]

    def status(self, t_utc_s: float) -> SapientMessage:
        """The heartbeat StatusReport (system OK, mode "default")."""
        msg = convert.envelope(self.node_id, t_utc_s)
        st = msg.status_report
        st.report_id = self.ulids.new()
        st.system = status_report_pb2.StatusReport.SYSTEM_OK
        st.info = (status_report_pb2.StatusReport.INFO_UNCHANGED if self._status_sent
                   else status_report_pb2.StatusReport.INFO_NEW)
        st.mode = "default"
        self._status_sent = True
        return msg

    def messages(self, snapshot: Snapshot) -> list[SapientMessage]:
        """This tick's StatusReport (the heartbeat the Registration promises, one per
        tick), DetectionReports, and the Alerts that are new, changed or ended."""
        t_utc = self.epoch_utc_s + snapshot.t_s
        out: list[SapientMessage] = [self.status(t_utc)]
        enu: dict[int, list[float]] = {}
        for track_id, track in snapshot.tracks.items():
            tid = int(track_id)
            enu[tid] = track["enu_m"]
            out.append(convert.track_report(track, self.origin, self.node_id, t_utc,
                                            self.ulids.new(), self.object_id(tid)))
        for alert_id, alert in snapshot.alerts.items():
            if self._sent_alerts.get(alert_id) == alert:
                continue
            if alert_id not in self.alert_ids:
                self.alert_ids[alert_id] = self.ulids.new()
            for tid in alert.get("track_ids") or []:
                self.object_id(int(tid))
            out.append(convert.alert_message(alert, self.node_id, t_utc,
                                             self.alert_ids[alert_id], self.objects,
                                             self.origin, enu))
            self._sent_alerts[alert_id] = dict(alert)
        self._forget(snapshot)
        return out

    def _forget(self, snapshot: Snapshot) -> None:
        """Bounded memory: drop the ids of tracks and alerts gone from the picture."""
        live_alerts = set(snapshot.alerts)
        for alert_id in [a for a in self._sent_alerts if a not in live_alerts]:
            del self._sent_alerts[alert_id]
            self.alert_ids.pop(alert_id, None)
        keep = {int(t) for t in snapshot.tracks}
        for alert in snapshot.alerts.values():
            keep.update(int(t) for t in alert.get("track_ids") or [])
        for tid in [t for t in self.objects if t not in keep]:
            del self.objects[tid]

    def answer(self, msg: SapientMessage) -> list[SapientMessage]:
        """Replies to a message from the parent: a Task is rejected."""
        if msg.WhichOneof("content") == "task" and validate.problems(msg) == []:
            return [convert.task_rejected(self.node_id, self.clock(), msg.node_id,
                                          msg.task.task_id)]
        return []


class SapientClient:
    """A TCP connection to a parent SAPIENT node (module doc)."""

    def __init__(self, link: ParentLink, host: str, port: int,
                 ack_timeout_s: float = 10.0,
                 max_message_bytes: int = framing.MAX_MESSAGE_BYTES) -> None:
        self.link = link
        self.host, self.port = host, port
        self.ack_timeout_s = ack_timeout_s
        self.max_message_bytes = max_message_bytes
        self.received: Counter[str] = Counter()
        self.rejections = Rejections()
        self.sent = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._frames = framing.FrameReader(max_message_bytes)
        self._listen: asyncio.Task[None] | None = None
        self._inbox: deque[SapientMessage] = deque()

    async def connect(self) -> None:
        """Connect and register; raises UserError if the parent refuses."""
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._write([self.link.registration()])
        await self._writer.drain()
        ack = await asyncio.wait_for(self._next_registration_ack(), self.ack_timeout_s)
        if not ack.registration_ack.acceptance:
            reasons = "; ".join(ack.registration_ack.ack_response_reason) or "no reason given"
            await self.close()
            raise UserError(f"SAPIENT parent {self.host}:{self.port} refused the "
                            f"registration: {reasons}")
        self._listen = asyncio.create_task(self._listen_loop())

    async def _next_registration_ack(self) -> SapientMessage:
        async for msg in self._messages():
            if msg.WhichOneof("content") == "registration_ack":
                return msg
            self._write(self.link.answer(msg))
        raise ConnectionError("the parent closed the connection before acknowledging")

    async def _messages(self) -> AsyncIterator[SapientMessage]:
        """Messages from the parent; those framed but not yet taken stay in the inbox
        (a RegistrationAck and a Task may arrive in one chunk)."""
        assert self._reader is not None
        while True:
            while self._inbox:
                yield self._inbox.popleft()
            chunk = await self._reader.read(65_536)
            if not chunk:
                return
            for payload in self._frames.feed(chunk):
                try:
                    msg = framing.parse(payload)
                except DecodeError as exc:
                    self.rejections.add(exc, f"{self.host}:{self.port}")
                    continue
                self.received[msg.WhichOneof("content") or "none"] += 1
                self._inbox.append(msg)

    async def _listen_loop(self) -> None:
        with contextlib.suppress(ConnectionError, DecodeError, asyncio.CancelledError):
            async for msg in self._messages():
                if msg.WhichOneof("content") == "error":
                    log.warning("SAPIENT parent error: %s",
                                "; ".join(msg.error.error_message)[:200])
                self._write(self.link.answer(msg))

    def _write(self, msgs: list[SapientMessage]) -> None:
        assert self._writer is not None
        for msg in msgs:
            self._writer.write(framing.frame(msg))
            self.sent += 1

    @property
    def connected(self) -> bool:
        """Registered and the parent has not closed the connection."""
        return self._writer is not None and self._listen is not None and not self._listen.done()

    async def send(self, snapshot: Snapshot) -> int:
        """Send this tick's tracks and alerts; how many messages."""
        msgs = self.link.messages(snapshot)
        self._write(msgs)
        assert self._writer is not None
        await self._writer.drain()
        return len(msgs)

    async def close(self) -> None:
        if self._listen is not None:
            self._listen.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listen
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
            self._writer = None
            self._listen = None
