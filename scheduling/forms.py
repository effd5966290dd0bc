"""Portal forms for booking and running a day. Shape only: the booking core decides."""

from django import forms

from healthsvc.forms import CalendarDateField, model_char_field
from scheduling.models import Appointment, AvailabilityRule, Leave
from scheduling.services.lifecycle import OUTCOME_STATUSES
from scheduling.services.slots import MAX_CAPACITY


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class MinuteTimeField(forms.TimeField):
    """A wall-clock time in hours and minutes (the API's HH:MM; no seconds)."""

    input_formats = ["%H:%M"]

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", _time_input())
        super().__init__(**kwargs)


class WeekForm(forms.Form):
    """`?week=YYYY-MM-DD`: any day of the week to show."""

    week = CalendarDateField(required=False)


class DayForm(forms.Form):
    """`?date=YYYY-MM-DD` on the doctor's day."""

    date = CalendarDateField(
        label="Day", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class BookForm(forms.Form):
    reason_for_visit = model_char_field(
        Appointment, "reason_for_visit", label="Reason for the visit", required=True,
        help_text="A few words for the doctor, e.g. “chest pain when climbing stairs”. Your doctor and the clinic staff see it.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, patient=None, dependents=(), same_day_question: str | None = None, **kwargs):
        """With `dependents` (the booking patient's family members), asks whom
        the visit is for: the patient by default; `cleaned_data["patient"]`.
        With `same_day_question`, a second visit with the same doctor that day
        is allowed, but asked about first."""
        super().__init__(*args, **kwargs)
        self._patients = {patient.pk: patient, **{d.pk: d for d in dependents}} if patient is not None else {}
        if dependents:
            self.fields["patient"] = forms.TypedChoiceField(
                label="Who is this visit for?", coerce=int, initial=patient.pk, widget=forms.RadioSelect,
                choices=[(patient.pk, "You"), *((d.pk, d.display_name) for d in dependents)],
                error_messages={"invalid_choice": "Choose yourself or one of your family members."},
            )
            self.order_fields(["patient", "reason_for_visit"])
        if same_day_question:
            self.fields["also_same_day"] = forms.BooleanField(
                label=same_day_question, required=True,
                error_messages={"required": "Tick this box to book a second visit that day, or choose another time."},
            )

    def clean_patient(self):
        return self._patients[self.cleaned_data["patient"]]


class CancelForm(forms.Form):
    reason = model_char_field(
        Appointment, "cancelled_reason", label="Why are you cancelling?", required=True,
        help_text="This helps the clinic offer the time to someone else.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RescheduleForm(forms.Form):
    """The new slot. `slots` is every bookable slot of the same doctor (full
    ones too, so that a place taken a moment ago gets the core's answer)."""

    slot = forms.ModelChoiceField(
        queryset=None, label="New time", error_messages={"invalid_choice": "Choose one of the free times shown."}
    )

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = slots


# The outcomes the booking core accepts, with the wording shown to doctors.
OUTCOME_LABELS = {
    Appointment.Status.COMPLETED: "Completed: the patient was seen",
    Appointment.Status.NO_SHOW: "No-show: the patient did not come",
}


class OutcomeForm(forms.Form):
    status = forms.ChoiceField(
        label="Outcome", required=False,
        choices=[("", "Not recorded yet"), *((status, OUTCOME_LABELS[status]) for status in OUTCOME_STATUSES)],
        help_text="Can be recorded once the visit has started.",
    )
    notes = model_char_field(
        Appointment, "notes", label="Clinical note",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Only you and clinic staff see this.",
    )
    note_for_patient = model_char_field(
        Appointment, "note_for_patient", label="Note for the patient",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The patient sees this, e.g. “Take the tablets with food; come back in three months.”",
    )


DURATION_CHOICES = [(m, f"{m} minutes") for m in (10, 15, 20, 30, 45, 60, 90)]


class SlotCreateForm(forms.Form):
    date = CalendarDateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start_time = MinuteTimeField(label="Start time")
    duration_minutes = forms.TypedChoiceField(
        label="Length", coerce=int, choices=DURATION_CHOICES, initial=30,
    )
    capacity = forms.IntegerField(
        label="Patients per slot", min_value=1, max_value=MAX_CAPACITY, initial=1,
        help_text="More than one for group sessions or walk-in style hours.",
    )


# --- doctors: the visit -------------------------------------------------------------


class DeclineForm(forms.Form):
    reason = model_char_field(
        Appointment, "cancelled_reason", label="Reason for the patient", required=True,
        help_text="The patient sees this, e.g. “Dr. Rao is away that day; please book another time.”",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DoctorCancelForm(DeclineForm):
    internal_note = model_char_field(
        Appointment, "cancelled_internal_note", label="Internal note",
        help_text="Only you and clinic staff see this.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- doctors: the weekly rules, generation, slots and time off ----------------------


class RuleForm(forms.Form):
    """One weekly rule, in the clinic's wall-clock time."""

    weekday = forms.TypedChoiceField(label="Day", coerce=int, choices=AvailabilityRule.Weekday.choices)
    start_time = MinuteTimeField(label="From")
    end_time = MinuteTimeField(label="Until", help_text="The last slot ends by then.")
    slot_minutes = forms.TypedChoiceField(label="Slot length", coerce=int, choices=DURATION_CHOICES, initial=30)
    capacity = forms.IntegerField(label="Patients per slot", min_value=1, max_value=MAX_CAPACITY, initial=1)
    break_start = MinuteTimeField(label="Break from", required=False)
    break_end = MinuteTimeField(label="Break until", required=False)

    @classmethod
    def for_rule(cls, rule: AvailabilityRule, data=None) -> "RuleForm":
        initial = {name: getattr(rule, name) for name in cls.base_fields}
        return cls(data, initial=initial)


class GenerateForm(forms.Form):
    date_from = CalendarDateField(label="First day", widget=_date_input())
    date_to = CalendarDateField(label="Last day", widget=_date_input(), help_text="Up to a year ahead.")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The last day must not be before the first.")
        return data


class SlotChangeForm(forms.Form):
    """Change one slot: its capacity, or close / reopen it."""

    capacity = forms.IntegerField(min_value=1, max_value=MAX_CAPACITY, required=False)
    action = forms.ChoiceField(choices=[("", "—"), ("close", "Close"), ("reopen", "Reopen")], required=False)

    def clean(self):
        data = super().clean()
        if data.get("capacity") is None and not data.get("action"):
            raise forms.ValidationError("Give a capacity, or close or reopen the slot.")
        return data


class DayActionForm(forms.Form):
    date = CalendarDateField()
    action = forms.ChoiceField(choices=[("close", "Close the day"), ("reopen", "Reopen the day")])


class LeaveForm(forms.Form):
    """Time off in the clinic's calendar: whole days, or from a time on the
    first day until a time on the last."""

    first_day = CalendarDateField(label="First day", widget=_date_input())
    last_day = CalendarDateField(label="Last day", required=False, widget=_date_input(),
                               help_text="Leave empty for a single day.")
    from_time = MinuteTimeField(label="From", required=False,
                                help_text="Leave both times empty for whole days.")
    until_time = MinuteTimeField(label="Until", required=False)
    reason = model_char_field(Leave, "reason", label="Note",
                              help_text="For you and the clinic staff; patients do not see it.")

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", "The last day must not be before the first.")
        return data
