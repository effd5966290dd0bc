"""Reads of the public catalogue go to a read replica when one is configured
(DATABASE_REPLICA_URL); everything else, booking included, stays on the primary.

Routing by model would send a patient's own reads (and the booking's
checks) to a replica that may lag; instead the catalogue views mark the
reads they do (`replica_reads`), and only those go there."""

import contextvars
from contextlib import contextmanager

REPLICA = "replica"
_replica_reads = contextvars.ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads():
    """Within this block, reads use the replica (when the router is installed)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_configured() -> bool:
    from django.conf import settings  # noqa: PLC0415

    return REPLICA in settings.DATABASES


def reading_replica() -> bool:
    return _replica_reads.get()


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return REPLICA if _replica_reads.get() else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # the replica follows the primary by replication
