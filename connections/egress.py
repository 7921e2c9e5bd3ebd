"""The one outbound address policy: where Spaceport may connect on a customer's behalf.

Every address a customer or an organization admin can choose (a store's endpoint, a token URL,
a webhook) is something Spaceport's servers will connect to from inside the operator's network.
Without a policy that makes Spaceport a probe into that network and its cloud metadata service.
:func:`vet` resolves a host once and refuses it if any address it resolves to is:

- a cloud metadata address or name (never allowed, whatever the operator configures);
- inside the host's own network: loopback, link-local, unspecified (loopback only where the
  operator names a loopback range in ``SPACEPORT_ALLOWED_PRIVATE_NETWORKS``);
- reserved: multicast, broadcast, documentation, benchmarking and other special-use ranges;
- private (RFC 1918, carrier-grade NAT, IPv6 unique local) and not inside a network the operator
  names in ``SPACEPORT_ALLOWED_PRIVATE_NETWORKS``.

IPv4-mapped, IPv4-compatible, 6to4 and NAT64 IPv6 addresses are judged by the IPv4 address they
carry, and the numeric spellings ``inet_aton`` accepts (``2130706433``, ``0x7f.1``,
``017700000001``) by the address they spell. The transports in :mod:`connections.egress_http`
connect to exactly the addresses vetted here, so a name cannot resolve to something else between
the check and the connection.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, overload
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

from connections.errors import StorageError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HOST_NETWORK = "this address is inside the host's own network"
METADATA_ADDRESS = "this is a cloud metadata address"
METADATA_NAME = "this is a cloud metadata name"
RESERVED = "this address is reserved for special use, not for a storage service"
PRIVATE = "this address is in a private network not allowed by the operator"
OPERATOR_HINT = (
    "For a store inside your own network, the Spaceport operator must name its network in "
    "SPACEPORT_ALLOWED_PRIVATE_NETWORKS."
)
HINT = f"Use the service's public address. {OPERATOR_HINT}"

# Instance metadata services: AWS (IPv4, IPv6, ECS and EKS pod identity), Azure, Google, Oracle, Alibaba.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
        "192.0.0.192",
    )
)
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# One part of an IPv4 address as inet_aton reads it: hexadecimal, octal or decimal.
NUMERIC_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


class AddressRefused(StorageError):
    """A destination the policy refuses; raised before anything is sent to it.

    ``reason`` is the short why ("this address is inside the host's own network"), for a field
    error; ``message`` names the host and the address as well. As a :class:`StorageError` it
    reaches every caller of a provider the way other storage failures do (permanent: retrying
    cannot help). It is deliberately not an ``OSError``: HTTP libraries retry those.
    """

    def __init__(self, host: str, address: str, reason: str) -> None:
        shown = host if address in ("", host) else f"{host} ({address})"
        super().__init__("address_refused", f"Spaceport may not connect to {shown}: {reason}.", HINT)
        self.host = host
        self.address = address
        self.reason = reason

    @property
    def operator_may_allow(self) -> bool:
        """Whether listing a network in SPACEPORT_ALLOWED_PRIVATE_NETWORKS would let this through.

        Only private and loopback addresses can be allowed; metadata, link-local and reserved ones
        never can, so pointing people at the setting for those would send them the wrong way.
        """
        try:
            address = normalized(ipaddress.ip_address(self.address or self.host))
        except ValueError:
            return False
        return self.reason == PRIVATE or (self.reason == HOST_NETWORK and address.is_loopback)


@dataclass(frozen=True)
class Destination:
    """One vetted address to connect to, as ``socket.connect`` takes it."""

    family: socket.AddressFamily
    address: str
    port: int


def normalized(address: IPAddress) -> IPAddress:
    """The address that decides: an IPv4 address carried inside an IPv6 one, without a zone."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if 1 < int(address) < 2**32:
        return ipaddress.IPv4Address(int(address))
    return address


def numeric_host(host: str) -> IPAddress | None:
    """The address a numeric host spells (dotted, hex, octal, 1 to 4 parts, IPv6), else None."""
    literal = spelled_address(host)
    return None if literal is None else normalized(literal)


