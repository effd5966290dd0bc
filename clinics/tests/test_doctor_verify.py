"""POST /doctors with `user_id`: a self-registered doctor gets their profile and is verified."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from clinics.models import Doctor
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.testing import assert_error
from scheduling.models import AppointmentSlot

pytestmark = pytest.mark.django_db

DOCTORS = "/api/v1/doctors"
STRONG = "plum-orchard-sunset-42"


@pytest.fixture
def self_registered(db):
    return UserFactory(role=User.Role.DOCTOR, is_verified=False, name="Dr Kavya Rao")


def _body(user, clinic, **extra):
    return {"user_id": user.pk, "specialty": "Dermatology", "license_number": "KA-2021-11873",
            "clinic_id": clinic.pk, **extra}


def test_register_as_doctor_then_verified_by_an_admin_then_opens_a_slot(api_client, auth_client, admin_user, clinic,
                                                                        other_doctor):
    registered = api_client.post(reverse("api:auth-register"), {
        "name": "Dr Kavya Rao", "email": "kavya@example.com", "password": STRONG, "role": "doctor"}, format="json")
    assert registered.status_code == 201
    user_id = registered.json()["user"]["id"]
    doctor_client = api_client.__class__()
    doctor_client.credentials(HTTP_AUTHORIZATION=f"Bearer {registered.json()['access']}")
    start = (timezone.now() + timedelta(days=10)).replace(microsecond=0).isoformat()

    # Unverified, and without a profile of their own: no slots (another doctor's id is no way round).
    refused = doctor_client.post("/api/v1/slots", {"doctor_id": other_doctor.pk, "slot_datetime": start},
                                 format="json")
    assert refused.status_code == 403, refused.content
    assert not AppointmentSlot.objects.exists()

    response = auth_client(admin_user).post(DOCTORS, {
        "user_id": user_id, "specialty": "Dermatology", "license_number": "KA-2021-11873", "clinic_id": clinic.pk,
        "experience_years": 4}, format="json")
    assert response.status_code == 201, response.content
    doctor = Doctor.objects.get(user_id=user_id)
    assert response.json()["id"] == doctor.pk and response.json()["user_id"] == user_id
    assert response.json()["email"] == "kavya@example.com" and doctor.experience_years == 4
    assert User.objects.get(pk=user_id).is_verified
    assert doctor_client.get("/api/v1/auth/profile").json()["doctor_id"] == doctor.pk

    # The same token as before: verification is no credential change.
    created = doctor_client.post("/api/v1/slots", {"doctor_id": doctor.pk, "slot_datetime": start}, format="json")
    assert created.status_code == 201, created.content
    assert AppointmentSlot.objects.get().doctor_id == doctor.pk
    assert AuditEvent.objects.filter(action="create", object_type="doctor", object_id=str(doctor.pk),
                                     actor=admin_user).exists()


def test_the_name_email_password_form_still_creates_a_doctor(auth_client, admin_user, clinic):
    response = auth_client(admin_user).post(DOCTORS, {
        "name": "Dr New", "email": "drnew@example.com", "password": STRONG, "specialty": "ENT",
        "license_number": "NEW-1", "clinic_id": clinic.pk}, format="json")
    assert response.status_code == 201
    assert Doctor.objects.get(license_number="NEW-1").user.is_verified


@pytest.mark.parametrize("persona", ["patient", "doctor", "self_registered"])
def test_only_admins_verify_doctors(auth_client, persona, self_registered, clinic, request):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)
    response = auth_client(user).post(DOCTORS, _body(self_registered, clinic), format="json")
    assert_error(response, 403, "PERMISSION_DENIED")
    self_registered.refresh_from_db()
    assert not self_registered.is_verified and not Doctor.objects.filter(user=self_registered).exists()


def test_anonymous_may_not_verify_doctors(api_client, self_registered, clinic):
    assert_error(api_client.post(DOCTORS, _body(self_registered, clinic), format="json"), 401, "NOT_AUTHENTICATED")
    self_registered.refresh_from_db()
    assert not self_registered.is_verified


@pytest.mark.parametrize("role", [User.Role.PATIENT, User.Role.ADMIN])
def test_a_user_who_is_not_a_doctor_account_is_400_on_user_id(auth_client, admin_user, clinic, role):
    user = UserFactory(role=role)
    body = assert_error(auth_client(admin_user).post(DOCTORS, _body(user, clinic), format="json"),
                        400, "VALIDATION_ERROR")
    assert "user_id" in body["errors"]
    assert not Doctor.objects.filter(user=user).exists()


def test_an_unknown_user_is_400_on_user_id(auth_client, admin_user, clinic):
    response = auth_client(admin_user).post(DOCTORS, {"user_id": 999999, "specialty": "ENT",
                                                      "license_number": "X-1", "clinic_id": clinic.pk}, format="json")
    assert "user_id" in assert_error(response, 400, "VALIDATION_ERROR")["errors"]
    assert not Doctor.objects.exists()


def test_a_doctor_with_a_profile_already_is_409(auth_client, admin_user, doctor, clinic):
    before = (doctor.specialty, doctor.license_number)
    response = auth_client(admin_user).post(DOCTORS, _body(doctor.user, clinic), format="json")
    assert_error(response, 409, "DOCTOR_PROFILE_EXISTS")
    doctor.refresh_from_db()
    assert (doctor.specialty, doctor.license_number) == before and Doctor.objects.count() == 1


def test_an_inactive_account_is_409(auth_client, admin_user, self_registered, clinic):
    self_registered.is_active = False
    self_registered.save()
    assert_error(auth_client(admin_user).post(DOCTORS, _body(self_registered, clinic), format="json"),
                 409, "USER_INACTIVE")
    self_registered.refresh_from_db()
    assert not self_registered.is_verified and not Doctor.objects.exists()


def test_a_taken_licence_number_leaves_the_user_unverified(auth_client, admin_user, self_registered, clinic):
    DoctorFactory(license_number="KA-2021-11873")
    assert_error(auth_client(admin_user).post(DOCTORS, _body(self_registered, clinic), format="json"),
                 409, "LICENSE_NUMBER_TAKEN")
    self_registered.refresh_from_db()
    assert not self_registered.is_verified and not Doctor.objects.filter(user=self_registered).exists()


def test_an_inactive_clinic_is_400_and_nothing_changes(auth_client, admin_user, self_registered):
    closed = ClinicFactory(is_active=False)
    body = assert_error(auth_client(admin_user).post(DOCTORS, _body(self_registered, closed), format="json"),
                        400, "VALIDATION_ERROR")
    assert "clinic_id" in body["errors"]
    self_registered.refresh_from_db()
    assert not self_registered.is_verified


def test_user_id_with_name_email_or_password_is_400(auth_client, admin_user, self_registered, clinic):
    body = assert_error(auth_client(admin_user).post(
        DOCTORS, _body(self_registered, clinic, email="other@example.com", password=STRONG), format="json"),
        400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"email", "password"}
    assert not Doctor.objects.exists() and not User.objects.filter(email="other@example.com").exists()


@pytest.mark.parametrize("bad", [{"user_id": "abc"}, {"user_id": 0}, {"user_id": None}, {"specialty": ""},
                                 {"clinic_id": None}, {"experience_years": -1}])
def test_bad_shapes_are_400(auth_client, admin_user, self_registered, clinic, bad):
    assert_error(auth_client(admin_user).post(DOCTORS, {**_body(self_registered, clinic), **bad}, format="json"),
                 400, "VALIDATION_ERROR")
    assert not Doctor.objects.exists()


def test_verifying_keeps_query_count_flat(auth_client, admin_user, self_registered, clinic,
                                          django_assert_max_num_queries):
    client = auth_client(admin_user)
    with django_assert_max_num_queries(20):
        assert client.post(DOCTORS, _body(self_registered, clinic), format="json").status_code == 201
