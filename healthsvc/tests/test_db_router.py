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


def test_catalogue_answers_are_read_under_the_replica_mark(api_client, doctor, monkeypatch):
    from clinics.api import views
    from healthsvc.api import caching

    monkeypatch.setattr(caching, "replica_configured", lambda: True)
    seen = []
    original = views.doctor_get

    def spy(**kwargs):
        seen.append(db_router.reading_replica())
        return original(**kwargs)

    monkeypatch.setattr(views, "doctor_get", spy)
    assert api_client.get(f"/api/v1/doctors/{doctor.pk}").status_code == 200
    assert seen == [True]


def test_without_a_replica_nothing_is_marked(api_client, doctor, monkeypatch):
    from clinics.api import views

    seen = []
    original = views.doctor_get
    monkeypatch.setattr(views, "doctor_get", lambda **kw: seen.append(db_router.reading_replica()) or original(**kw))
    assert api_client.get(f"/api/v1/doctors/{doctor.pk}").status_code == 200
    assert seen == [False]


def test_a_booking_is_never_marked(auth_client, patient, slot, monkeypatch):
    from scheduling.services import booking

    seen = []
    original = booking._check_bookable

    def spy(**kwargs):
        seen.append(db_router.reading_replica())
        return original(**kwargs)

    monkeypatch.setattr(booking, "_check_bookable", spy)
    response = auth_client(patient.user).post("/api/v1/appointments/book", {"slot_id": slot.pk}, format="json")
    assert response.status_code == 201 and seen == [False]
