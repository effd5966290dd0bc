import factory

from accounts.models import User
from accounts.tests.factories import UserFactory
from clinics.models import Clinic, Doctor


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    address = factory.Faker("street_address")
    city = "Pune"
    state = "MH"
    zip_code = "411001"
    timezone = "Asia/Kolkata"


class DoctorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Doctor

    user = factory.SubFactory(UserFactory, role=User.Role.DOCTOR, is_verified=True)
    clinic = factory.SubFactory(ClinicFactory)
    specialty = "Cardiology"
    license_number = factory.Sequence(lambda n: f"LIC-{n:06d}")
    max_patients_per_day = 20
