"""Portal pages for finding a doctor: the home page, search, the soonest
times of a specialty side by side, a doctor's week.

They live here, not in clinics, because they show free times: clinics sits
below scheduling and never imports it."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.http import urlencode

from clinics import selectors as clinic_selectors
from clinics.forms import PART_OF_DAY_CHOICES, DoctorSearchForm
from clinics.search import search_terms_parse
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


def _searched(form: DoctorSearchForm) -> list[str]:
    """What the patient asked for, in words, for a page that found nobody."""
    data = getattr(form, "cleaned_data", {})  # none on a page opened without criteria
    words = [f"“{data['q']}”"] if data.get("q") else []
    words += [data[name] for name in ("specialty", "city") if data.get(name)]
    if data.get("clinic"):
        words.append(dict(form.fields["clinic"].choices).get(data["clinic"], ""))
    if data.get("date_from"):
        words.append(f"free from {date_format(data['date_from'], 'D j M Y')}")
    if data.get("part_of_day"):
        words.append(dict(PART_OF_DAY_CHOICES)[data["part_of_day"]].lower())
    return words


def doctor_list(request):
    """Doctors by free text, specialty, city and clinic, each with the clinic's
    address and the next free time; sorted by that time or by name, with a
    from-date and time-of-day filter; paginated. A search that finds nobody
    says what was searched and offers the nearest matches."""
    form = _search_form(request)
    form.is_valid()  # an invalid criterion is shown as an error and ignored
    filters = form.filters()
    sort = form.chosen_sort() or selectors.doctor_sort_default(
        specialty=filters["specialty"], city=filters["city"], search=filters["search"])
    doctors = selectors.doctor_list_with_next_free(sort=sort, **form.times(), **filters)
    page = Paginator(doctors, DOCTORS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "now": timezone.now(), "sort": sort}
    # The side-by-side page, for a specialty some doctor has.
    specialty = filters["specialty"] or search_terms_parse(filters["search"]).specialty
    if specialty and specialty in dict(form.fields["specialty"].choices):
        times = form.times()
        query = {"specialty": specialty, "city": filters["city"], "date_from": times["from_date"],
                 "part_of_day": times["part_of_day"]}
        context["soonest_specialty"] = specialty
        context["soonest_url"] = "?".join([
            reverse("scheduling:doctor-soonest"), urlencode({key: value for key, value in query.items() if value})])
    if not page.paginator.count:
        context["searched"] = _searched(form)
        context["suggestions"] = (
            clinic_selectors.doctor_search_suggestions(text=filters["search"]) if filters["search"] else []
        )
        context["specialties"] = [choice for choice, _ in form.fields["specialty"].choices if choice]
    return render(request, "scheduling/doctor_list.html", context)


def doctor_soonest(request):
    """The next free times of a specialty's doctors (in a city, from a date,
    mornings or afternoons) side by side, soonest first, on one page."""
    form = _search_form(request)
    form.is_valid()
    filters = form.filters()
    specialty = filters["specialty"] or search_terms_parse(filters["search"]).specialty
    entries = []
    if specialty:
        entries = selectors.doctor_list_soonest(specialty=specialty, city=filters["city"], **form.times())
    context = {"form": form, "specialty": specialty, "entries": entries,
               "specialties": [choice for choice, _ in form.fields["specialty"].choices if choice]}
    return render(request, "scheduling/doctor_soonest.html", context)


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
