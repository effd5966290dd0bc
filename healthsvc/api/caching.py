"""The public catalogue's answers (clinics, doctors, a doctor's free slots),
kept in the shared cache and dropped when what they show changes; with an
ETag, so a client that sends it back in If-None-Match gets a 304.

Each cached answer remembers the version stamps it was computed under: the
catalogue's (clinics, doctors) and, for slot lists, the doctor's or all
slots'. A change bumps the stamps it touches after its transaction commits
(`catalogue_changed`), so the next read recomputes; one MGET reads the
stamps and the answer together. An answer is stored with the stamps read
before it was computed, so a read racing a change can only store an answer
that is already stale, never one that looks fresh. Answers also expire after
CATALOGUE_CACHE_SECONDS (slot lists leave out slots that have begun), and
staff (who see inactive clinics and doctors) are never served from it.
Only these answers, and only to anonymous readers, escape the no-store that
every other response gets.

One object's answer (a clinic, a doctor, a slot) also carries Last-Modified:
the newest `updated_at` of the rows it shows (`Dated`), and If-Modified-Since
gives 304 when no If-None-Match was sent (RFC 9110 13.1.3). Lists carry none:
a row leaving a list (closed, begun, filtered out) changes no `updated_at` of
the rows left, so a date would say "unchanged" of a changed list; their ETag
says it rightly.
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import http_date, parse_http_date_safe
from rest_framework.renderers import JSONRenderer

from healthsvc.api.conditional import body_etag, none_match
from healthsvc.cache import CACHE_DOWN_ERRORS, cache_down, unless_cache_down
from healthsvc.db_router import replica_configured, replica_reads
from healthsvc.middleware import cacheable_when_anonymous

CATALOGUE = "catalogue:v"
ALL_SLOTS = "catalogue:v:slots"


def doctor_slots_stamp(doctor_id: int) -> str:
    return f"catalogue:v:slots:doctor:{doctor_id}"


def catalogue_changed(*, doctor_ids: Iterable[int] = (), catalogue: bool = False) -> None:
    """Mark what changed: the slots of `doctor_ids`, or with `catalogue` the
    clinics and doctors themselves. Call it inside the change's transaction;
    the stamps move once it commits (at once outside a transaction)."""
    stamps = [CATALOGUE] if catalogue else []
    doctor_ids = set(doctor_ids)
    if doctor_ids:
        stamps += [ALL_SLOTS, *(doctor_slots_stamp(pk) for pk in doctor_ids)]
    if stamps:
        transaction.on_commit(lambda: _bump(stamps))


def _bump(stamps: list[str]) -> None:
    # After the commit: a cache that is down must not turn a saved change into
    # an error. Answers cached before are then dropped by their expiry
    # (CATALOGUE_CACHE_SECONDS) at the latest.
    with unless_cache_down("marking the catalogue changed"):
        cache.set_many({stamp: uuid.uuid4().hex for stamp in stamps}, timeout=None)


@dataclass(frozen=True)
class Dated:
    """An answer with the newest `updated_at` among the rows it shows."""

    data: dict
    modified: datetime


def latest(*stamps: datetime) -> datetime:
    return max(stamps)


def _unchanged_since(request, last_modified: str | None) -> bool:
    """If-Modified-Since, read only when the client sent no If-None-Match."""
    if not last_modified or "If-None-Match" in request.headers:
        return False
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and parse_http_date_safe(last_modified) <= since


def _render(compute: Callable[[], dict | list | Dated]) -> tuple[bytes, str | None]:
    """The answer as JSON and its Last-Modified (HTTP date) if it is `Dated`;
    its reads go to the read replica when there is one."""
    if replica_configured():
        with replica_reads():
            answer = compute()
    else:
        answer = compute()
    if isinstance(answer, Dated):
        return JSONRenderer().render(answer.data), http_date(answer.modified.timestamp())
    return JSONRenderer().render(answer), None


def catalogue_answer(request, compute: Callable[[], dict | list | Dated], *, stamps: Iterable[str] = ()) -> HttpResponse:
    """The JSON answer `compute()` gives, from the cache while the catalogue and
    `stamps` are unchanged; 304 when the client already holds it (its ETag, or
    for a `Dated` answer its Last-Modified)."""
    ttl = settings.CATALOGUE_CACHE_SECONDS
    user = request.user
    cacheable = ttl > 0 and not (user and user.is_authenticated and user.role == "admin") and (
        request.accepted_renderer.format == "json")
    if not cacheable:
        body, modified = _render(compute)
        etag = body_etag(body)
    else:
        stamps = [CATALOGUE, *stamps]
        key = "catalogue:answer:" + hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
        try:
            found = cache.get_many([*stamps, key])
        except CACHE_DOWN_ERRORS as exc:
            cache_down(exc, "reading the catalogue")
            found, ttl = {}, 0  # computed from the database, and not stored
        current = tuple(found.get(stamp) for stamp in stamps)
        entry = found.get(key)
        # (An entry of three items predates Last-Modified: computed afresh.)
        if entry is not None and len(entry) == 4 and entry[0] == current:
            _, etag, body, modified = entry
        else:
            body, modified = _render(compute)
            etag = body_etag(body)
            if ttl:
                with unless_cache_down("storing a catalogue answer"):
                    cache.set(key, (current, etag, body, modified), ttl)
    # Staff get another answer at the same URL: no shared cache may hand one to the other.
    headers = {"ETag": etag, "Vary": "Authorization, Cookie"}
    if modified:
        headers["Last-Modified"] = modified
    # An anonymous reader may keep it (and revalidate with the ETag); anyone
    # signed in gets it no-store (healthsvc.middleware.NoStoreMiddleware).
    if none_match(request, etag) or _unchanged_since(request, modified):
        return cacheable_when_anonymous(HttpResponseNotModified(headers=headers))
    return cacheable_when_anonymous(HttpResponse(body, content_type="application/json", headers=headers))
