"""Database helpers shared by the apps: PostgreSQL-only constraints, mapping
constraint violations back to the domain errors they stand for, and the
database's faults: which errors mean "the database is away or timed out"
(answered 503) and the bounded retry of transactions that lost a deadlock
or a serialization conflict."""

import functools
import logging
import random
import time

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import DEFAULT_DB_ALIAS, IntegrityError, InterfaceError, OperationalError, connections, transaction
from django.db.models import Func

logger = logging.getLogger("healthsvc.db")


class TsTzRange(Func):
    """``tstzrange(start, end)``: a half-open ``[start, end)`` time range."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint that exists on PostgreSQL and is a no-op elsewhere.

    SQLite has no ``EXCLUDE USING gist``; there the booking services' row
    locks (BEGIN IMMEDIATE serialises writers) carry the same rule.
    """

    @staticmethod
    def _is_postgres(schema_editor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        return super().constraint_sql(model, schema_editor) if self._is_postgres(schema_editor) else None

    def create_sql(self, model, schema_editor):
        return super().create_sql(model, schema_editor) if self._is_postgres(schema_editor) else None

    def remove_sql(self, model, schema_editor):
        return super().remove_sql(model, schema_editor) if self._is_postgres(schema_editor) else None

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


def violated_constraint(exc: IntegrityError) -> str:
    """The name (PostgreSQL) or message (SQLite) that identifies the violated
    constraint of an IntegrityError, for matching against known names."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    return str(exc)


# --- faults ---------------------------------------------------------------------------

# SQLSTATEs of a transaction that lost to a concurrent one and may simply run
# again: deadlock_detected and serialization_failure. A lock or statement
# timeout (55P03, 57014) is not retried: the wait already took its bound.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None) or getattr(exc, "sqlstate", None)


def is_database_unavailable(exc: BaseException) -> bool:
    """True for the errors that mean the database is away, dropped the
    connection, or refused to wait longer (OperationalError: connection refused
    or lost, terminated backend, statement or lock timeout, deadlock;
    InterfaceError: a closed connection). Nothing was committed by the request
    that met one: the transaction it was in is gone. Answered 503."""
    return isinstance(exc, (OperationalError, InterfaceError))


def is_retryable_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the whole transaction may run again."""
    return isinstance(exc, OperationalError) and _sqlstate(exc) in RETRYABLE_SQLSTATES


def retry_on_conflict(func=None, *, using: str = DEFAULT_DB_ALIAS):
    """Run the decorated transaction again, up to DB_CONFLICT_ATTEMPTS times in
    all, when it loses a deadlock or a serialization conflict, after a short
    jittered backoff (DB_CONFLICT_BACKOFF_MS doubling, full jitter).

    Only when it owns the outermost transaction: called inside an outer
    atomic block, the error goes up to whoever owns that one (a retry there
    would run on a transaction PostgreSQL has already aborted). Put it above
    @transaction.atomic. After the last attempt the error is raised (a 503)."""
    if func is None:
        return functools.partial(retry_on_conflict, using=using)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if transaction.get_connection(using).in_atomic_block:
            return func(*args, **kwargs)
        attempts = max(settings.DB_CONFLICT_ATTEMPTS, 1)
        for attempt in range(1, attempts + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == attempts or not is_retryable_conflict(exc):
                    raise
                pause = random.uniform(0, settings.DB_CONFLICT_BACKOFF_MS * 2 ** (attempt - 1)) / 1000
                logger.warning("%s: %s (SQLSTATE %s), attempt %d of %d; again in %.0f ms",
                               func.__qualname__, type(exc.__cause__).__name__, _sqlstate(exc),
                               attempt, attempts, pause * 1000)
                time.sleep(pause)
        raise AssertionError("unreachable")

    return wrapper
