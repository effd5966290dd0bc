"""Shared personas for every app's tests."""

import os

import pytest
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts.models import User
from accounts.tests.factories import AdminUserFactory, PatientFactory, UserFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling.tests.factories import SlotFactory

# The hostile-input properties (*/tests/test_*_hostile.py). "ci", the default, is
# derandomized so every run draws the same examples; HYPOTHESIS_PROFILE=explore
# draws new ones, many more. Each example runs inside the test's function-scoped
# fixtures: every example asserts that the database is as it was, so nothing
# leaks from one to the next.
hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, max_examples=20, print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile("explore", parent=hypothesis_settings.get_profile("ci"), derandomize=False,
                                     max_examples=1000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres_only skip, with the reason shown, on other databases."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Heart Care", city="Pune", timezone="Asia/Kolkata")


@pytest.fixture
def doctor(clinic):
    return DoctorFactory(clinic=clinic, specialty="Cardiology")


@pytest.fixture
def other_doctor(clinic):
    return DoctorFactory(clinic=clinic, specialty="Dermatology")


@pytest.fixture
def unverified_doctor(clinic):
    return DoctorFactory(clinic=clinic, user__is_verified=False)


@pytest.fixture
def patient(db):
    return PatientFactory(user__name="Pat Patient", user__email="pat@example.com")


@pytest.fixture
def other_patient(db):
    return PatientFactory(user__name="Olive Other", user__email="olive@example.com")


@pytest.fixture
def admin_user(db):
    return AdminUserFactory(email="admin@example.com", name="Ada Admin")


@pytest.fixture
def slot(doctor):
    return SlotFactory(doctor=doctor, capacity=1)


@pytest.fixture
def plain_user(db):
    return UserFactory(role=User.Role.PATIENT)


# --- logged-in browsers (the portal and the admin) -------------------------------


@pytest.fixture
def patient_client(client, patient):
    client.force_login(patient.user)
    return client


@pytest.fixture
def doctor_client(client, doctor):
    client.force_login(doctor.user)
    return client


@pytest.fixture
def staff_client(client, admin_user):
    from healthsvc.testing import force_login_verified

    return force_login_verified(client, admin_user)


# --- API clients --------------------------------------------------------------


@pytest.fixture(autouse=True)
def _throttle_windows_hold_still(monkeypatch):
    """Rate limits count in fixed windows of the wall clock: a test whose
    requests straddled a window's edge would see its count start again. The
    throttles' clock stays in the middle of one hour-long window (so also of
    every minute's) for the test; tests of the windows move it themselves."""
    import time

    from healthsvc.api import throttling

    now = time.time()
    monkeypatch.setattr(throttling, "clock", lambda: (now // 3600) * 3600 + 1800.5)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counts live in the cache; no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def auth_client():
    """`auth_client(user)`: an APIClient sending that user's JWT access token, as
    login issues it (with the claims accounts.authentication reads)."""
    from rest_framework.test import APIClient

    from accounts.services import user_access_token

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_access_token(user)}")
        return client

    return make
