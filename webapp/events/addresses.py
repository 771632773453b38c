"""Where an event may be POSTed: HTTPS to a host whose every address is public. Checked when an endpoint is
registered and again at each delivery, whose connection goes to the address vetted here (a DNS answer that changes
between the check and the request cannot turn it to a private one). No redirect is followed (deliveries.py)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from webapp.events.errors import EventsError


def vet_url(url: str, allow_private: bool) -> str:
    """The URL, trimmed, if events may go there; else EventsError saying why. The host is resolved."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise EventsError("The URL must start with https:// (events are signed, and sent only over HTTPS).", "url")
    if not parts.hostname:
        raise EventsError("The URL has no host name.", "url")
    if parts.username or parts.password:
        raise EventsError("Put no user name or password in the URL: the signature authenticates each event.", "url")
    try:
        port = parts.port
    except ValueError:
        raise EventsError("The URL's port is not a number between 1 and 65535.", "url") from None
    public_address(parts.hostname, port or (443 if parts.scheme == "https" else 80), allow_private)
    return url


def public_address(host: str, port: int, allow_private: bool) -> str:
    """An address of `host` to connect to, if every address it resolves to is public (unless allowed)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise EventsError(f"The host {host} could not be found (DNS).", "url") from None
    addresses = [info[4][0] for info in found]
    if not allow_private:
        for address in addresses:
            if not _public(address):
                raise EventsError(f"{host} resolves to {address}, a private, loopback or reserved address: events "
                                  "are sent only to public addresses.", "url")
    return addresses[0]


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
