"""A read replica takes the public catalogue's reads, and nothing else."""

from accounts.models import User
from clinics.models import Doctor
from healthsvc import db_router
from healthsvc.db_router import ReplicaRouter, replica_reads


def test_the_router_sends_only_marked_reads_to_the_replica():
    router = ReplicaRouter()
    assert router.db_for_read(Doctor) is None
    with replica_reads():
        assert router.db_for_read(Doctor) == "replica" and router.db_for_read(User) == "replica"
        assert router.db_for_write(Doctor) is None
    assert router.db_for_read(Doctor) is None
    assert router.allow_migrate("default", "clinics") and not router.allow_migrate("replica", "clinics")


def _spy(monkeypatch, module, name) -> list[bool]:
    """Replace module.name with a wrapper noting whether each call runs under the replica mark."""
    seen, original = [], getattr(module, name)

    def spy(**kwargs):
        seen.append(db_router.reading_replica())
        return original(**kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def test_catalogue_answers_are_read_under_the_replica_mark(api_client, doctor, monkeypatch):
    from clinics.api import views
    from healthsvc.api import caching

    monkeypatch.setattr(caching, "replica_configured", lambda: True)
    seen = _spy(monkeypatch, views, "doctor_get")
    assert api_client.get(f"/api/v1/doctors/{doctor.pk}").status_code == 200
    assert seen == [True]


def test_without_a_replica_nothing_is_marked(api_client, doctor, monkeypatch):
    from clinics.api import views

    seen = _spy(monkeypatch, views, "doctor_get")
    assert api_client.get(f"/api/v1/doctors/{doctor.pk}").status_code == 200
    assert seen == [False]


def test_a_booking_is_never_marked(auth_client, patient, slot, monkeypatch):
    from healthsvc.api import caching
    from scheduling.services import booking

    monkeypatch.setattr(caching, "replica_configured", lambda: True)
    seen = _spy(monkeypatch, booking, "_check_bookable")
    response = auth_client(patient.user).post("/api/v1/appointments/book", {"slot_id": slot.pk}, format="json")
    assert response.status_code == 201 and seen == [False]
