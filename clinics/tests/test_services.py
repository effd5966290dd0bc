"""Writes for clinics and doctors: each rule, its error, and that a refusal changes nothing."""

from decimal import Decimal
from unittest import mock

import pytest

from accounts.exceptions import EmailTakenError, WeakPasswordError
from accounts.models import User
from accounts.tests.factories import UserFactory
from clinics import services
from clinics.exceptions import ClinicsValidationError, DoctorUpdateNotAllowedError, LicenseNumberTakenError
from clinics.models import Clinic, Doctor
from clinics.tests.factories import ClinicFactory, DoctorFactory

pytestmark = pytest.mark.django_db

STRONG = "plum-orchard-sunset-42"


def _doctor_args(clinic, **overrides):
    args = {
        "name": "Dr. Meera Shah", "email": "Meera@Example.com", "password": STRONG, "specialty": "Cardiology",
        "license_number": "MH-12345", "clinic_id": clinic.pk,
    }
    return {**args, **overrides}


def _counts():
    return User.objects.count(), Doctor.objects.count()


# --- clinics ------------------------------------------------------------------


def test_clinic_create_stores_every_field():
    clinic = services.clinic_create(
        name="Heart Care", address="1 MG Road", city="Pune", state="MH", zip_code="411001", phone="+91 20 1234",
        email="desk@heart.example", timezone="Asia/Kolkata", latitude=Decimal("18.520400"),
        longitude=Decimal("73.856700"),
    )
    clinic.refresh_from_db()
    assert (clinic.name, clinic.city, clinic.timezone, clinic.is_active) == ("Heart Care", "Pune", "Asia/Kolkata", True)
    assert (clinic.latitude, clinic.longitude) == (Decimal("18.520400"), Decimal("73.856700"))


def test_clinic_create_defaults_to_utc_without_coordinates():
    clinic = services.clinic_create(name="Plain", address="2 Road", city="Pune")
    clinic.refresh_from_db()
    assert (clinic.timezone, clinic.latitude, clinic.longitude) == ("UTC", None, None)


def test_clinic_create_rounds_coordinates_to_six_places():
    clinic = services.clinic_create(name="X", address="A", city="C", latitude=18.52043299999, longitude=-0.1)
    clinic.refresh_from_db()
    assert (clinic.latitude, clinic.longitude) == (Decimal("18.520433"), Decimal("-0.100000"))


def test_clinic_create_rejects_a_non_iana_timezone():
    with pytest.raises(ClinicsValidationError) as info:
        services.clinic_create(name="X", address="A", city="C", timezone="Mars/Olympus")
    assert "timezone" in info.value.extra["errors"]
    assert not Clinic.objects.exists()


def test_clinic_create_needs_both_coordinates_or_neither():
    with pytest.raises(ClinicsValidationError) as info:
        services.clinic_create(name="X", address="A", city="C", latitude=10)
    assert "latitude" in info.value.extra["errors"]
    assert not Clinic.objects.exists()


def test_clinic_update_changes_only_the_given_fields(clinic):
    services.clinic_update(clinic=clinic, phone="+91 99", timezone="Europe/London")
    clinic.refresh_from_db()
    assert (clinic.phone, clinic.timezone, clinic.name) == ("+91 99", "Europe/London", "Heart Care")


def test_clinic_update_refusal_changes_nothing(clinic):
    with pytest.raises(ClinicsValidationError):
        services.clinic_update(clinic=clinic, name="Renamed", timezone="Nowhere/Else")
    clinic.refresh_from_db()
    assert (clinic.name, clinic.timezone) == ("Heart Care", "Asia/Kolkata")


def test_clinic_update_refuses_dropping_one_coordinate():
    clinic = ClinicFactory(latitude=Decimal("1"), longitude=Decimal("2"))
    with pytest.raises(ClinicsValidationError):
        services.clinic_update(clinic=clinic, longitude=None)
    clinic.refresh_from_db()
    assert clinic.longitude == Decimal("2")


def test_clinic_deactivate_is_a_soft_delete_and_idempotent(clinic, doctor):
    services.clinic_deactivate(clinic=clinic)
    services.clinic_deactivate(clinic=clinic)
    clinic.refresh_from_db()
    doctor.refresh_from_db()
    assert clinic.is_active is False
    assert doctor.is_active is True  # the doctor row stays; lists hide doctors of closed clinics


# --- doctor_create ------------------------------------------------------------


def test_doctor_create_makes_a_verified_doctor_login_and_profile(clinic):
    doctor = services.doctor_create(**_doctor_args(clinic, qualifications="MBBS, MD", experience_years=12,
                                                   max_patients_per_day=30))
    doctor.refresh_from_db()
    user = doctor.user
    assert (user.email, user.name, user.role, user.is_verified, user.is_active) == (
        "meera@example.com", "Dr. Meera Shah", User.Role.DOCTOR, True, True)
    assert user.check_password(STRONG)
    assert (doctor.clinic, doctor.specialty, doctor.license_number) == (clinic, "Cardiology", "MH-12345")
    assert (doctor.qualifications, doctor.experience_years, doctor.max_patients_per_day) == ("MBBS, MD", 12, 30)


def test_doctor_create_defaults(clinic):
    doctor = services.doctor_create(**_doctor_args(clinic))
    assert (doctor.qualifications, doctor.experience_years, doctor.max_patients_per_day) == ("", 0, 20)


def test_doctor_create_refuses_a_taken_email_in_any_case(clinic):
    UserFactory(email="meera@example.com")
    before = _counts()
    with pytest.raises(EmailTakenError):
        services.doctor_create(**_doctor_args(clinic, email="MEERA@example.com"))
    assert _counts() == before


