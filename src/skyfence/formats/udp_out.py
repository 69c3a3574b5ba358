"""Datagrams out: one UDP socket to ``host:port`` (unicast, or multicast with ``ttl``
hops) that counts what it sent and what failed, never raising on a send (an
output must not stop the service). Used by the CoT and ASTERIX CAT062 senders."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from ipaddress import ip_address


class UdpOut:
    """One destination's socket and its counts (module doc)."""

    def __init__(self, host: str, port: int, ttl: int = 1) -> None:
        self.address = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if ip_address(host).is_multicast:
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        self.sent = 0
        self.errors = 0

    def send_all(self, datagrams: Iterable[bytes]) -> int:
        """Send each datagram; how many went (a failed send is counted in ``errors``)."""
        count = 0
        for datagram in datagrams:
            try:
                self.sock.sendto(datagram, self.address)
                count += 1
            except OSError:
                self.errors += 1
        self.sent += count
        return count

    def close(self) -> None:
        self.sock.close()
