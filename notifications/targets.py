"""Where a webhook may go. Server-side request forgery: a staff member (or a stolen admin session)
must not make the server call its own network, so hosts resolving to private, loopback, link-local
or otherwise non-public addresses are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS is on."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(Exception):
    pass


def _not_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def target_check(url: str) -> None:
    """Raise TargetRefused unless `url` is an http(s) URL whose host resolves only to public addresses
    (any address when private targets are allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Only http and https URLs with a host can receive webhooks.")
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise TargetRefused(f"The host {parts.hostname} does not resolve: {error}.") from None
    refused = sorted(address for address in addresses if _not_public(address))
    if refused:
        raise TargetRefused(
            f"{parts.hostname} resolves to a private, loopback or link-local address ({', '.join(refused)}); "
            "set WEBHOOK_ALLOW_PRIVATE_TARGETS to allow it."
        )
