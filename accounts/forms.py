"""Portal forms for accounts. They check shape only; accounts.services decides."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.contrib.auth import password_validation
from django.utils.html import format_html_join

from accounts.models import Patient, User
from healthsvc.forms import model_char_field, model_max_length

# The API's limit on a password (accounts.api.serializers); hashing a longer one is work for nothing.
PASSWORD_MAX_LENGTH = 128


def _password_help() -> str:
    rules = ((text,) for text in password_validators_help_texts())
    return format_html_join("", '<span class="hint-line">{}</span>', rules)


def _name_field():
    return model_char_field(User, "name", label="Full name", widget=forms.TextInput(attrs={"autocomplete": "name"}))


def _mobile_field():
    return model_char_field(User, "mobile_no", label="Mobile number",
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))


class RegisterForm(forms.Form):
    name = _name_field()
    email = forms.EmailField(max_length=model_max_length(User, "email"),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    mobile_no = _mobile_field()
    password1 = forms.CharField(
        label="Password", strip=False, max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Repeat the password", strip=False, max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = _password_help()

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "The two passwords differ.")
        if data.get("password1"):
            # The strength rules in the same round as the other fields' errors
            # (accounts.services.user_register checks them again, the last word).
            candidate = User(email=data.get("email") or "", name=data.get("name") or "")
            try:
                password_validation.validate_password(data["password1"], user=candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Wrong email or password.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"


class ProfileForm(forms.ModelForm):
    """Contact details (kept on the user) and medical information (on the patient)."""

    name = _name_field()
    mobile_no = _mobile_field()

    class Meta:
        model = Patient
        fields = ["date_of_birth", "blood_group", "allergies", "emergency_contact", "wants_reminders"]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
            "allergies": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "emergency_contact": "Emergency contact",
            "wants_reminders": "Email me a reminder the day before each visit",
        }
        help_texts = {
            "allergies": "Medicines, foods or materials you react to. Leave empty if none are known.",
            "emergency_contact": "A name and a phone number, e.g. “Ravi Patel, +91 98765 43210”.",
            "wants_reminders": "",
        }

    field_order = ["name", "mobile_no", "date_of_birth", "blood_group", "allergies", "emergency_contact",
                   "wants_reminders"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.instance.user
        self.fields["name"].initial = user.name
        self.fields["mobile_no"].initial = user.mobile_no
        self.fields["blood_group"].choices = [("", "Not known"), *Patient.BloodGroup.choices]

    def clean_emergency_contact(self):
        # The model field's validator (shared with the API) runs on the stripped value.
        return self.cleaned_data["emergency_contact"].strip()


class DependentForm(forms.ModelForm):
    """A family member's name and medical information: the patient profile's
    own field rules (ProfileForm's widgets, labels and limits)."""

    class Meta:
        model = Patient
        fields = ["name", "date_of_birth", "blood_group", "allergies", "emergency_contact"]
        widgets = {**ProfileForm.Meta.widgets, "name": forms.TextInput(attrs={"autocomplete": "off"})}
        labels = {**ProfileForm.Meta.labels, "name": "Full name"}
        help_texts = {
            **ProfileForm.Meta.help_texts,
            "allergies": "Medicines, foods or materials they react to. Leave empty if none are known.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True
        self.fields["date_of_birth"].required = True
        self.fields["blood_group"].choices = [("", "Not known"), *Patient.BloodGroup.choices]
        # The allergies limit comes from the model field, as the profile's and the API's.

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_emergency_contact(self):
        return self.cleaned_data["emergency_contact"].strip()


class OtpCodeForm(forms.Form):
    """A code from the authenticator app, or one of the recovery codes."""

    code = forms.CharField(
        label="Authentication code", max_length=16,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
