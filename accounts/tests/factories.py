import factory

from accounts.models import Patient, User

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    role = User.Role.PATIENT
    is_verified = True
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    user = factory.SubFactory(UserFactory, role=User.Role.PATIENT)


class DependentFactory(factory.django.DjangoModelFactory):
    """A family member without a login: booked for by `guardian`'s account."""

    class Meta:
        model = Patient

    user = None
    guardian = factory.SubFactory(PatientFactory)
    name = factory.Faker("name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=1, maximum_age=12)


class AdminUserFactory(UserFactory):
    role = User.Role.ADMIN
    is_staff = True
    is_superuser = True
