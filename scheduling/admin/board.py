"""The day board: one clinic's day (its own calendar), doctor by doctor, with
each doctor's visits, load and free places. The figures come from
selectors.doctor_day_schedule, as the doctor's own day page and the API's
schedule do, so the three always agree."""

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import urlencode

from audit.services import audit_list
from clinics import selectors as clinic_selectors
from clinics.models import Clinic
from healthsvc.forms import CalendarDateField
from healthsvc.timezones import local_date_bounds
from scheduling import selectors

from .common import date_input


class DayBoardForm(forms.Form):
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.order_by("name", "id"), required=False,
                                    empty_label=None)
    date = CalendarDateField(label="Day (clinic time)", required=False, widget=date_input())
    doctor = forms.IntegerField(required=False, widget=forms.Select)


def _chosen(form: DayBoardForm):
    """The clinic (default: the first by name), the day (default: today
    there) and the doctor's id (default: all), ignoring what does not parse."""
    data = form.cleaned_data if form.is_valid() else {}
    clinic = data.get("clinic") or Clinic.objects.order_by("-is_active", "name", "id").first()
    if clinic is None:
        return None, None, None
    day = data.get("date") or timezone.localdate(timezone=clinic.tzinfo)
    return clinic, day, data.get("doctor")


def _day_url(clinic, day, doctor_id) -> str:
    query = {"clinic": clinic.pk, "date": f"{day:%Y-%m-%d}"}
    if doctor_id:
        query["doctor"] = doctor_id
    return "?" + urlencode(query)


def board_view(model_admin, request):
    """GET ?clinic=&date=&doctor=: the clinic's active doctors (or the one
    chosen) with their day, in a number of queries that does not grow with
    the doctors or their visits."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    clinic, day, doctor_id = _chosen(DayBoardForm(request.GET or None))
    form = DayBoardForm(initial={"clinic": clinic and clinic.pk, "date": day, "doctor": doctor_id})
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "form": form,
               "title": "Day board", "clinic": clinic, "day": day}
    if clinic is None:
        return TemplateResponse(request, "admin/scheduling/appointment/board.html", context)
    doctors = list(clinic_selectors.doctor_list(clinic_id=clinic.pk))
    form.fields["doctor"].widget.choices = [("", "All doctors")] + [
        (d.pk, f"Dr. {d.user.name} ({d.specialty})") for d in doctors
    ]
    today = timezone.localdate(timezone=clinic.tzinfo)
    schedules = selectors.doctor_day_schedules(doctors=[d for d in doctors if doctor_id in (None, d.pk)], day=day)
    audit_list("appointment", count=sum(len(schedule.appointments) for schedule in schedules))  # names shown
    context.update({
        "schedules": schedules,
        "today": today, "tz_abbr": timezone.localtime(local_date_bounds(day, clinic.tzinfo)[0], clinic.tzinfo).tzname(),
        "prev_url": _day_url(clinic, day - timedelta(days=1), doctor_id),
        "next_url": _day_url(clinic, day + timedelta(days=1), doctor_id),
        "today_url": _day_url(clinic, today, doctor_id),
    })
    return TemplateResponse(request, "admin/scheduling/appointment/board.html", context)
