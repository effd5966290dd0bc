"""Portal pages for finding a doctor: home, search, a doctor's week."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


def _local(moment, clinic):
    return timezone.localtime(moment, clinic.tzinfo)


def _tomorrow_at(clinic, hour, minute=0, days=1):
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=clinic.tzinfo)


# --- home -----------------------------------------------------------------------


def test_home_offers_the_search_and_specialties(client, doctor, other_doctor):
    html = client.get(reverse("scheduling:home")).content.decode()
    assert 'role="search"' in html and 'action="/doctors/"' in html
    assert "?specialty=Cardiology" in html and "?specialty=Dermatology" in html


def test_home_shows_a_patients_next_appointment(client, patient, slot):
    services.appointment_book(patient=patient, slot_id=slot.pk, reason="Checkup")
    client.force_login(patient.user)
    html = client.get(reverse("scheduling:home")).content.decode()
    assert "Your next appointments" in html and f"Dr. {slot.doctor.user.name}" in html


def test_home_does_not_show_another_patients_appointment(client, patient, other_patient, slot):
    theirs = SlotFactory(doctor=DoctorFactory(user__name="Zed Zebrowski"))
    services.appointment_book(patient=other_patient, slot_id=theirs.pk)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    client.force_login(patient.user)
    html = client.get(reverse("scheduling:home")).content.decode()
    assert f"Dr. {slot.doctor.user.name}" in html and "Zebrowski" not in html


# --- search ---------------------------------------------------------------------


@pytest.fixture
def two_cities():
    pune = ClinicFactory(name="Heart Care", city="Pune", address="12 FC Road", timezone="Asia/Kolkata")
    london = ClinicFactory(
        name="Thames Practice", city="London", address="88 Borough High St", timezone="Europe/London"
    )
    return {
        "mehta": DoctorFactory(clinic=pune, specialty="Cardiology", user__name="Anil Mehta"),
        "rao": DoctorFactory(clinic=pune, specialty="Dermatology", user__name="Kavya Rao"),
        "clarke": DoctorFactory(clinic=london, specialty="Cardiology", user__name="Emma Clarke"),
    }


def _names(response):
    return [doctor.user.name for doctor in response.context["page"].object_list]


def test_search_lists_every_active_doctor_by_name(client, two_cities):
    DoctorFactory(is_active=False, user__name="Zed Gone")
    response = client.get(reverse("scheduling:doctor-list"))
    assert response.status_code == 200
    assert _names(response) == ["Anil Mehta", "Emma Clarke", "Kavya Rao"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"specialty": "Cardiology"}, ["Anil Mehta", "Emma Clarke"]),
        ({"city": "London"}, ["Emma Clarke"]),
        ({"specialty": "Cardiology", "city": "Pune"}, ["Anil Mehta"]),
        ({"q": "kavya"}, ["Kavya Rao"]),
        ({"q": "thames"}, ["Emma Clarke"]),
    ],
)
def test_search_filters(client, two_cities, query, expected):
    assert _names(client.get(reverse("scheduling:doctor-list"), query)) == expected


def test_search_by_clinic(client, two_cities):
    clinic = two_cities["clarke"].clinic
    assert _names(client.get(reverse("scheduling:doctor-list"), {"clinic": clinic.pk})) == ["Emma Clarke"]


def test_search_with_an_unknown_choice_shows_an_error_and_ignores_it(client, two_cities):
    response = client.get(reverse("scheduling:doctor-list"), {"clinic": "999999", "specialty": "Cardiology"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert _names(response) == ["Anil Mehta", "Emma Clarke"]


def test_result_shows_clinic_address_and_next_free_time_in_the_clinic_zone(client, two_cities):
    doctor = two_cities["mehta"]
    start = _tomorrow_at(doctor.clinic, 9, 30)
    SlotFactory(doctor=doctor, start=start)
    full = SlotFactory(doctor=doctor, start=start - timedelta(hours=1), capacity=1)
    SlotFactory(doctor=two_cities["clarke"], start=_tomorrow_at(two_cities["clarke"].clinic, 14))
    services.appointment_book(patient=PatientFactory(), slot_id=full.pk)
    html = client.get(reverse("scheduling:doctor-list"), {"city": "Pune"}).content.decode()
    assert "12 FC Road" in html and "Heart Care" in html
    assert f"{start.astimezone(doctor.clinic.tzinfo):%H:%M}" == "09:30" and ", 09:30" in html
    assert "IST (Asia/Kolkata)" in html
    assert f"?week={start.date():%Y-%m-%d}" in html
    london = client.get(reverse("scheduling:doctor-list"), {"city": "London"}).content.decode()
    assert ", 14:00" in london and "(Europe/London)" in london


def test_doctor_without_free_time_says_so(client, doctor):
    assert "No free times at the moment." in client.get(reverse("scheduling:doctor-list")).content.decode()


def test_search_is_paginated_and_keeps_the_filters(client, clinic):
    for n in range(12):
        DoctorFactory(clinic=clinic, specialty="Cardiology", user__name=f"Doctor {n:02d}")
    first = client.get(reverse("scheduling:doctor-list"), {"specialty": "Cardiology"})
    assert len(first.context["page"].object_list) == 10 and first.context["page"].paginator.count == 12
    assert "?specialty=Cardiology&amp;page=2" in first.content.decode()
    second = client.get(reverse("scheduling:doctor-list"), {"specialty": "Cardiology", "page": 2})
    assert _names(second) == ["Doctor 10", "Doctor 11"]
    assert client.get(reverse("scheduling:doctor-list"), {"page": "999"}).status_code == 200


def test_search_page_takes_a_flat_number_of_queries(client, clinic, django_assert_max_num_queries):
    for _ in range(10):
        SlotFactory(doctor=DoctorFactory(clinic=clinic))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("scheduling:doctor-list")).status_code == 200


def test_search_reads_the_patients_words(client, two_cities):
    url = reverse("scheduling:doctor-list")
    assert _names(client.get(url, {"q": "Dr. Mehta"})) == ["Anil Mehta"]
    assert _names(client.get(url, {"q": "skin doctor Pune"})) == ["Kavya Rao"]
    assert _names(client.get(url, {"q": "cardiologist London"})) == ["Emma Clarke"]


def test_zero_results_say_what_was_searched_and_offer_the_nearest(client, two_cities):
    response = client.get(reverse("scheduling:doctor-list"), {"q": "Dr Mehtra", "city": "London"})
    html = response.content.decode()
    assert response.status_code == 200 and response.context["page"].paginator.count == 0
    assert "No doctor matches “Dr Mehtra”, London." in html
    assert "Nearest matches" in html
    assert reverse("scheduling:doctor-detail", args=[two_cities["mehta"].pk]) in html
    assert "Browse by specialty" in html and "?specialty=Dermatology" in html


def test_an_empty_catalogue_without_criteria_says_nobody_matches(client):
    response = client.get(reverse("scheduling:doctor-list"))
    assert response.status_code == 200
    assert "No doctor matches all of these." in response.content.decode()


def test_zero_results_name_the_dates_and_time_of_day(client, two_cities):
    response = client.get(reverse("scheduling:doctor-list"),
                          {"specialty": "Dermatology", "date_from": "2031-01-06", "part_of_day": "afternoon"})
    html = response.content.decode()
    assert "No doctor matches Dermatology, free from Mon 6 Jan 2031, afternoon (from 12:00)." in html
    assert "Nearest matches" not in html


def test_with_a_specialty_the_soonest_free_time_comes_first(client, two_cities):
    mehta, clarke = two_cities["mehta"], two_cities["clarke"]
    SlotFactory(doctor=mehta, start=_tomorrow_at(mehta.clinic, 10, days=6))
    SlotFactory(doctor=clarke, start=_tomorrow_at(clarke.clinic, 10, days=2))
    url = reverse("scheduling:doctor-list")
    response = client.get(url, {"specialty": "Cardiology"})
    assert _names(response) == ["Emma Clarke", "Anil Mehta"] and response.context["sort"] == "soonest"
    assert "Soonest free time first." in response.content.decode()
    assert _names(client.get(url, {"specialty": "Cardiology", "sort": "name"})) == ["Anil Mehta", "Emma Clarke"]
    assert _names(client.get(url, {"q": "cardiologist"})) == ["Emma Clarke", "Anil Mehta"]
    everyone = client.get(url)
    assert everyone.context["sort"] == "name" and _names(everyone)[0] == "Anil Mehta"
    assert _names(client.get(url, {"sort": "soonest"}))[:2] == ["Emma Clarke", "Anil Mehta"]


def test_from_date_and_time_of_day_filter_the_results(client, two_cities):
    mehta, clarke = two_cities["mehta"], two_cities["clarke"]
    SlotFactory(doctor=mehta, start=_tomorrow_at(mehta.clinic, 10, days=6))
    SlotFactory(doctor=clarke, start=_tomorrow_at(clarke.clinic, 15, days=2))
    url = reverse("scheduling:doctor-list")
    later = timezone.localdate(timezone=mehta.clinic.tzinfo) + timedelta(days=4)
    assert _names(client.get(url, {"date_from": f"{later}"})) == ["Anil Mehta"]
    assert _names(client.get(url, {"part_of_day": "afternoon"})) == ["Emma Clarke"]
    assert _names(client.get(url, {"part_of_day": "morning"})) == ["Anil Mehta"]


@pytest.mark.parametrize("query", [{"date_from": "not a date"}, {"part_of_day": "midnight"}, {"sort": "price"}])
def test_a_bad_time_filter_or_sort_is_shown_as_an_error_and_ignored(client, two_cities, query):
    response = client.get(reverse("scheduling:doctor-list"), query)
    assert response.status_code == 200
    assert "field--error" in response.content.decode()
    assert _names(response) == ["Anil Mehta", "Emma Clarke", "Kavya Rao"]


def test_results_of_a_specialty_link_its_soonest_page(client, two_cities):
    html = client.get(reverse("scheduling:doctor-list"), {"q": "skin doctor", "part_of_day": "morning"}).content
    # Kavya Rao has no morning free time: nobody is found, so there is no link.
    assert reverse("scheduling:doctor-soonest").encode() not in html
    SlotFactory(doctor=two_cities["rao"], start=_tomorrow_at(two_cities["rao"].clinic, 9))
    html = client.get(reverse("scheduling:doctor-list"), {"q": "skin doctor", "part_of_day": "morning"}).content
    assert f'{reverse("scheduling:doctor-soonest")}?specialty=Dermatology&amp;part_of_day=morning'.encode() in html
    plain = client.get(reverse("scheduling:doctor-list"), {"q": "rao"}).content
    assert reverse("scheduling:doctor-soonest").encode() not in plain


# --- the soonest of a specialty -----------------------------------------------------


def test_soonest_page_shows_each_doctors_next_times_side_by_side(client, two_cities):
    mehta, clarke = two_cities["mehta"], two_cities["clarke"]
    mine = [SlotFactory(doctor=mehta, start=_tomorrow_at(mehta.clinic, 9, days=d)) for d in (1, 2, 3, 4, 5)]
    SlotFactory(doctor=clarke, start=_tomorrow_at(clarke.clinic, 16, 30, days=1))
    response = client.get(reverse("scheduling:doctor-soonest"), {"specialty": "Cardiology"})
    html = response.content.decode()
    assert response.status_code == 200 and "Soonest Cardiology appointments" in html
    assert [e.doctor.user.name for e in response.context["entries"]][0] in {"Anil Mehta", "Emma Clarke"}
    for slot in mine[:4]:
        assert reverse("scheduling:appointment-book", args=[slot.pk]) in html
    assert reverse("scheduling:appointment-book", args=[mine[4].pk]) not in html
    assert ", 16:30" in html and "Europe/London" in html and ", 09:00" in html
    assert "Kavya Rao" not in html


def test_soonest_page_reads_a_specialty_from_the_text_and_narrows_by_city(client, two_cities):
    clarke = two_cities["clarke"]
    SlotFactory(doctor=clarke, start=_tomorrow_at(clarke.clinic, 11))
    SlotFactory(doctor=two_cities["mehta"], start=_tomorrow_at(two_cities["mehta"].clinic, 11))
    response = client.get(reverse("scheduling:doctor-soonest"), {"q": "heart doctor", "city": "London"})
    assert [e.doctor.user.name for e in response.context["entries"]] == ["Emma Clarke"]


def test_soonest_page_without_a_specialty_offers_them(client, two_cities):
    html = client.get(reverse("scheduling:doctor-soonest")).content.decode()
    assert "Choose a specialty" in html and "?specialty=Dermatology" in html


def test_soonest_page_with_nobody_free_says_so(client, two_cities):
    html = client.get(reverse("scheduling:doctor-soonest"), {"specialty": "Dermatology"}).content.decode()
    assert "No Dermatology doctor has a free time" in html


def _add_neurologists(count):
    clinic = ClinicFactory(city="Nagpur")
    for n in range(count):
        doctor = DoctorFactory(clinic=clinic, specialty="Neurology")
        for days in (1, 2, 3, 4, 5):
            SlotFactory(doctor=doctor, start=_tomorrow_at(clinic, 9 + n % 8, days=days))


def _soonest_queries(client, django_assert_max_num_queries):
    """(queries, doctors shown) of the soonest Neurology page."""
    # The form's choices (2), the clinics' policies, the doctors, their slots;
    # a signed-in patient adds the session, the user and the session's refresh.
    with django_assert_max_num_queries(10) as captured:
        response = client.get(reverse("scheduling:doctor-soonest"), {"specialty": "Neurology"})
    assert response.status_code == 200
    entries = response.context["entries"]
    assert all(len(entry.slots) == 4 for entry in entries)
    return len(captured), len(entries)


@pytest.mark.parametrize("doctors", [2, 12])
def test_soonest_page_takes_a_flat_number_of_queries(client, django_assert_max_num_queries, doctors):
    _add_neurologists(doctors)
    assert _soonest_queries(client, django_assert_max_num_queries) == (5, doctors)


def test_soonest_page_queries_do_not_grow_with_doctors(client, patient, django_assert_max_num_queries):
    client.force_login(patient.user)
    _add_neurologists(2)
    few, shown = _soonest_queries(client, django_assert_max_num_queries)
    _add_neurologists(9)
    many, more_shown = _soonest_queries(client, django_assert_max_num_queries)
    assert (shown, more_shown) == (2, 11) and few == many


def test_search_with_text_and_times_takes_a_flat_number_of_queries(client, clinic, django_assert_max_num_queries):
    for _ in range(10):
        SlotFactory(doctor=DoctorFactory(clinic=clinic, specialty="Cardiology"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("scheduling:doctor-list"),
                              {"q": "dr cardiologist pune", "part_of_day": "morning", "sort": "soonest"})
    assert response.status_code == 200


# --- a doctor's page --------------------------------------------------------------


def test_doctor_page_shows_qualifications_and_clinic(client, clinic):
    doctor = DoctorFactory(clinic=clinic, qualifications="MBBS, MD (Cardiology)", experience_years=12)
    html = client.get(reverse("scheduling:doctor-detail", args=[doctor.pk])).content.decode()
    assert "MBBS, MD (Cardiology)" in html and "12 years of experience" in html
    assert clinic.name in html and clinic.address in html


def test_unknown_or_inactive_doctor_is_404(client, clinic):
    gone = DoctorFactory(clinic=clinic, is_active=False)
    assert client.get(reverse("scheduling:doctor-detail", args=[gone.pk])).status_code == 404
    assert client.get(reverse("scheduling:doctor-detail", args=[999999])).status_code == 404


def test_week_shows_free_slots_in_the_clinic_zone_and_hides_full_ones(client, doctor, patient):
    free = SlotFactory(doctor=doctor, start=_tomorrow_at(doctor.clinic, 10, 15))
    full = SlotFactory(doctor=doctor, start=_tomorrow_at(doctor.clinic, 11, 45))
    services.appointment_book(patient=patient, slot_id=full.pk)
    response = client.get(reverse("scheduling:doctor-detail", args=[doctor.pk]), {"week": f"{free.start.date()}"})
    html = response.content.decode()
    assert "Asia/Kolkata" in html and "(IST)" in html
    assert reverse("scheduling:appointment-book", args=[free.pk]) in html and "10:15" in html
    assert reverse("scheduling:appointment-book", args=[full.pk]) not in html
    days = response.context["days"]
    assert len(days) == 7 and days[0]["date"].weekday() == 0


def test_week_shows_places_left_on_group_slots(client, doctor):
    group = SlotFactory(doctor=doctor, start=_tomorrow_at(doctor.clinic, 16), capacity=4)
    url = reverse("scheduling:doctor-detail", args=[doctor.pk])
    html = client.get(url, {"week": f"{group.start.date()}"}).content.decode()
    assert "4 places" in html


def test_week_navigation_never_goes_into_the_past(client, doctor):
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    this_monday = today - timedelta(days=today.weekday())
    response = client.get(reverse("scheduling:doctor-detail", args=[doctor.pk]), {"week": "2001-01-01"})
    assert response.context["week_start"] == this_monday and response.context["prev_week"] is None
    later = client.get(reverse("scheduling:doctor-detail", args=[doctor.pk]), {"week": f"{today + timedelta(days=14)}"})
    assert later.context["prev_week"] == later.context["week_start"] - timedelta(days=7)
    assert f"?week={later.context['next_week']:%Y-%m-%d}" in later.content.decode()
    assert client.get(reverse("scheduling:doctor-detail", args=[doctor.pk]), {"week": "garbage"}).status_code == 200


def test_empty_week_points_to_the_next_free_time(client, doctor):
    later = SlotFactory(doctor=doctor, start=_tomorrow_at(doctor.clinic, 9, days=30))
    html = client.get(reverse("scheduling:doctor-detail", args=[doctor.pk])).content.decode()
    assert "No free times this week. The next one is" in html
    assert f"?week={later.start.astimezone(doctor.clinic.tzinfo).date():%Y-%m-%d}" in html
