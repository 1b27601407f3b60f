"""The send-time outbound guard for robot webhooks (rules §4): the saved URL is checked again, its
host resolved, and every address it resolves to must be public; the HTTP client then connects
to exactly the address checked here, so a DNS answer that changes between the check and the
connect (DNS rebinding) cannot steer a message into the console's own network.

A refusal is a `GuardRefused` whose `reason` is plain text without the robot's token.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from contacts.validators import DEFAULT_PORTS, check_robot_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REFUSED_URL = "the webhook URL is not allowed: {reason}"
REFUSED_ADDRESS = "{host} resolves to {ip}, which is not a public address"
REFUSED_NO_ADDRESS = "{host} resolves to no address"

# Never a public unicast destination. Python's own is_global / is_private miss several of these
# before 3.12.4 (multicast, 192.0.0.0/24, site-local, 6to4 and NAT64 forms), so they are listed.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network", 0.0.0.0 (Linux connects it to loopback)
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT; Alibaba Cloud metadata 100.100.100.200
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local; cloud metadata 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/8",  # unspecified, loopback, IPv4-compatible (mapped ones are judged below)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, Teredo
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class GuardRefused(Exception):
    """The guard will not let this webhook be reached. `reason` never holds the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PinnedAddress:
    """Where to connect for one checked webhook: `ip` is the address the guard checked; `host`
    is what goes into the Host header, TLS SNI and the certificate check."""

    scheme: str
    host: str  # lowercase, no brackets, no trailing dot
    ip: str
    port: int
    path: str  # path and query, as in the saved URL

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == DEFAULT_PORTS[self.scheme] else f"{name}:{self.port}"


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or well-known-prefix NAT64 address carries: the
    packet goes there in the end, so that is the address to judge."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """Whether `ip` is a public unicast address: not loopback, private, link-local, CGNAT,
    unspecified, multicast, reserved, documentation, or an IPv6 form of any of those."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        inner = embedded_ipv4(ip)
        if inner is not None:
            return is_public_address(inner)
        blocked: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = _BLOCKED_V6
    else:
        blocked = _BLOCKED_V4
    if any(ip in net for net in blocked):
        return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_reserved
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
    )


_cache: dict[tuple[str, int], tuple[float, list[IPAddress]]] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 1024


def forget_addresses() -> None:
    """Empty the resolver cache (tests that change what a name resolves to)."""
    with _cache_lock:
        _cache.clear()


def _resolve(host: str, port: int) -> list[IPAddress]:
    """`_lookup`, reused for ROBOT_DNS_CACHE_SECONDS: a worker sending to a thousand robots on
    one host asks the resolver once, not a thousand times. Only the lookup is cached: every
    send checks the addresses again, and connects to one of them."""
    ttl = settings.ROBOT_DNS_CACHE_SECONDS
    if ttl <= 0:
        return _lookup(host, port)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get((host, port))
    if hit and hit[0] > now:
        return hit[1]
    addresses = _lookup(host, port)
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()  # bounded: a flood of names cannot grow it
        _cache[(host, port)] = (now + ttl, addresses)
    return addresses


def _lookup(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (IP literals included: getaddrinfo reads 127.1,
    2130706433 and 0x7f000001 as 127.0.0.1, and so does the connect that would follow).
    socket.gaierror (an OSError) when the name does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and len(sockaddr) > 3 and sockaddr[3]:
            ip = ipaddress.IPv6Address(f"{ip}%{sockaddr[3]}")
        if ip not in addresses:
            addresses.append(ip)
    return addresses


def resolve_robot(kind: str, url: str) -> PinnedAddress:
    """Check `url` as a `kind` robot webhook and return the one address to connect to.

    Raises GuardRefused when the URL breaks a rule of `check_robot_url` or any address the host
    resolves to is not public (unless `settings.ROBOT_WEBHOOK_ALLOW_PRIVATE`); socket.gaierror
    when the host does not resolve (a network failure, worth another try).
    """
    try:
        url = check_robot_url(kind, url)
    except ValidationError as exc:
        raise GuardRefused(REFUSED_URL.format(reason=" ".join(exc.messages))) from None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port or DEFAULT_PORTS[scheme]
    addresses = _resolve(host, port)
    if not addresses:
        raise GuardRefused(REFUSED_NO_ADDRESS.format(host=host))
    # Every address, not just the first: a name answering one public and one private address
    # would otherwise leave the choice of target to the resolver's ordering.
    for ip in addresses:
        if not settings.ROBOT_WEBHOOK_ALLOW_PRIVATE and not is_public_address(ip):
            raise GuardRefused(REFUSED_ADDRESS.format(host=host, ip=ip))
    return PinnedAddress(
        scheme=scheme,
        host=host,
        ip=str(addresses[0]),
        port=port,
        path=f"{parts.path}?{parts.query}",
    )