def test_doctor_create_refuses_a_weak_password(clinic):
    before = _counts()
    with pytest.raises(WeakPasswordError) as info:
        services.doctor_create(**_doctor_args(clinic, password="12345678"))
    assert info.value.code == "VALIDATION_ERROR" and "password" in info.value.extra["errors"]
    assert _counts() == before


def test_doctor_create_refuses_a_taken_license_number(clinic):
    DoctorFactory(license_number="MH-12345")
    before = _counts()
    with pytest.raises(LicenseNumberTakenError) as info:
        services.doctor_create(**_doctor_args(clinic))
    assert info.value.status == 409 and "license_number" in info.value.extra["errors"]
    assert _counts() == before


def test_doctor_create_race_on_license_rolls_back_the_new_user_too(clinic):
    """If a concurrent create wins the license between the check and the insert,
    the unique index refuses the doctor, and the login created a moment before
    goes with it: one transaction."""
    DoctorFactory(license_number="MH-12345")
    before = _counts()
    with mock.patch.object(services, "_check_license_free"), pytest.raises(LicenseNumberTakenError):
        services.doctor_create(**_doctor_args(clinic))
    assert _counts() == before
    assert not User.objects.filter(email="meera@example.com").exists()


@pytest.mark.parametrize("clinic_state", ["missing", "inactive"])
def test_doctor_create_refuses_an_unknown_or_inactive_clinic(clinic_state):
    clinic_id = ClinicFactory(is_active=False).pk if clinic_state == "inactive" else 999_999
    before = _counts()
    with pytest.raises(ClinicsValidationError) as info:
        services.doctor_create(**_doctor_args(Clinic(pk=clinic_id)))
    assert "clinic_id" in info.value.extra["errors"]
    assert _counts() == before


def test_doctor_create_refuses_out_of_range_numbers(clinic):
    before = _counts()
    with pytest.raises(ClinicsValidationError) as info:
        services.doctor_create(**_doctor_args(clinic, max_patients_per_day=0, experience_years=81))
    assert {"max_patients_per_day", "experience_years"} <= set(info.value.extra["errors"])
    assert _counts() == before


# --- doctor_update ------------------------------------------------------------


def test_admin_may_change_every_doctor_field(admin_user, doctor):
    other_clinic = ClinicFactory()
    services.doctor_update(
        doctor=doctor, actor=admin_user, name="Dr. Renamed", specialty="Neurology", license_number="NEW-1",
        qualifications="MD", experience_years=5, max_patients_per_day=8, clinic_id=other_clinic.pk, is_active=False,
    )
    doctor.refresh_from_db()
    doctor.user.refresh_from_db()
    assert (doctor.user.name, doctor.specialty, doctor.license_number, doctor.qualifications) == (
        "Dr. Renamed", "Neurology", "NEW-1", "MD")
    assert (doctor.experience_years, doctor.max_patients_per_day, doctor.clinic, doctor.is_active) == (
        5, 8, other_clinic, False)


def test_doctor_may_change_own_qualifications_and_experience(doctor):
    services.doctor_update(doctor=doctor, actor=doctor.user, qualifications="MBBS", experience_years=3)
    doctor.refresh_from_db()
    assert (doctor.qualifications, doctor.experience_years) == ("MBBS", 3)


@pytest.mark.parametrize("field, value", [("specialty", "Neurology"), ("max_patients_per_day", 99),
                                          ("is_active", False), ("name", "Dr. Me")])
def test_doctor_may_not_change_other_fields_of_their_own(doctor, field, value):
    with pytest.raises(DoctorUpdateNotAllowedError):
        services.doctor_update(doctor=doctor, actor=doctor.user, qualifications="MBBS", **{field: value})
    doctor.refresh_from_db()
    assert (doctor.specialty, doctor.max_patients_per_day, doctor.is_active, doctor.qualifications) == (
        "Cardiology", 20, True, "")


def test_neither_another_doctor_nor_a_patient_may_change_a_doctor(doctor, other_doctor, patient):
    for actor in (other_doctor.user, patient.user):
        with pytest.raises(DoctorUpdateNotAllowedError):
            services.doctor_update(doctor=doctor, actor=actor, qualifications="hacked")
    doctor.refresh_from_db()
    assert doctor.qualifications == ""


def test_doctor_update_refuses_an_inactive_clinic(admin_user, doctor, clinic):
    closed = ClinicFactory(is_active=False)
    with pytest.raises(ClinicsValidationError):
        services.doctor_update(doctor=doctor, actor=admin_user, clinic_id=closed.pk, specialty="Neurology")
    doctor.refresh_from_db()
    assert (doctor.clinic, doctor.specialty) == (clinic, "Cardiology")


def test_doctor_update_refuses_another_doctors_license(admin_user, doctor, other_doctor):
    with pytest.raises(LicenseNumberTakenError):
        services.doctor_update(
            doctor=doctor, actor=admin_user, name="Dr. Kept?", license_number=other_doctor.license_number
        )
    doctor.refresh_from_db()
    doctor.user.refresh_from_db()
    assert doctor.license_number != other_doctor.license_number
    assert doctor.user.name != "Dr. Kept?"


def test_doctor_update_keeping_own_license_is_fine(admin_user, doctor):
    services.doctor_update(doctor=doctor, actor=admin_user, license_number=doctor.license_number, experience_years=2)
    doctor.refresh_from_db()
    assert doctor.experience_years == 2
