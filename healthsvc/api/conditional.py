"""Entity tags for one resource's JSON, and If-Match on its writes.

The tag is a hash of the representation the GET answers (RFC 9110 8.8.3), so
it moves with every change a client can see and with nothing else. A write
that sends If-Match is done only while the resource still has that tag: the
tag is recomputed under a row lock (`current_etag` must take it), in the
write's transaction, so two clients that read the same version cannot both
write over it; the second gets 412 PRECONDITION_FAILED and nothing is
written. A write without If-Match works as before (the header is optional).
"""

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.db import transaction
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from healthsvc.exceptions import ApplicationError

T = TypeVar("T")


class PreconditionFailedError(ApplicationError):
    code = "PRECONDITION_FAILED"
    status = 412
    default_message = "The resource has changed since you read it (If-Match does not match its ETag); nothing was written."


def body_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def representation_etag(data) -> str:
    """The strong ETag of `data` as the JSON renderer writes it."""
    return body_etag(JSONRenderer().render(data))


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def none_match(request, etag: str) -> bool:
    """If-None-Match names `etag` (weak comparison) or is `*`."""
    tags = _tags(request.headers.get("If-None-Match", ""))
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def etagged_response(request, data) -> Response:
    """200 with `data` and its ETag, or 304 when the client already holds it."""
    etag = representation_etag(data)
    if none_match(request, etag):
        return Response(status=304, headers={"ETag": etag})
    return Response(data, headers={"ETag": etag})


def write_if_match(request, *, current_etag: Callable[[], str], write: Callable[[], T]) -> T:
    """`write()`, unless the request's If-Match names neither `*` nor the
    resource's current tag (strong comparison: a weak tag never matches).
    Raises PreconditionFailedError. `current_etag` must lock the rows it reads
    (select_for_update) so no other write lands between the check and `write`."""
    sent = request.headers.get("If-Match")
    if sent is None:
        return write()
    with transaction.atomic():
        tags = _tags(sent)
        etag = current_etag()
        if "*" not in tags and etag not in tags:
            raise PreconditionFailedError()
        return write()
