from django.contrib.auth.password_validation import password_validators_help_texts
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Patient, User, validate_birth_date, validate_emergency_contact, validate_phone
from healthsvc.api.serializers import InputSerializer
from healthsvc.forms import model_max_length


class UserOutputSerializer(serializers.ModelSerializer):
    patient_id = serializers.SerializerMethodField()
    doctor_id = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "name", "email", "role", "mobile_no", "is_verified", "is_active", "created_at",
                  "patient_id", "doctor_id"]

    def get_patient_id(self, user) -> int | None:
        patient = getattr(user, "patient", None) if user.role == User.Role.PATIENT else None
        return patient.pk if patient else None

    def get_doctor_id(self, user) -> int | None:
        doctor = getattr(user, "doctor", None) if user.role == User.Role.DOCTOR else None
        return doctor.pk if doctor else None


class AccountInputSerializer(InputSerializer):
    # A new login's name, email and password, with the model's limits and the
    # password validators' rules (register, an admin creating an admin).
    name = serializers.CharField(max_length=model_max_length(User, "name"))
    email = serializers.EmailField(max_length=model_max_length(User, "email"))
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"},
        help_text=" ".join(password_validators_help_texts()),
    )


class RegisterInputSerializer(AccountInputSerializer):
    role = serializers.ChoiceField(choices=User.Role.choices, default=User.Role.PATIENT)
    mobile_no = serializers.CharField(max_length=model_max_length(User, "mobile_no"), required=False,
                                      allow_blank=True, default="", validators=[validate_phone])


class ProfileUpdateInputSerializer(InputSerializer):
    """The caller's own name and mobile number, with register's rules; either or both."""

    name = serializers.CharField(max_length=model_max_length(User, "name"), required=False)
    mobile_no = serializers.CharField(max_length=model_max_length(User, "mobile_no"), required=False,
                                      allow_blank=True, validators=[validate_phone],
                                      help_text='"" removes the number.')


class AdminCreateInputSerializer(AccountInputSerializer):
    """A new admin's name, email and password."""


class LoginInputSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    otp = serializers.CharField(
        required=False, allow_blank=True, max_length=16,
        help_text="The current code of the authenticator app (or a recovery code), for accounts with two-factor on.",
    )


class PasswordChangeInputSerializer(InputSerializer):
    old_password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    new_password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"},
        help_text=" ".join(password_validators_help_texts()),
    )


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RegisterOutputSerializer(TokenPairOutputSerializer):
    user = UserOutputSerializer()


class LoginOutputSerializer(RegisterOutputSerializer):
    token_type = serializers.CharField(default="Bearer")


class RefreshInputSerializer(InputSerializer):
    refresh = serializers.CharField(max_length=2000)


class PatientOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="Null for a dependent (no login).")
    guardian_id = serializers.IntegerField(
        read_only=True, allow_null=True,
        help_text="For a dependent: the patient whose account books for them; null for an account holder.",
    )
    name = serializers.CharField(source="display_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True, allow_null=True,
                                   help_text="Null for a dependent: mail goes to the guardian.")
    mobile_no = serializers.CharField(source="user.mobile_no", read_only=True, allow_null=True)
    # One of the eight groups or null, never "" (the table's check constraint).
    blood_group = serializers.ChoiceField(choices=Patient.BloodGroup.choices, read_only=True, allow_null=True)

    class Meta:
        model = Patient
        fields = ["id", "user_id", "guardian_id", "name", "email", "mobile_no", "date_of_birth", "blood_group",
                  "allergies", "emergency_contact", "wants_reminders"]


@extend_schema_field({
    "type": "string", "format": "date", "pattern": "^(19|20)[0-9]{2}-",
    "description": "From 1900-01-01 up to today.",
})
class BirthDateField(serializers.DateField):
    """A date of birth: from 1900 up to today (validate_birth_date)."""

    def __init__(self, **kwargs):
        super().__init__(validators=[validate_birth_date], **kwargs)


class PatientUpdateInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=model_max_length(User, "name"))
    mobile_no = serializers.CharField(max_length=model_max_length(User, "mobile_no"), allow_blank=True,
                                      validators=[validate_phone])
    date_of_birth = BirthDateField(allow_null=True)
    blood_group = serializers.ChoiceField(choices=Patient.BloodGroup.choices, allow_null=True)
    allergies = serializers.CharField(max_length=model_max_length(Patient, "allergies"), allow_blank=True)
    emergency_contact = serializers.CharField(max_length=model_max_length(Patient, "emergency_contact"),
                                              allow_blank=True,
                                              validators=[validate_emergency_contact])
    # Our extension of the contract, so optional even for PUT: a client that
    # does not know it leaves the patient's choice as it is.
    wants_reminders = serializers.BooleanField(
        required=False, help_text="Email a reminder the day before each visit (default true).",
    )


class DependentCreateInputSerializer(InputSerializer):
    """A family member: the same field rules as a patient's own profile."""

    name = serializers.CharField(max_length=model_max_length(Patient, "name"))
    date_of_birth = BirthDateField()
    blood_group = serializers.ChoiceField(choices=Patient.BloodGroup.choices, allow_null=True, required=False,
                                          default=None)
    allergies = serializers.CharField(max_length=model_max_length(Patient, "allergies"), allow_blank=True,
                                      required=False, default="")
    emergency_contact = serializers.CharField(max_length=model_max_length(Patient, "emergency_contact"),
                                              allow_blank=True, required=False, default="",
                                              validators=[validate_emergency_contact])


class AuditEntryOutputSerializer(serializers.Serializer):
    """One row of a patient's access log (the contract's Audit entry), with
    the actor's name so a patient can tell who it was."""

    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor_id = serializers.IntegerField(allow_null=True)
    actor_name = serializers.CharField(source="actor.name", default="", allow_null=True)
    actor_role = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    description = serializers.CharField(source="description_for_patient", help_text="What was done, in words for the patient.")
    entry_point = serializers.CharField()
    ip = serializers.IPAddressField(allow_null=True)
    request_id = serializers.CharField()
