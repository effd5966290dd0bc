"""Portal forms for finding a doctor. Choices come from the selectors, via the view."""

from django import forms


class DoctorSearchForm(forms.Form):
    q = forms.CharField(
        label="Doctor or clinic name", max_length=100, required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    specialty = forms.ChoiceField(required=False)
    city = forms.ChoiceField(required=False)
    clinic = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, *args, specialties=(), cities=(), clinics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialty"].choices = [("", "Any specialty"), *((s, s) for s in specialties)]
        self.fields["city"].choices = [("", "Any city"), *((c, c) for c in cities)]
        self.fields["clinic"].choices = [("", "Any clinic"), *((c.pk, f"{c.name} ({c.city})") for c in clinics)]

    def filters(self) -> dict:
        """The valid criteria, as doctor_list keyword arguments (invalid ones are dropped)."""
        data = getattr(self, "cleaned_data", {})
        return {
            "search": data.get("q") or None,
            "specialty": data.get("specialty") or None,
            "city": data.get("city") or None,
            "clinic_id": data.get("clinic"),
        }
