"""Idempotency-Key support: a client that retries a request (after a timeout, a
dropped connection) gets the first answer back, and the work is done once.

The key row and the work share one transaction. A second request with the same
key inserts the same (user, key) and so waits on the unique index until the
first commits (then it reads and replays the stored answer) or rolls back
(then it goes ahead itself). Only answers of work that succeeded are stored:
a refusal raises, the transaction rolls back and the key stays free.
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from healthsvc.db import retry_on_conflict
from scheduling.exceptions import IdempotencyKeyInvalidError, IdempotencyKeyReusedError
from scheduling.models import IdempotencyKey

IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")  # printable ASCII, e.g. a UUID


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: dict
    replayed: bool = False


def idempotency_request_hash(*, scope: str, payload) -> str:
    """SHA-256 of the endpoint and the request body as canonical JSON (key order
    and whitespace do not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(f"{scope}\n{canonical}".encode()).hexdigest()


def _key_clean(key: str) -> str:
    key = key.strip()
    if not _KEY_PATTERN.fullmatch(key):
        message = "Use 1 to 255 printable ASCII characters, e.g. a UUID."
        raise IdempotencyKeyInvalidError(extra={"errors": {IDEMPOTENCY_HEADER: [message]}})
    return key


def _key_claim(*, user: User, key: str, request_hash: str) -> IdempotencyKey | None:
    """Insert this request's key row and return None, or return the committed row
    of an earlier request with the same key. Call inside a transaction.

    One statement: an insert that, on the (user, key) index, takes over a row
    older than the TTL and leaves a live one alone (`RETURNING` says which).
    It waits while another transaction holds an uncommitted row with this key."""
    meta, ops = IdempotencyKey._meta, connection.ops
    table, quote = ops.quote_name(meta.db_table), ops.quote_name
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('user_id')}, {quote('key')}, {quote('request_hash')}, "
            f"{quote('created_at')}) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT ({quote('user_id')}, {quote('key')}) DO UPDATE SET "
            f"{quote('request_hash')} = excluded.{quote('request_hash')}, "
            f"{quote('created_at')} = excluded.{quote('created_at')}, "
            f"{quote('response_status')} = NULL, {quote('response_body')} = NULL "
            f"WHERE {table}.{quote('created_at')} < %s RETURNING {quote('id')}",
            [user.pk, key, request_hash, ops.adapt_datetimefield_value(now),
             ops.adapt_datetimefield_value(now - IDEMPOTENCY_KEY_TTL)],
        )
        claimed = cursor.fetchone() is not None
    if claimed:
        return None
    return IdempotencyKey.objects.get(user=user, key=key)


def idempotency_key_run(
    *, user: User, key: str | None, scope: str, payload, call: Callable[[], tuple[int, dict]]
) -> IdempotentResponse:
    """Run `call` (returning the response status and JSON body) once per user and
    key, and replay its answer to retries within IDEMPOTENCY_KEY_TTL. Without a key,
    just run it. Raises IdempotencyKeyInvalidError, IdempotencyKeyReusedError (same
    key, different body) and whatever `call` raises, in which case nothing is stored."""
    if key is None:
        status, body = call()
        return IdempotentResponse(status=status, body=body)
    key = _key_clean(key)
    return _run_with_key(user=user, key=key, request_hash=idempotency_request_hash(scope=scope, payload=payload),
                         call=call)


# One transaction for the key row and the work: see the module docstring. It is
# the outermost one, so a deadlock in the work runs the whole of it again here.
@retry_on_conflict
@transaction.atomic
def _run_with_key(*, user: User, key: str, request_hash: str, call: Callable[[], tuple[int, dict]]):
    earlier = _key_claim(user=user, key=key, request_hash=request_hash)
    if earlier is not None:
        if earlier.request_hash != request_hash:
            raise IdempotencyKeyReusedError()
        return IdempotentResponse(status=earlier.response_status, body=earlier.response_body, replayed=True)
    status, body = call()
    IdempotencyKey.objects.filter(user=user, key=key).update(response_status=status, response_body=body)
    return IdempotentResponse(status=status, body=body)


def idempotency_keys_purge_expired(*, now: datetime | None = None) -> int:
    """Delete the keys older than IDEMPOTENCY_KEY_TTL; returns how many went."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
