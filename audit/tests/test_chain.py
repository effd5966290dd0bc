"""The chain: every row verifies; an edited, deleted or inserted row, or rows
cut from the end, are found and the first bad one named; PostgreSQL itself
refuses UPDATE and DELETE; concurrent writers never chain onto the same row."""

from datetime import timedelta

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from audit.chain import chain_hash, chain_problems
from audit.models import AuditEvent, ChainHead
from audit.services import audit_record
from scheduling.tests.test_concurrency import run_concurrently

pytestmark = pytest.mark.django_db


def _rows(n=5, **kwargs):
    for i in range(n):
        audit_record("read", object_type="patient", object_id=str(i), patient_id=i, **kwargs)
    return list(AuditEvent.objects.order_by("id"))


def _verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().strip()


def _tamper():
    """What someone with database access (and no audit key) could do: on
    PostgreSQL they must first get past the trigger, as an owner can."""
    if connection.vendor == "postgresql":
        return pgtrigger.ignore("audit.AuditEvent:audit_event_append_only")
    return transaction.atomic()


def test_rows_chain_one_to_the_next_and_verify():
    rows = _rows()
    assert rows[0].prev_hash == ""
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert ChainHead.objects.get().hash == rows[-1].hash
    assert _verify() == "Audit chain verified: 5 row(s), no break."


def test_an_edited_row_is_named():
    rows = _rows()
    with _tamper():
        AuditEvent.objects.filter(pk=rows[2].pk).update(object_id="999")
    with pytest.raises(CommandError, match=rf"row #{rows[2].pk}: its content does not match its hash"):
        _verify()


def test_an_edited_time_is_found_too():
    rows = _rows()
    with _tamper():
        AuditEvent.objects.filter(pk=rows[1].pk).update(at=rows[1].at - timedelta(hours=3))
    assert [p.event_id for p in chain_problems()] == [rows[1].pk]


def test_a_deleted_row_names_the_row_after_it():
    rows = _rows()
    with _tamper():
        AuditEvent.objects.filter(pk=rows[2].pk).delete()
    with pytest.raises(CommandError, match=rf"row #{rows[3].pk}: its link to the row before it is broken"):
        _verify()


def test_rows_cut_from_the_end_are_found():
    rows = _rows()
    with _tamper():
        AuditEvent.objects.filter(pk__in=[rows[3].pk, rows[4].pk]).delete()
    with pytest.raises(CommandError, match="the end of the chain: the chain's head is not its last row"):
        _verify()


def test_a_row_forged_without_the_key_is_found():
    rows = _rows(2)
    forged_hash = chain_hash(rows[-1].hash, "anything").replace("a", "b")
    AuditEvent.objects.create(at=rows[-1].at, action="read", object_type="patient", object_id="1",
                              entry_point="command", prev_hash=rows[-1].hash, hash=forged_hash)
    problems = list(chain_problems())
    assert problems[0].event_id == AuditEvent.objects.latest("id").pk


def test_a_row_rewritten_with_a_recomputed_hash_but_another_key_is_found(settings):
    rows = _rows(3)
    settings.AUDIT_HMAC_KEY = "an attacker's guess"
    forged = chain_hash(rows[0].prev_hash, "x")
    with _tamper():
        AuditEvent.objects.filter(pk=rows[0].pk).update(hash=forged)
    settings.AUDIT_HMAC_KEY = "not the key either"
    assert [p.event_id for p in chain_problems()][0] == rows[0].pk


def test_a_row_in_a_rolled_back_transaction_leaves_the_chain_whole():
    _rows(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record("read", object_type="patient", object_id="7")
        raise RuntimeError("the change it recorded failed")
    _rows(2)
    assert AuditEvent.objects.count() == 4
    assert list(chain_problems()) == []


@pytest.mark.postgres_only
def test_postgresql_refuses_update_and_delete_of_audit_rows():
    (row,) = _rows(1)
    for change in (lambda: AuditEvent.objects.filter(pk=row.pk).update(action="login"),
                   lambda: AuditEvent.objects.filter(pk=row.pk).delete()):
        with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
            change()
    row.refresh_from_db()
    assert row.action == "read"
    with pytest.raises(ProgrammingError), transaction.atomic():
        ChainHead.objects.all().delete()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_chain_onto_the_same_row():
    """Twelve connections appending at once, each in a transaction that holds
    its place a moment (as a booking does): each row has its own predecessor."""
    def writer(i):
        def write():
            with transaction.atomic():
                audit_record("read", object_type="patient", object_id=str(i))
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.02)")
                audit_record("update", object_type="patient", object_id=str(i))
        return write

    outcomes = run_concurrently([writer(i) for i in range(12)])
    assert [o.error for o in outcomes] == [None] * 12
    rows = list(AuditEvent.objects.order_by("id"))
    assert len(rows) == 24
    assert len({r.prev_hash for r in rows}) == 24
    assert list(chain_problems()) == []