def spelled_address(host: str) -> IPAddress | None:
    """The address as written, before IPv6 forms are reduced to the IPv4 address they carry."""
    name = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    parts = name.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    if not all(NUMERIC_PART.fullmatch(part) for part in parts):
        return None
    numbers = [
        int(part, 16) if part[:2].lower() == "0x" else int(part, 8 if part.startswith("0") else 10) for part in parts
    ]
    if any(n > 255 for n in numbers[:-1]):
        return None
    last_bits = 8 * (5 - len(numbers))
    if numbers[-1] >= 2**last_bits:
        return None
    value = 0
    for number in numbers[:-1]:
        value = value << 8 | number
    value = value << last_bits | numbers[-1]
    return ipaddress.IPv4Address(value)


def allowed_networks() -> tuple[Network, ...]:
    return tuple(settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS)


def allowed(address: IPAddress) -> bool:
    """Whether ``address`` lies inside a network the operator allowed."""
    address = normalized(address)
    return any(address.version == net.version and address in net for net in allowed_networks())


def refusal(address: IPAddress, allowed: Iterable[Network] = ()) -> str | None:
    """Why the policy refuses ``address`` (already normalized), or None when it may be reached."""
    if address in METADATA_ADDRESSES:
        return METADATA_ADDRESS
    allowed = tuple(allowed)
    inside_allowed = any(address.version == net.version and address in net for net in allowed)
    if address.is_loopback:
        return None if inside_allowed else HOST_NETWORK
    if address.is_link_local or address.is_unspecified:
        return HOST_NETWORK
    if any(address.version == net.version and address in net for net in PRIVATE_NETWORKS):
        return None if inside_allowed else PRIVATE
    if address.is_multicast or address.is_reserved or not address.is_global:
        return RESERVED
    return None


def is_metadata_name(host: str) -> bool:
    name = host.strip().rstrip(".").lower()
    return name in METADATA_NAMES or name.endswith(".metadata.google.internal")


def check_address(host: str, address: IPAddress) -> None:
    """Raise :class:`AddressRefused` when the policy refuses ``address`` (as ``host`` resolved)."""
    why = refusal(normalized(address), allowed_networks())
    if why is not None:
        raise AddressRefused(host, str(address), why)


def found_in(exc: BaseException | None) -> AddressRefused | None:
    """The refusal behind an error a library wrapped it in (botocore keeps it as ``error``)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, AddressRefused):
            return exc
        seen.add(id(exc))
        wrapped = getattr(exc, "kwargs", {}).get("error") if isinstance(getattr(exc, "kwargs", None), dict) else None
        exc = wrapped if isinstance(wrapped, BaseException) else exc.__cause__ or exc.__context__
    return None


def vet(host: str, port: int) -> list[Destination]:
    """Resolve ``host`` once and return where to connect; refuse if any address it has is refused.

    Every address is judged, not only the first: a name that answers with one public and one
    internal address could otherwise be connected to the internal one on a retry. Raises
    ``socket.gaierror`` when the name does not resolve.
    """
    name = host.strip().strip("[]")
    if is_metadata_name(name):
        raise AddressRefused(host, "", METADATA_NAME)
    literal = spelled_address(name)
    if literal is not None:
        check_address(host, literal)
        family = socket.AF_INET if literal.version == 4 else socket.AF_INET6
        return [Destination(family, str(literal), port)]
    found: list[Destination] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(name, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        check_address(host, address)
        destination = Destination(socket.AddressFamily(family), str(sockaddr[0]), port)
        if destination not in found:
            found.append(destination)
    return found


@overload
def port_of(parts: SplitResult, *, default: Literal[True], strict: bool = False) -> int: ...
@overload
def port_of(parts: SplitResult, *, default: Literal[False] = False, strict: bool = False) -> int | None: ...
def port_of(parts: SplitResult, *, default: bool = False, strict: bool = False) -> int | None:
    """The port a URL names, or with ``default`` the scheme's own (443 for https, 80 otherwise).

    A port that is not a number between 0 and 65535 raises ValueError with ``strict``; otherwise
    it counts as none named, for callers whose URL is refused elsewhere if it matters.
    """
    try:
        port = parts.port
    except ValueError:
        if strict:
            raise
        port = None
    if port is None and default:
        return 443 if parts.scheme == "https" else 80
    return port


def check_url(url: str) -> None:
    """Input-time check of a URL Spaceport will connect to: raises :class:`AddressRefused`.

    A name that does not resolve (yet) passes here: Spaceport cannot connect to it anyway, and
    every connection is vetted again when it is made.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        vet(host, port_of(parts, default=True))
    except OSError:
        return
