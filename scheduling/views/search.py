"""Portal pages for finding a doctor: the home page, search, a doctor's week.

They live here, not in clinics, because they show free times: clinics sits
below scheduling and never imports it."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from clinics import selectors as clinic_selectors
from clinics.forms import DoctorSearchForm
from healthsvc.exceptions import NotFoundError
from scheduling import selectors

from .common import week_context

DOCTORS_PER_PAGE = 10


def _search_form(request) -> DoctorSearchForm:
    clinics = list(clinic_selectors.clinic_list())
    return DoctorSearchForm(
        request.GET or None,
        specialties=clinic_selectors.specialty_list(),
        cities=sorted({clinic.city for clinic in clinics}),
        clinics=clinics,
    )


def home(request):
    """Search for a doctor; a patient also sees their next appointments."""
    context = {"form": _search_form(request), "specialties": clinic_selectors.specialty_list()}
    if request.user.is_authenticated and hasattr(request.user, "patient"):
        context["upcoming"] = selectors.appointment_list_upcoming(user=request.user)[:3]
    return render(request, "scheduling/home.html", context)


def doctor_list(request):
    """Doctors by specialty, city, clinic and name, each with the clinic's
    address and the next free time; paginated."""
    form = _search_form(request)
    form.is_valid()  # an invalid criterion is shown as an error and ignored
    doctors = selectors.doctor_list_with_next_free(**form.filters())
    page = Paginator(doctors, DOCTORS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "scheduling/doctor_list.html", {"form": form, "page": page, "now": timezone.now()})


def doctor_detail(request, doctor_id: int):
    """Qualifications, clinic and a week of free times in the clinic's zone."""
    try:
        doctor = clinic_selectors.doctor_get(doctor_id=doctor_id)
    except NotFoundError:
        raise Http404("Doctor not found.") from None
    context = {"doctor": doctor, **week_context(request, doctor=doctor)}
    if request.user.is_authenticated and hasattr(request.user, "patient"):
        # A day with no free time offers its waitlist instead (views/waitlist.py).
        context["waitlist_join_url"] = reverse("scheduling:waitlist-join", args=[doctor.pk])
    return render(request, "scheduling/doctor_detail.html", context)
