import pytest

from accounts import services
from healthsvc.exceptions import PermissionDeniedError

pytestmark = pytest.mark.django_db


def test_patient_updates_own_profile(patient):
    services.patient_update(actor=patient.user, patient=patient, allergies="Latex", mobile_no="+44 7700 900123")
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert (patient.allergies, patient.user.mobile_no) == ("Latex", "+44 7700 900123")


@pytest.mark.parametrize("who", ["other_patient", "doctor"])
def test_only_the_patient_or_an_admin_may_update_a_profile(patient, who, request):
    actor = request.getfixturevalue(who).user
    with pytest.raises(PermissionDeniedError):
        services.patient_update(actor=actor, patient=patient, allergies="Changed")
    patient.refresh_from_db()
    assert patient.allergies == ""


def test_admin_may_update_any_profile(patient, admin_user):
    services.patient_update(actor=admin_user, patient=patient, blood_group="O-")
    patient.refresh_from_db()
    assert patient.blood_group == "O-"
