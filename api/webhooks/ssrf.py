"""Webhook URLs may only reach the public internet.

A subscription URL whose host resolves to a loopback, private, link-local (cloud metadata at
169.254.169.254), multicast, reserved or unspecified address is refused when it is saved, and
again when a delivery is sent: the host is resolved again and every address checked before the
socket connects to it, so a name that resolved to a public address at save time and to an
internal one later (DNS rebinding) is refused without a packet sent to the internal address.
Redirects are not followed and no proxy from the environment is used.

``WMS_WEBHOOKS_ALLOWED_NETWORKS`` (settings: a list of addresses or CIDR networks, empty by
default) exempts networks on purpose, e.g. ``["127.0.0.1/32"]`` for a local test receiver or
``["10.20.0.0/16"]`` for an ERP on the merchant's own network.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.utils.translation import gettext as _

from api.exceptions import WebhookError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


#: Addresses of one host tried in turn before a delivery attempt gives up.
CONNECT_ATTEMPTS = 3


class AddressRefused(OSError):
    """The webhook host is (or resolved to) an address webhooks may not reach."""


#: Ranges Python's ``is_global`` lets through but that reach inside: 6to4 (2002::/16 embeds any
#: IPv4 address, 127.0.0.1 and 169.254.169.254 included) and the deprecated site-local fec0::/10.
_NEVER = (ipaddress.ip_network("2002::/16"), ipaddress.ip_network("fec0::/10"))


def _exempt_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in getattr(settings, "WMS_WEBHOOKS_ALLOWED_NETWORKS", None) or []:
        networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
    return networks


def address_allowed(address: str) -> bool:
    """A public unicast address, or one inside ``WMS_WEBHOOKS_ALLOWED_NETWORKS``."""
    try:
        ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _exempt_networks()):
        return True
    if any(ip in network for network in _NEVER):
        return False
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def check_url(url: str) -> None:
    """Refuse (``WebhookError`` on ``url``) a URL whose host does not resolve, or resolves to
    any address webhooks may not reach."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = resolve(host, port)
    except (OSError, ValueError, UnicodeError):
        raise WebhookError(
            _("The webhook host %(host)s cannot be resolved.") % {"host": host}, field="url"
        ) from None
    refused = [address for address in addresses if not address_allowed(address)]
    if refused or not addresses:
        raise WebhookError(
            _(
                "Webhook URLs must reach a public address; %(host)s is %(addresses)s "
                "(a loopback, private, link-local, multicast or reserved address)."
            )
            % {"host": host, "addresses": ", ".join(refused)},
            field="url",
        )


def _checked_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):  # noqa: SLF001
    """``socket.create_connection`` that connects only to allowed addresses: the host is
    resolved here and every address it resolves to is checked before any packet goes to it
    (no connection is opened to an internal address, not even a handshake); the allowed ones
    are tried in turn."""
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    refused = sorted({info[4][0] for info in infos if not address_allowed(info[4][0])})
    if refused or not infos:
        raise AddressRefused(
            _("Refused to send to %(address)s: not a public address.")
            % {"address": ", ".join(refused) or host}
        )
    last_error: OSError | None = None
    # a few addresses at most: each may take the whole timeout, and a delivery's lease is short
    for family, kind, proto, _name, sockaddr in infos[:CONNECT_ATTEMPTS]:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # noqa: SLF001
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    raise last_error or OSError(f"cannot connect to {host}")


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_connection


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req, context=self._context)  # noqa: SLF001 - the handler's own TLS context


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is the receiver's answer, logged as a failure


def opener() -> urllib.request.OpenerDirector:
    """An opener that connects only to allowed addresses, follows no redirect and uses no
    proxy from the environment."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _HTTPHandler, _HTTPSHandler(), _NoRedirect
    )
