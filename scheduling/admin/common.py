"""What the scheduling admin pages share: times on the clinic's clocks, the
"Day (clinic time)" filter, domain errors shown on the form that caused them,
and the report of an action run over many rows."""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from clinics.models import Clinic
from healthsvc.admin_widgets import SafeAutocompleteSelect
from healthsvc.exceptions import ApplicationError
from healthsvc.forms import add_service_errors
from healthsvc.timezones import local_date_bounds

DATE_INPUT = {"attrs": {"type": "date"}, "format": "%Y-%m-%d"}
TIME_INPUT = {"attrs": {"type": "time"}, "format": "%H:%M"}
REPEATED_TIME_HELP = (
    "On the clinic's clocks. A time the clocks show twice (when they go back) means its first "
    "occurrence; a time they skip (when they go forward) is refused."
)


def date_input() -> forms.DateInput:
    # The browser's own date picker: the admin's calendar offers "Today" in the
    # browser's zone, which is not the clinic's.
    return forms.DateInput(**DATE_INPUT)


def time_input() -> forms.TimeInput:
    return forms.TimeInput(**TIME_INPUT)


def clinic_time(moment: datetime | None, clinic: Clinic) -> str | None:
    """`2030-03-01 10:00 IST (Asia/Kolkata)`: the moment on the clinic's clocks,
    naming the zone. None stays None (the admin shows its empty value)."""
    if moment is None:
        return None
    local = timezone.localtime(moment, clinic.tzinfo)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({clinic.timezone})"


def clinic_clock(moment: datetime, clinic: Clinic) -> str:
    """`10:00 IST (Asia/Kolkata)`: the time of day only, for lists of one day."""
    local = timezone.localtime(moment, clinic.tzinfo)
    return f"{local:%H:%M} {local.tzname()} ({clinic.timezone})"


def autocomplete(field: forms.ModelChoiceField, model_field, admin_site, widget_class=SafeAutocompleteSelect) -> None:
    """Give a form field the admin's search-as-you-type widget for `model_field`
    (it searches the related model admin's search_fields)."""
    field.widget = widget_class(model_field, admin_site)
    field.widget.choices = field.choices


class ClinicTimeColumns:
    """The doctor's name and the row's times on its clinic's clocks, naming the
    zone, as list columns and read-only fields; `clinic_of(row)` says which
    clinic (a slot's or an appointment's own, a leave's doctor's)."""

    @staticmethod
    def clinic_of(obj) -> Clinic:
        return obj.clinic

    @admin.display(description="Doctor", ordering="doctor__user__name")
    def doctor_name(self, obj):
        return obj.doctor.user.name

    @admin.display(description="Starts (clinic time)", ordering="start")
    def local_start(self, obj):
        return clinic_time(obj.start, self.clinic_of(obj))

    @admin.display(description="Ends (clinic time)", ordering="end")
    def local_end(self, obj):
        return clinic_time(obj.end, self.clinic_of(obj))

    @admin.display(description="Created (clinic time)", ordering="created_at")
    def local_created(self, obj):
        return clinic_time(obj.created_at, self.clinic_of(obj))

    @admin.display(description="Updated (clinic time)")
    def local_updated(self, obj):
        return clinic_time(obj.updated_at, self.clinic_of(obj))


# --- "Day (clinic time)" ------------------------------------------------------------


def local_days_in_each_clinic(
    *, first: int, days: int, zone_field: str = "clinic__timezone", overlapping: bool = False
) -> Q:
    """Rows on the local days today+`first` .. today+`first`+`days`-1 of their own
    clinic's calendar: one [start, end) range per time zone the clinics use.
    A row is on those days when it starts in them or, with `overlapping`, when
    any part of it (start to end) is."""
    now = timezone.now()
    condition = Q(pk__in=[])
    for tz_name in Clinic.objects.order_by().values_list("timezone", flat=True).distinct():
        tz = ZoneInfo(tz_name)
        today = timezone.localdate(now, tz)
        start, _ = local_date_bounds(today + timedelta(days=first), tz)
        _, end = local_date_bounds(today + timedelta(days=first + days - 1), tz)
        within = Q(start__lt=end, end__gt=start) if overlapping else Q(start__gte=start, start__lt=end)
        condition |= Q(**{zone_field: tz_name}) & within
    return condition


class ClinicDayFilter(admin.SimpleListFilter):
    """Rows by day in each row's own clinic's calendar (a date hierarchy would
    group them by UTC dates). Both 7-day ranges include today."""

    title = "Day (clinic time)"
    parameter_name = "day"
    zone_field = "clinic__timezone"
    overlapping = False
    RANGES = {
        "today": ("Today", 0, 1),
        "tomorrow": ("Tomorrow", 1, 1),
        "next7": ("Next 7 days", 0, 7),
        "past7": ("Past 7 days", -6, 7),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _, _) in self.RANGES.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.RANGES:
            return None
        _, first, days = self.RANGES[self.value()]
        return queryset.filter(local_days_in_each_clinic(
            first=first, days=days, zone_field=self.zone_field, overlapping=self.overlapping
        ))


# --- domain errors on the form --------------------------------------------------------


def add_service_error(form: forms.BaseForm, exc: ApplicationError) -> None:
    """Put a service's refusal on the form (healthsvc.forms.add_service_errors),
    with the form's own `service_fields` mapping."""
    add_service_errors(form, exc, getattr(form, "service_fields", None))


class _WithServiceError:
    service_error: ApplicationError

    def clean(self):
        cleaned = super().clean()
        add_service_error(self, self.service_error)
        return cleaned


class ServiceErrorsOnFormMixin:
    """A domain error raised by a service while the admin saves (a rule only the
    service checks, or a race lost after the form validated) is shown on the
    form that was filled in, never as a 500. The save's transaction (the
    admin's changeform_view is atomic) rolls back whole, then the same POST is
    validated again with the error added, so the form comes back as typed."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            if request.method != "POST" or hasattr(request, "_service_error"):
                raise
            request._service_error = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form
        return type(form.__name__, (_WithServiceError, form), {"service_error": error})


# --- actions over many rows -----------------------------------------------------------


def apply_each(items: Iterable[tuple[str, object]], act: Callable[[object], object]) -> tuple[int, list[str]]:
    """Call `act(item)` for each (label, item), each in its own service
    transaction; returns how many succeeded and "label: refusal" for the others."""
    done, refused = 0, []
    for label, item in items:
        try:
            act(item)
        except ApplicationError as exc:
            refused.append(f"{label}: {exc.message}")
        else:
            done += 1
    return done, refused


def report(model_admin, request, *, done_text: str, refused: list[str], refused_text: str) -> None:
    model_admin.message_user(request, done_text, messages.SUCCESS if not refused else messages.INFO)
    if refused:
        model_admin.message_user(request, f"{refused_text} " + "; ".join(refused), messages.WARNING)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        help_text="Shown to the patient, on the portal and in the cancellation email.",
    )


class CancelReasonForm(ReasonForm):
    """A cancellation's reason for the patient, and what only staff and the doctor read."""

    internal_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False,
        help_text="Optional. For the doctor and staff only: never shown or mailed to the patient.",
    )
