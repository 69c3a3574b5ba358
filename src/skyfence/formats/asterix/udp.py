"""ASTERIX over UDP: a receiving socket (unicast or multicast), datagrams stamped with
their arrival time, live measurements, and sending skyfence's CAT062.

Radar feeds are usually UDP multicast on a dedicated network: ``open_receiver(8600,
group="239.1.1.1", interface="10.0.0.5")`` joins the group on that interface. The
arrival time (``time.time()``, the host clock — keep it on NTP) resolves the time of
day of each record (:mod:`.clock`).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from skyfence.formats.asterix.decoder import AsterixDecoder
from skyfence.formats.asterix.measurements import Measurement, MeasurementMaker
from skyfence.formats.errors import Rejections
from skyfence.scenario.model import Scenario

MAX_DATAGRAM_OCTETS = 65535


def open_receiver(port: int, group: str | None = None, interface: str = "0.0.0.0",
                  timeout_s: float = 0.5) -> socket.socket:
    """A UDP socket bound to ``port`` (and joined to multicast ``group`` on ``interface``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("" if group else interface, port))
        if group:
            membership = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(interface))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.settimeout(timeout_s)
    except OSError:
        sock.close()
        raise
    return sock


def datagrams(sock: socket.socket, stop: Callable[[], bool] = lambda: False,
              clock: Callable[[], float] = time.time) -> Iterator[tuple[float, bytes]]:
    """(arrival UTC seconds, payload) of each datagram until ``stop()`` is true
    (checked at least every socket timeout)."""
    while not stop():
        try:
            payload = sock.recv(MAX_DATAGRAM_OCTETS)
        except TimeoutError:
            continue
        yield clock(), payload


def live_measurements(received: Iterable[tuple[float, bytes]], site: Scenario, sensor_id: str,
                      epoch_utc_s: float | None = None,
                      sensors_by_source: Mapping[tuple[int, int], str] | None = None,
                      rejections: Rejections | None = None) -> Iterator[list[Measurement]]:
    """The measurements of each received datagram (an empty list for one without plots)."""
    maker = MeasurementMaker(site, sensor_id, epoch_utc_s, sensors_by_source)
    decoder = AsterixDecoder(rejections)
    for rx_utc_s, payload in received:
        found = (maker.measurement(s) for s in decoder.feed(payload, rx_utc_s))
        yield [m for m in found if m is not None]


def send(sock: socket.socket, address: tuple[str, int], payloads: Iterable[bytes]) -> int:
    """Send CAT062 (or any) datagrams to ``address``; the number sent."""
    count = 0
    for payload in payloads:
        sock.sendto(payload, address)
        count += 1
    return count
