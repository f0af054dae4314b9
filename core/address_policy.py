"""Which network addresses the server may fetch a user's link from.

A link is hostile input: pasted, redirected to, or named inside a page (media, captions), it could
point the server at itself (a service listening only on loopback), at the cloud's metadata service
(link-local), or at the company network behind it. The rule is applied to the address a connection
really goes to, after DNS, with IPv4 hidden inside IPv6 (`::ffff:169.254.0.1`, 6to4, NAT64,
Teredo) unwrapped, so neither a DNS trick nor a mapped form gets through.

- Loopback, link-local, unspecified, multicast and reserved addresses are never fetched.
- Private networks (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10 …) are fetched only when the
  installation lists them in ASKVIDEO_ALLOWED_PRIVATE_NETWORKS (teams that host videos on their
  intranet name those networks).
- Everything else (the public internet) is fetched.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SETTING = "ASKVIDEO_ALLOWED_PRIVATE_NETWORKS"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(ConnectionRefusedError):
    """A connection the policy forbids; an OSError, so HTTP clients treat it as a failed connect."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"{address}: {reason}")
        self.address, self.reason = address, reason


def _never(ip: IPAddress) -> str | None:
    """Why an address is never fetched, whatever the installation allows; None if it may be."""
    if ip.is_loopback:
        return "this server itself (loopback)"
    if ip.is_link_local:
        return "a link-local address, where cloud servers keep their credentials"
    if ip.is_unspecified:
        return "an unspecified address (it reaches this server)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved or (ip.version == 4 and ip == ipaddress.IPv4Address("255.255.255.255")):
        return "a reserved address"
    return None


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries and may be routed to."""
    if ip.version == 4:
        return []
    found = [v4 for v4 in (ip.ipv4_mapped, ip.sixtofour) if v4 is not None]
    if ip.teredo:
        found.append(ip.teredo[1])
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def parse_networks(raw: str | None) -> tuple[IPNetwork, ...]:
    """The setting's comma-separated networks. A network that reaches what is never fetched
    (loopback, link-local …) is refused with a message naming it: no setting can open those."""
    networks = []
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        try:
            network = ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{SETTING}: “{item.strip()}” is not a network (write it like 10.20.0.0/16).") from None
        for probe in (network.network_address, network.broadcast_address):
            if why := _never(probe):
                raise ValueError(f"{SETTING}: {network} includes {why}; such addresses are never fetched.")
        networks.append(network)
    return tuple(networks)


@dataclass(frozen=True)
class AddressPolicy:
    allowed_private: tuple[IPNetwork, ...] = ()

    def refusal(self, address: str) -> str | None:
        """Why a connection to `address` (a numeric IP, as a socket gets it) is refused; None if allowed."""
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return "not a numeric address (connections by name are not checked, so they are refused)"
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:10.0.0.5 is 10.0.0.5 on the wire
        for candidate in (ip, *_embedded_ipv4(ip)):
            if why := _never(candidate):
                return why
        if any(ip in network for network in self.allowed_private):
            return None
        for candidate in (ip, *_embedded_ipv4(ip)):
            if not candidate.is_global:
                return "a private network address, which this installation does not fetch from"
        return None

    def check(self, address: str) -> None:
        if (why := self.refusal(address)) is not None:
            raise AddressRefused(address, why)


def explain(refused: AddressRefused | tuple[str, str]) -> str:
    """The message a user reads when their link led somewhere the server does not go."""
    address, reason = (refused.address, refused.reason) if isinstance(refused, AddressRefused) else refused
    message = f"That link leads to {address}, {reason}; videos are never fetched from there."
    if reason.startswith("a private network"):
        message = (f"That link leads to {address}, on a private network this installation does not fetch "
                   f"from. An administrator can allow that network with {SETTING}.")
    return message


def guard_connections(policy: AddressPolicy, refused: list[tuple[str, str]]) -> None:
    """From now on, every socket connection this process makes is checked against `policy` at
    connect time, with the address actually dialled; refused ones are appended to `refused` and
    fail as a refused connection. For a process that only fetches users' links (an audit hook
    cannot be removed again): only internet sockets are allowed at all."""

    def hook(event: str, args: tuple) -> None:
        if event != "socket.connect":
            return
        sock, address = args
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            refused.append((str(address), "not an internet address"))
            raise AddressRefused(str(address), "not an internet address")
        host = str(address[0])
        if (why := policy.refusal(host)) is not None:
            refused.append((host, why))
            raise AddressRefused(host, why)

    sys.addaudithook(hook)
