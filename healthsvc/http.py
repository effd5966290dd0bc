"""Facts about the HTTP request that several apps need alike."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The client's address, as far as this deployment can know it.

    With NUM_PROXIES = 0 (the default) it is the socket's peer, REMOTE_ADDR:
    X-Forwarded-For is ignored, since any client can send one. Behind N
    proxies that each append the address they received from, the client is
    the N-th entry from the right; entries further left were written by the
    client and are never trusted. A request that carries fewer entries than
    that did not come through the proxies, so its peer address is used.
    Rate limits, lockouts and (later) audit entries all key on this.
    """
    remote = request.META.get("REMOTE_ADDR") or ""
    hops = settings.NUM_PROXIES
    if not hops:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < hops:
        return remote
    # Only an address counts (a proxy that writes "ip:port", or a value that is
    # no address at all, would otherwise make a new key for every variant).
    try:
        return str(ipaddress.ip_address(chain[-hops]))
    except ValueError:
        return remote
