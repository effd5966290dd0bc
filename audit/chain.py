"""The hash chain over audit rows: how a row's hash is made, how a row is
appended, and how the chain is checked.

    hash = HMAC-SHA256(AUDIT_HMAC_KEY, prev_hash + payload)

`payload` is the row's content as canonical JSON (audit_payload). The key
is not in the database, so someone who can write to the database but does
not hold the key cannot make a row that verifies, nor mend the chain after
removing one.

Appending takes one statement on PostgreSQL (pgcrypto's hmac): an upsert of
the ChainHead row that sets prev_hash to the old hash and hash to the new
one (the row lock makes writers queue; in READ COMMITTED the waiting upsert
then works on the committed head, never a stale one), feeding the INSERT of
the event in the same statement. SQLite (development) takes its write lock
at BEGIN IMMEDIATE, so reading the head and writing both rows in Python
inside one transaction is as safe there.
"""

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction

from .models import AuditEvent, ChainHead

GENESIS = ""
# What appending one row costs at most, in statements (the query budgets of
# audited paths count it). SQLite: read the head, write it, insert the row,
# and BEGIN IMMEDIATE / COMMIT around them when not already in a transaction.
STATEMENTS_PER_ROW = {"postgresql": 1, "sqlite": 5}
_COLUMNS = ("at", "actor_id", "actor_role", "action", "object_type", "object_id", "patient_id", "entry_point",
            "ip", "request_id", "detail")


# A value in an INSERT ... SELECT list has no type of its own: say it.
_PG_CASTS = {"at": "::timestamptz", "actor_id": "::bigint", "patient_id": "::bigint", "ip": "::inet",
             "detail": "::jsonb"}


def _key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


def audit_payload(*, at: datetime, actor_id, actor_role, action, object_type, object_id, patient_id,
                  entry_point, ip, request_id, detail) -> str:
    """The row's content as one canonical string (the order and the
    encoding fixed, so the verifier rebuilds the same bytes from the row)."""
    return json.dumps(
        [at.astimezone(UTC).isoformat(timespec="microseconds"), actor_id, actor_role, action, object_type,
         str(object_id), patient_id, entry_point, ip, request_id, detail],
        sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    )


def chain_hash(prev_hash: str, payload: str) -> str:
    return hmac.new(_key(), (prev_hash + payload).encode(), hashlib.sha256).hexdigest()


def _pg_append(values: dict, payload: str) -> None:
    events, head = AuditEvent._meta.db_table, ChainHead._meta.db_table
    mac = "encode(hmac(convert_to({prev} || %(payload)s, 'UTF8'), %(key)s, 'sha256'), 'hex')"
    select = ", ".join(f"%({column})s{_PG_CASTS.get(column, '')}" for column in _COLUMNS)
    sql = (
        f"WITH head AS ("
        f" INSERT INTO {head} (id, prev_hash, hash) VALUES (1, '', {mac.format(prev=repr(GENESIS))})"
        f" ON CONFLICT (id) DO UPDATE SET prev_hash = {head}.hash, hash = {mac.format(prev=head + '.hash')}"
        f" RETURNING prev_hash, hash)"
        f" INSERT INTO {events} ({', '.join(_COLUMNS)}, prev_hash, hash)"
        f" SELECT {select}, head.prev_hash, head.hash FROM head"
    )
    params = {**values, "detail": json.dumps(values["detail"]), "payload": payload, "key": _key()}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _python_append(values: dict, payload: str) -> None:
    with transaction.atomic():
        prev = ChainHead.objects.filter(pk=1).values_list("hash", flat=True).first()
        new = chain_hash(prev or GENESIS, payload)
        if prev is None:
            ChainHead.objects.create(pk=1, prev_hash=GENESIS, hash=new)
        else:
            ChainHead.objects.filter(pk=1).update(prev_hash=prev, hash=new)
        AuditEvent.objects.create(**values, prev_hash=prev or GENESIS, hash=new)


def chain_append(**values) -> None:
    """Append one event (the fields of AuditEvent but the hashes)."""
    payload = audit_payload(**values)
    if connection.vendor == "postgresql":
        _pg_append(values, payload)
    else:
        _python_append(values, payload)


@dataclass(frozen=True)
class Problem:
    event_id: int | None
    what: str


def chain_problems(*, batch: int = 2000) -> Iterator[Problem]:
    """Every break in the chain, first one first: a row whose content no
    longer matches its hash (edited, or inserted without the key), a row
    whose predecessor is not the row before it (one deleted or inserted
    between), and a head that is not the last row (rows removed from the end)."""
    expected_prev, last_id = GENESIS, 0
    while True:
        rows = list(AuditEvent.objects.filter(pk__gt=last_id).order_by("pk").values(
            "pk", *_COLUMNS, "prev_hash", "hash")[:batch])
        if not rows:
            break
        for row in rows:
            values = {c: row[c] for c in _COLUMNS}
            if row["prev_hash"] != expected_prev:
                yield Problem(row["pk"], "its link to the row before it is broken: a row was deleted or "
                                         "inserted just before it, or its link edited")
            elif not hmac.compare_digest(row["hash"], chain_hash(row["prev_hash"], audit_payload(**values))):
                yield Problem(row["pk"], "its content does not match its hash: the row was edited, or "
                                         "written without the audit key")
            expected_prev, last_id = row["hash"], row["pk"]
    head = ChainHead.objects.filter(pk=1).first()
    if (head.hash if head else GENESIS) != expected_prev:
        yield Problem(None, "the chain's head is not its last row: rows were removed from the end")
