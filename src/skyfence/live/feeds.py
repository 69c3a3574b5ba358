"""The site's live feeds (the site file's ``sources`` and ``outputs``) around the engine.

In: each ``sources`` entry becomes an asyncio reader that decodes what arrives
with its format module (skyfence.formats.*) into measurement records and
pushes them into one :class:`~skyfence.live.push_source.PushSource`, the
engine's source:

- ``adsb-beast`` / ``adsb-avr``: a TCP client of the receiver (dump1090,
  readsb), reconnecting with a growing pause (1 s … 10 s) when it goes away;
- ``asterix``: UDP datagrams to ``host:port`` (CAT048 plots; CAT034 counted);
- ``remoteid``: UDP datagrams, each one received frame (``link`` says which
  kind; the sender's address names the transmitter for raw messages);
- ``sapient``: a TCP server sensor nodes connect to (BSI Flex 335 v2.0).

A heartbeat each second tells the engine the time, so ticks go on (tracks
coast, silent sensors are noticed) when every sensor is quiet.

Out: each ``outputs`` entry follows the hub and sends every published tick:
Cursor on Target and ASTERIX CAT062 over UDP, SAPIENT to a parent node over
TCP.

Times: a feed's measurement ``t`` is UTC seconds since ``epoch_utc_s`` (the
service keeps one per store: midnight UTC of the day it first ran), the
clock the engine's picture then runs on. Bad input is counted per feed
(:class:`~skyfence.formats.errors.Rejections`) and logged; nothing a sensor
sends stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skyfence.formats.errors import DecodeError, Rejections
from skyfence.live.hub import Hub, Snapshot, follow
from skyfence.live.push_source import PushSource
from skyfence.scenario import Scenario
from skyfence.scenario.model import FeedIn, FeedOut

log = logging.getLogger(__name__)

Records = Iterable[Mapping[str, Any]]
Handler = Callable[[bytes, float, str], Records]  # data, rx UTC s, peer → measurements


@dataclass
class FeedStats:
    """What one feed has done (the service's summary and logs)."""

    name: str
    bytes_in: int = 0
    measurements: int = 0
    connections: int = 0
    rejections: Rejections = field(default_factory=Rejections)

    def record(self) -> dict[str, Any]:
        return {"feed": self.name, "bytes_in": self.bytes_in,
                "measurements": self.measurements, "connections": self.connections,
                **self.rejections.summary()}


class LiveFeeds:
    """The site's ``sources`` into one push source; its ``outputs`` off the hub."""

    def __init__(self, site: Scenario, epoch_utc_s: float,
                 clock: Callable[[], float] = time.time, heartbeat_s: float = 1.0) -> None:
        self.site = site
        self.epoch_utc_s = epoch_utc_s
        self.clock = clock
        self.heartbeat_s = heartbeat_s
        self.source = PushSource("feeds: " + ", ".join(f.format for f in site.sources))
        self.stats: list[FeedStats] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._transports: list[asyncio.BaseTransport] = []
        self._nodes: list[Any] = []  # SAPIENT fusion nodes (their sensors' own reports)
        self._radar_status: dict[str, dict[str, Any]] = {}  # ASTERIX CAT034, by sensor

    def node_id(self) -> str:
        """skyfence's SAPIENT node id for this site: the same at every start."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"skyfence:site:{self.site.name}"))

    def now_s(self) -> float:
        """Scenario time now: UTC seconds since the epoch."""
        return self.clock() - self.epoch_utc_s

    # ------------------------------------------------------------ start / stop
    async def start(self, hub: Hub, stop: asyncio.Event) -> None:
        """Open every input and output; returns once they listen or connect."""
        for k, feed in enumerate(self.site.sources):
            await self._start_input(k, feed)
        for k, out in enumerate(self.site.outputs):
            await self._start_output(k, out, hub, stop)
        self._tasks.append(asyncio.create_task(self._heartbeats(stop)))

    async def close(self) -> None:
        """Stop reading and sending; end the engine's source."""
        self.source.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for transport in self._transports:
            transport.close()
        for closer in self._closers:
            with contextlib.suppress(Exception):
                await closer()

    def reported_health(self) -> dict[str, dict[str, Any]]:
        """What sensors last said about themselves, by site sensor id: SAPIENT nodes'
        StatusReports (the newest when several nodes are one sensor) and radars'
        ASTERIX CAT034 service messages. Called from the engine's thread: it reads
        copies of the tables the feeds write."""
        out: dict[str, dict[str, Any]] = dict(self._radar_status)
        for node in self._nodes:
            for record in dict(node.nodes_seen).values():
                rec = record.record()
                held = out.get(rec["sensor"])
                if held is None or (rec["t_status"] or -1e300) > (held["t_status"] or -1e300):
                    out[rec["sensor"]] = rec
        return out

    def summary(self) -> list[dict[str, Any]]:
        return [s.record() for s in self.stats]

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.source.heartbeat(self.now_s())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.heartbeat_s)

    # ------------------------------------------------------------ inputs
    async def _start_input(self, k: int, feed: FeedIn) -> None:
        stats = FeedStats(f"sources.{k} {feed.format} {feed.host}:{feed.resolved_port()}")
        self.stats.append(stats)
        if feed.format == "sapient":
            await self._start_sapient(feed, stats)
            return
        handler = self._handler(feed, stats.rejections)
        if feed.format in ("adsb-beast", "adsb-avr"):
            self._tasks.append(asyncio.create_task(self._tcp_client(feed, handler, stats)))
        else:
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self, handler, stats),
                local_addr=(feed.host, feed.resolved_port()))
            self._transports.append(transport)
        log.info("feed %s open", stats.name)

    def _handler(self, feed: FeedIn, rejections: Rejections) -> Handler:
        sensor = feed.sensor or next(iter(feed.radars.values()))  # (the site file's check)
        site, epoch = self.site, self.epoch_utc_s
        if feed.format in ("adsb-beast", "adsb-avr"):
            from skyfence.formats import adsb

            stream = adsb.AdsbStream("beast" if feed.format == "adsb-beast" else "avr",
                                     adsb.settings_for_site(site, sensor),
                                     rejections=rejections)
            return lambda data, rx, _peer: adsb.to_measurements(
                stream.feed(data, rx), site, sensor, epoch)
        if feed.format == "remoteid":
            from skyfence.formats import remoteid

            try:
                decoder = remoteid.RemoteIdDecoder(feed.link, rejections=rejections)
            except ValueError as exc:
                from skyfence.errors import UserError

                raise UserError(f"site file: a remoteid source's link: {exc}") from None
            return lambda data, rx, peer: remoteid.to_measurements(
                decoder.feed(data, rx, peer), site, sensor, epoch)
        from skyfence.formats.asterix.cat034 import Cat034Message
        from skyfence.formats.asterix.decoder import AsterixDecoder
        from skyfence.formats.asterix.measurements import MeasurementMaker, service_status

        asterix = AsterixDecoder(rejections, first_day_utc_s=epoch)
        radars = feed.radar_sources()
        maker = MeasurementMaker(site, sensor, epoch, radars or None)

        def decode_asterix(data: bytes, rx: float, _peer: str) -> Records:
            out = []
            for stamped in asterix.feed(data, rx):
                record = stamped.record
                if isinstance(record, Cat034Message):  # the radar says it is alive
                    radar = radars.get((record.sac, record.sic), sensor if not radars else None)
                    if radar is not None:
                        status = service_status(stamped, radar, epoch)
                        if status is not None:
                            self._radar_status[radar] = _radar_report(status)
                    continue
                made = maker.measurement(stamped)
                if made is not None:
                    out.append(made)
            return out
        return decode_asterix

    def _take(self, handler: Handler, data: bytes, peer: str, stats: FeedStats) -> None:
        """Decode one arrival and push its measurements (never raises: counted)."""
        stats.bytes_in += len(data)
        try:
            records = list(handler(data, self.clock(), peer))
        except Exception as exc:  # a decoder bug must not stop the feed
            log.exception("feed %s: decoding failed", stats.name)
            stats.rejections.add(DecodeError("decoder failure", repr(exc)), peer)
            return
        if records:
            stats.measurements += len(records)
            self.source.push(records)

    async def _tcp_client(self, feed: FeedIn, handler: Handler, stats: FeedStats) -> None:
        pause_s = 1.0
        while True:
            try:
                reader, writer = await asyncio.open_connection(feed.host, feed.resolved_port())
            except OSError as exc:
                log.warning("feed %s: cannot connect (%s); again in %.0f s", stats.name,
                            exc.strerror or exc, pause_s)
                await asyncio.sleep(pause_s)
                pause_s = min(2 * pause_s, 10.0)
                continue
            stats.connections += 1
            pause_s = 1.0
            peer = f"{feed.host}:{feed.resolved_port()}"
            try:
                while chunk := await reader.read(65536):
                    self._take(handler, chunk, peer, stats)
            except OSError as exc:
                log.warning("feed %s: connection lost (%s)", stats.name, exc)
            finally:
                writer.close()
            log.warning("feed %s: the receiver closed the connection; reconnecting",
                        stats.name)
            await asyncio.sleep(pause_s)

    async def _start_sapient(self, feed: FeedIn, stats: FeedStats) -> None:
        from skyfence.formats.sapient.server import FusionNode, SapientServer

        def emit(records: Records) -> None:
            records = list(records)
            stats.measurements += len(records)
            self.source.push(records)

        node = FusionNode.for_site(self.site, emit, feed.nodes, epoch_utc_s=self.epoch_utc_s,
                                   rejections=stats.rejections, node_id=self.node_id())
        server = SapientServer(node, feed.host, feed.resolved_port())
        await server.start()
        self._nodes.append(node)
        self._closers.append(server.close)

    # ------------------------------------------------------------ outputs
    async def _start_output(self, k: int, out: FeedOut, hub: Hub, stop: asyncio.Event) -> None:
        o = self.site.site.origin
        origin = (o.lat, o.lon, o.alt_m)
        port = out.resolved_port()
        send: Callable[[Snapshot], Any]
        if out.format == "cot":
            from skyfence.formats.cot import CotSender

            cot = CotSender(origin, self.epoch_utc_s, out.host, port, site=self.site.name)
            send = cot.send

            async def close_cot() -> None:
                cot.close()
            self._closers.append(close_cot)
        elif out.format == "asterix-cat062":
            from skyfence.formats.asterix.output import Cat062Sender

            cat062 = Cat062Sender(origin, self.epoch_utc_s, out.host, port, out.sac, out.sic)
            send = cat062.send

            async def close_cat062() -> None:
                cat062.close()
            self._closers.append(close_cat062)
        else:
            send = await self._sapient_parent(out, origin, port)
        self._tasks.append(asyncio.create_task(follow(hub, stop, send, f"outputs.{k}")))

    async def _sapient_parent(self, out: FeedOut, origin: tuple[float, float, float],
                              port: int) -> Callable[[Snapshot], Any]:
        from skyfence.formats.sapient.client import ParentLink

        parent = ParentSender(ParentLink(origin, out.node_id or self.node_id(),
                                         self.epoch_utc_s), out.host, port)
        await parent.send(None)  # connect now if it is there; else on a later tick
        self._closers.append(parent.close)
        return parent.send


