"""Portal forms for finding a doctor. Choices come from the selectors, via the view."""

from django import forms

SORT_CHOICES = [
    ("", "Best for this search"),
    ("soonest", "Soonest free time"),
    ("name", "Doctor's name"),
]
PART_OF_DAY_CHOICES = [("", "Any time"), ("morning", "Morning (before 12:00)"), ("afternoon", "Afternoon (from 12:00)")]


class DoctorSearchForm(forms.Form):
    q = forms.CharField(
        label="Doctor, specialty, clinic or city", max_length=100, required=False,
        help_text="As you would say it: “Dr Mehta”, “skin doctor London”, “children’s doctor”.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    specialty = forms.ChoiceField(required=False)
    city = forms.ChoiceField(required=False)
    clinic = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    date_from = forms.DateField(
        label="Free from", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date in the clinic's time zone.",
    )
    part_of_day = forms.ChoiceField(label="Time of day", required=False, choices=PART_OF_DAY_CHOICES)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_CHOICES)

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

    def times(self) -> dict:
        """The valid time criteria: `from_date` and `part_of_day` (None when not given or invalid)."""
        data = getattr(self, "cleaned_data", {})
        return {"from_date": data.get("date_from"), "part_of_day": data.get("part_of_day") or None}

    def chosen_sort(self) -> str | None:
        """The sort the patient chose, or None for the default."""
        return getattr(self, "cleaned_data", {}).get("sort") or None
