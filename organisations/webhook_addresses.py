"""Where a webhook may be sent: an https URL on a public address.

Endpoints are configured by administrators, yet a URL is still checked twice: when it is
saved (the scheme and, for a literal address, the address: an error on the field `url`)
and before every POST (the host name resolved, every address it resolves to checked), so
that a name that later points inside the platform's network (a database, Redis, a cloud
metadata service at 169.254.169.254) is refused rather than POSTed to.

WEBHOOK_ALLOW_LOCAL (development and tests only) lets plain http and private, loopback
and link-local addresses through.

Left open: DNS rebinding within the instant between the check and the connection (the
connection resolves the name again). Closing it means connecting to the checked address
while keeping the name for TLS, which `requests` does not offer simply; outbound traffic
should also be limited by the network (an egress firewall or proxy).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["address_is_public", "webhook_url_check"]


def address_is_public(address: str) -> bool:
    """Whether `address` (IPv4 or IPv6) is a globally routed unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def webhook_url_check(url: str, *, resolve: bool) -> None:
    """Refuse, with a ValidationError on the field `url`, a URL a webhook may not go to:
    not https (unless WEBHOOK_ALLOW_LOCAL), without a host, with credentials, or on an
    address that is not public (unless WEBHOOK_ALLOW_LOCAL). With `resolve`, the host
    name is looked up and every address it has must be public."""
    allow_local = settings.WEBHOOK_ALLOW_LOCAL
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in schemes:
        raise ValidationError(
            {"url": _("A webhook URL must start with https://.")}, code="webhook_scheme"
        )
    if not parts.hostname:
        raise ValidationError({"url": _("A webhook URL needs a host.")}, code="webhook_host")
    if parts.username or parts.password:
        raise ValidationError(
            {"url": _("A webhook URL may not hold a user name or password.")},
            code="webhook_credentials",
        )
    if allow_local:
        return
    for address in _addresses(parts.hostname, parts.port, resolve=resolve):
        if not address_is_public(address):
            raise ValidationError(
                {"url": _("A webhook URL may not point to a private or local address.")},
                code="webhook_address",
            )


def _addresses(host: str, port: int | None, *, resolve: bool) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass  # a name, not a literal address
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return ["127.0.0.1"]
    if not resolve:
        return []
    try:
        found = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise ValidationError(
            {
                "url": _("The webhook's host name could not be resolved (%(error)s).")
                % {"error": error}
            },
            code="webhook_dns",
        ) from error
    return [str(info[4][0]) for info in found]
