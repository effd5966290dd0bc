"""Portal pages for finding a doctor: the home page, search, a doctor's week."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from clinics import selectors
from clinics.forms import DoctorSearchForm
from healthsvc.exceptions import NotFoundError
from scheduling.selectors import appointment_list_upcoming
from scheduling.views import week_context

DOCTORS_PER_PAGE = 10


def _search_form(request) -> DoctorSearchForm:
    clinics = list(selectors.clinic_list())
    return DoctorSearchForm(
        request.GET or None,
        specialties=selectors.specialty_list(),
        cities=sorted({clinic.city for clinic in clinics}),
        clinics=clinics,
    )


def home(request):
    """Search for a doctor; a patient also sees their next appointments."""
    context = {"form": _search_form(request), "specialties": selectors.specialty_list()}
    if request.user.is_authenticated and hasattr(request.user, "patient"):
        context["upcoming"] = appointment_list_upcoming(user=request.user)[:3]
    return render(request, "clinics/home.html", context)


def doctor_list(request):
    """Doctors by specialty, city, clinic and name, each with the clinic's
    address and the next free time; paginated."""
    form = _search_form(request)
    form.is_valid()  # an invalid criterion is shown as an error and ignored
    doctors = selectors.doctor_list(with_next_free=True, **form.filters())
    page = Paginator(doctors, DOCTORS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "clinics/doctor_list.html", {"form": form, "page": page, "now": timezone.now()})


def doctor_detail(request, doctor_id: int):
    """Qualifications, clinic and a week of free times in the clinic's zone."""
    try:
        doctor = selectors.doctor_get(doctor_id=doctor_id)
    except NotFoundError:
        raise Http404("Doctor not found.") from None
    context = {"doctor": doctor, **week_context(request, doctor=doctor)}
    return render(request, "clinics/doctor_detail.html", context)
