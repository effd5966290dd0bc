import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_createsuperuser_noinput_makes_a_role_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_NAME", "The Boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password")
    call_command("createsuperuser", "--noinput", verbosity=0)
    user = User.objects.get()
    assert (user.email, user.role, user.is_staff, user.is_superuser) == ("boss@example.com", "admin", True, True)
    assert user.check_password("a-long-admin-password")


def test_email_is_the_login_and_unique_whatever_its_case():
    User.objects.create_user(email="a@example.com", password="x" * 12, name="A")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="A@EXAMPLE.COM", name="B")


def test_new_users_are_patients_by_default_and_not_staff():
    user = User.objects.create_user(email="p@example.com", password="x" * 12, name="P")
    assert (user.role, user.is_staff, user.is_verified) == ("patient", False, False)


def test_role_outside_the_set_is_refused_by_the_database():
    user = User.objects.create_user(email="r@example.com", password="x" * 12, name="R")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(role="superhero")
