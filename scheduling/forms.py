"""Portal forms for booking and running a day. Shape only: the booking core decides."""

from django import forms

from scheduling.models import Appointment
from scheduling.services.booking import OUTCOME_STATUSES
from scheduling.services.slots import MAX_CAPACITY


class WeekForm(forms.Form):
    """`?week=YYYY-MM-DD`: any day of the week to show."""

    week = forms.DateField(required=False)


class DayForm(forms.Form):
    """`?date=YYYY-MM-DD` on the doctor's day."""

    date = forms.DateField(
        label="Day", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class BookForm(forms.Form):
    reason_for_visit = forms.CharField(
        label="Reason for the visit", max_length=2000,
        help_text="A few words for the doctor, e.g. “chest pain when climbing stairs”. Your doctor and the clinic staff see it.",
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling?", max_length=2000,
        help_text="This helps the clinic offer the time to someone else.",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
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
    notes = forms.CharField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 6, "maxlength": 5000}),
        help_text="Visible to you and clinic staff.",
    )


DURATION_CHOICES = [(m, f"{m} minutes") for m in (10, 15, 20, 30, 45, 60, 90)]


class SlotCreateForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start_time = forms.TimeField(label="Start time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    duration_minutes = forms.TypedChoiceField(
        label="Length", coerce=int, choices=DURATION_CHOICES, initial=30,
    )
    capacity = forms.IntegerField(
        label="Patients per slot", min_value=1, max_value=MAX_CAPACITY, initial=1,
        help_text="More than one for group sessions or walk-in style hours.",
    )
