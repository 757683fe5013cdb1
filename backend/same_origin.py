"""Who may talk to the servers from a browser: the Host allow-list and the Origin checks.

* **Host**: a web page on another site can make the browser send requests to 127.0.0.1 (a
  form, a ``fetch`` in no-cors mode) and, with a DNS name it re-points at 127.0.0.1 (DNS
  rebinding), even read the answers, because the browser then thinks the name is the page's own
  origin. Such requests carry the attacker's name in ``Host``. Both servers (UI and ingest)
  answer only to the names in FLOWSCOPE_ALLOWED_HOSTS (default: the names they listen on),
  ``localhost`` and ``*.localhost``, and to any IP address (a page whose origin is an IP address
  is that server's own page: rebinding needs a name). Anything else gets 421.
* **Origin**: browsers send it with websocket upgrades and with every cross-origin POST. The UI's
  websocket accepts its own origin (or FLOWSCOPE_ALLOWED_ORIGINS); the ingest service, which no
  page of ours ever calls, accepts none but the configured ones. The metaflow client sends none.

Behind a reverse proxy in FLOWSCOPE_TRUSTED_PROXIES, X-Forwarded-Host stands for Host.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from backend.errors import error_response
from contract.settings import parse_origins

WILDCARD_LISTEN = frozenset({"", "0.0.0.0", "::", "*"})


def hostname(host: str) -> str:
    """The name part of a Host value ("[::1]:8083" -> "::1", "Example.COM.:80" -> "example.com")."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


def default_hosts(listen: Iterable[str]) -> frozenset[str]:
    """The names a server listening on these addresses is reached by, without configuration."""
    names: set[str] = set()
    for given in listen:
        address = (given or "").strip().lower()
        if address in WILDCARD_LISTEN:
            names.update(n.lower() for n in (socket.gethostname(), socket.getfqdn()) if n)
        elif not is_ip(hostname(address)):
            names.add(hostname(address))
    return frozenset(names)


def parse_names(text: str | None) -> frozenset[str]:
    return frozenset(hostname(p) for p in (text or "").replace(",", " ").split() if p.strip())


@dataclass(frozen=True)
class SameOrigin:
    hosts: frozenset[str]            # configured or default names; IPs and localhost always pass
    any_host: bool                   # FLOWSCOPE_ALLOWED_HOSTS=*
    origins: frozenset[str]          # extra origins allowed (FLOWSCOPE_ALLOWED_ORIGINS)
    trusted: Callable[[web.Request], bool]   # the peer is a trusted proxy (X-Forwarded-Host)

    @classmethod
    def build(cls, allowed_hosts: str | None, listen: Iterable[str], allowed_origins: str | None,
              trusted: Callable[[web.Request], bool]) -> SameOrigin:
        configured = (allowed_hosts or "").strip()
        return cls(hosts=parse_names(configured) | default_hosts(listen), any_host=configured == "*",
                   origins=parse_origins(allowed_origins), trusted=trusted)

    def host(self, request: web.Request) -> str:
        """The Host the browser used (X-Forwarded-Host from a trusted proxy)."""
        forwarded = request.headers.get("X-Forwarded-Host")
        if forwarded and self.trusted(request):
            return forwarded.split(",", 1)[0].strip()
        return request.headers.get("Host", "")

    def host_allowed(self, request: web.Request) -> bool:
        raw = self.host(request)
        if self.any_host or not raw:
            return True   # no Host at all: not a browser (browsers always send one)
        name = hostname(raw)
        return is_ip(name) or name == "localhost" or name.endswith(".localhost") or name in self.hosts

    def origin_allowed(self, request: web.Request, same_origin_ok: bool) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True   # not sent by a browser (or a same-origin GET)
        origin = origin.strip().lower()
        if origin in self.origins:
            return True
        if not same_origin_ok or origin == "null":
            return False
        return urlsplit(origin).netloc == self.host(request).strip().lower()


def misdirected(request: web.Request, policy: SameOrigin) -> web.Response:
    shown = policy.host(request)[:100]
    return error_response(421, f"this server does not answer to the host name {shown!r}: add it to "
                               "FLOWSCOPE_ALLOWED_HOSTS if it is one of its names (docs/security.md)")


def host_check(policy: SameOrigin) -> Callable[[web.Request], web.Response | None]:
    """The Host check as a function (None: allowed), for a middleware that runs it first (the app's
    authentication middleware: one layer fewer per request than a middleware of its own)."""
    def check(request: web.Request) -> web.Response | None:
        return None if policy.host_allowed(request) else misdirected(request, policy)
    return check