def _radar_report(status: Mapping[str, Any]) -> dict[str, Any]:
    """A CAT034 heartbeat (asterix.measurements.service_status) as a sensor's
    ``reported`` health: alive and turning; ``system`` error on NOGO/overload."""
    healthy = status.get("healthy")
    return {"source": "asterix-cat034", "sensor": status["sensor"],
            "system": "unknown" if healthy is None else ("ok" if healthy else "error"),
            "t_status": status["t"], "message": status.get("message"),
            "antenna_period_s": status.get("antenna_period_s")}


class ParentSender:
    """Ticks to a parent SAPIENT node over one :class:`SapientClient`, connecting
    again (at most every ``retry_s``) when the parent is down or goes away. The
    :class:`ParentLink` outlives the connections, so a track keeps its ULID across
    them; the ticks while the parent is away are not sent (it wants the picture
    now, not a backlog)."""

    def __init__(self, link: Any, host: str, port: int, retry_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.link, self.host, self.port = link, host, port
        self.retry_s, self.clock = retry_s, clock
        self.client: Any = None
        self.connections = self.dropped_ticks = 0
        self._next_try_s = -float("inf")

    async def send(self, snapshot: Snapshot | None) -> int:
        """Send ``snapshot`` (None: only connect); messages sent, 0 while away."""
        from skyfence.errors import UserError
        from skyfence.formats.sapient.client import SapientClient

        if self.client is not None and not self.client.connected:
            await self._drop("the parent closed the connection")
        if self.client is None:
            if self.clock() < self._next_try_s:
                self.dropped_ticks += snapshot is not None
                return 0
            client = SapientClient(self.link, self.host, self.port)
            try:
                await client.connect()
            except (OSError, ConnectionError, TimeoutError, UserError) as exc:
                await client.close()
                self._next_try_s = self.clock() + self.retry_s
                self.dropped_ticks += snapshot is not None
                log.warning("SAPIENT parent %s:%d: %s; again in %.0f s", self.host, self.port,
                            exc, self.retry_s)
                return 0
            self.client = client
            self.connections += 1
        if snapshot is None:
            return 0
        try:
            sent: int = await self.client.send(snapshot)
            return sent
        except (OSError, ConnectionError) as exc:
            await self._drop(str(exc))
            self.dropped_ticks += 1
            return 0

    async def _drop(self, why: str) -> None:
        log.warning("SAPIENT parent %s:%d lost (%s); reconnecting", self.host, self.port, why)
        await self.close()
        self._next_try_s = self.clock() + self.retry_s

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, feeds: LiveFeeds, handler: Handler, stats: FeedStats) -> None:
        self.feeds, self.handler, self.stats = feeds, handler, stats

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.feeds._take(self.handler, data, f"{addr[0]}:{addr[1]}", self.stats)
