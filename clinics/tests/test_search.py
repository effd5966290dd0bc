"""The free-text search as patients type it: every example of issue 12, on
SQLite and PostgreSQL (typos on PostgreSQL only)."""

import pytest

from clinics.search import search_fold, search_terms_parse
from clinics.selectors import clinic_list, doctor_list, doctor_search_suggestions
from clinics.tests.factories import ClinicFactory, DoctorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    """seed_demo's clinics and doctors, and a few more in London."""
    pune = ClinicFactory(name="Sunrise Heart & Skin Clinic", city="Pune", address="12 FC Road")
    mumbai = ClinicFactory(name="Sunrise Children's Clinic", city="Mumbai", address="4 Hill Road")
    london = ClinicFactory(
        name="Thames Family Practice", city="London", address="88 Borough High Street", timezone="Europe/London"
    )
    return {
        "mehta": DoctorFactory(clinic=pune, specialty="Cardiology", user__name="Anil Mehta"),
        "rao": DoctorFactory(clinic=pune, specialty="Dermatology", user__name="Kavya Rao"),
        "iyer": DoctorFactory(clinic=mumbai, specialty="Pediatrics", user__name="Sunil Iyer"),
        "shah": DoctorFactory(clinic=mumbai, specialty="Cardiology", user__name="Neha Shah"),
        "clarke": DoctorFactory(clinic=london, specialty="General Practice", user__name="Emma Clarke"),
        "okafor": DoctorFactory(clinic=london, specialty="Orthopedics", user__name="Tunde Okafor"),
        "nair": DoctorFactory(clinic=london, specialty="Dermatology", user__name="Priya Nair"),
        "fernandez": DoctorFactory(clinic=london, specialty="Cardiology", user__name="José Fernández"),
    }


def _found(search, **filters):
    return sorted(doctor.user.name for doctor in doctor_list(search=search, **filters))


def _names(catalogue, *keys):
    return sorted(catalogue[key].user.name for key in keys)


# --- the examples ---------------------------------------------------------


@pytest.mark.parametrize("text", ["Dr Mehta", "Dr. Mehta", "dr mehta", "mehta", "DR. MEHTA", "Doctor Mehta",
                                  "Dr. Anil Mehta", "  dr.mehta "])
def test_a_doctor_is_found_by_name_with_or_without_dr(catalogue, text):
    assert _found(text) == ["Anil Mehta"]


def test_a_city_finds_its_doctors(catalogue):
    assert _found("Pune") == _names(catalogue, "mehta", "rao")
    assert _found("London") == _names(catalogue, "clarke", "okafor", "nair", "fernandez")
    assert _found("london") == _found("LONDON")


def test_cardiologist_finds_cardiology(catalogue):
    assert _found("cardiologist") == _names(catalogue, "mehta", "shah", "fernandez")


@pytest.mark.parametrize("text", ["skin doctor", "Skin specialist", "dermatologist", "a skin doctor"])
def test_skin_doctor_finds_dermatology(catalogue, text):
    assert _found(text) == _names(catalogue, "rao", "nair")


@pytest.mark.parametrize("text", ["children's doctor", "childrens doctor", "Children\u2019s doctor", "kids doctor",
                                  "paediatrician", "pediatrics"])
def test_childrens_doctor_finds_pediatrics(catalogue, text):
    assert _found(text) == _names(catalogue, "iyer")


def test_skin_doctor_london_is_specialty_and_city(catalogue):
    assert _found("skin doctor London") == _names(catalogue, "nair")
    assert _found("skin doctor in London") == _names(catalogue, "nair")
    assert _found("London skin doctor") == _names(catalogue, "nair")
    assert _found("cardiologist pune") == _names(catalogue, "mehta")


def test_accents_are_ignored_both_ways(catalogue):
    assert _found("jose") == _found("José") == _found("fernandez") == ["José Fernández"]
    DoctorFactory(user__name="Jose Perez")
    assert _found("José") == ["Jose Perez", "José Fernández"]


def test_every_recognised_part_narrows(catalogue):
    assert _found("skin doctor Mumbai") == []
    assert _found("cardiologist shah") == _names(catalogue, "shah")
    assert _found("children's doctor London") == []


def test_an_everyday_word_also_finds_a_clinic_named_with_it(catalogue):
    # "heart" means Cardiology, and the Pune clinic is called "Heart & Skin".
    assert _found("heart") == _names(catalogue, "mehta", "shah", "fernandez", "rao")


def test_unrecognised_words_still_match_specialty_and_clinic_as_written(catalogue):
    assert _found("derma") == _names(catalogue, "rao", "nair")
    assert _found("thames") == _names(catalogue, "clarke", "okafor", "nair", "fernandez")
    assert _found("orthopedics") == _names(catalogue, "okafor")


def test_nothing_is_found_for_words_nobody_matches(catalogue):
    assert _found("zebra") == []
    assert _found("mehta zebra") == []


def test_filler_alone_finds_everyone(catalogue):
    assert len(_found("doctor")) == len(catalogue)


def test_search_combines_with_the_other_filters(catalogue):
    assert _found("skin doctor", city="london") == _names(catalogue, "nair")
    assert _found("London", specialty="Cardiology") == _names(catalogue, "fernandez")


def test_search_never_shows_inactive_doctors(catalogue):
    catalogue["nair"].is_active = False
    catalogue["nair"].save()
    assert _found("skin doctor London") == []


# --- clinics' ?search= ------------------------------------------------------------


def _clinics(search):
    return [clinic.name for clinic in clinic_list(search=search)]


def test_clinic_search_reads_specialties_and_cities(catalogue):
    assert _clinics("children's doctor") == ["Sunrise Children's Clinic"]
    assert _clinics("skin doctor London") == ["Thames Family Practice"]
    assert _clinics("cardiologist") == ["Sunrise Children's Clinic", "Sunrise Heart & Skin Clinic",
                                        "Thames Family Practice"]
    assert _clinics("Pune") == ["Sunrise Heart & Skin Clinic"]
    assert _clinics("borough") == ["Thames Family Practice"]


# --- parsing ----------------------------------------------------------------------


def test_fold_drops_case_accents_and_apostrophes():
    assert search_fold("José D\u2019Souza's") == "jose dsouzas"
    assert search_fold(None) is None


def test_parse_takes_the_longest_phrase_and_leaves_out_filler():
    terms = search_terms_parse("Dr. skin doctor in London")
    assert terms.specialties == (("Dermatology", "skin doctor"),) and terms.words == ("london",)
    assert terms.specialty == "Dermatology"
    assert search_terms_parse("dr mehta").words == ("mehta",)
    assert not search_terms_parse("Dr. ")


# --- nearest matches for a search that found nobody -------------------------------


def test_suggestions_offer_the_closest_doctor_names(catalogue):
    suggestions = doctor_search_suggestions(text="Dr Mehtra")
    assert suggestions and suggestions[0] == catalogue["mehta"]
    assert doctor_search_suggestions(text="qqqqqq") == []
    # A specialty found nowhere near: its doctors anywhere.
    assert doctor_search_suggestions(text="skin doctor Mumbai")[:2] == [catalogue["rao"], catalogue["nair"]]
    assert doctor_search_suggestions(text="Dr.") == []


# --- typos (pg_trgm) --------------------------------------------------------------


@pytest.mark.postgres_only
def test_typos_are_tolerated_on_postgresql(catalogue):
    assert _found("Dr Mehtaa") == ["Anil Mehta"]
    assert _found("cardiolgy") == _names(catalogue, "mehta", "shah", "fernandez")
    assert _found("skin doctor Londn") == _names(catalogue, "nair")
    assert _clinics("Londn") == ["Thames Family Practice"]
    assert _found("Jose Fernandes") == ["José Fernández"]


@pytest.mark.postgres_only
def test_the_search_columns_have_trigram_indexes():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%%_trgm_idx'")
        indexes = dict(cursor.fetchall())
    assert set(indexes) == {
        "accounts_user_name_trgm_idx", "clinics_doctor_specialty_trgm_idx", "clinics_clinic_name_trgm_idx",
        "clinics_clinic_city_trgm_idx", "clinics_clinic_address_trgm_idx",
    }
    assert all("gin" in sql and "gin_trgm_ops" in sql and "hs_search_fold" in sql for sql in indexes.values())
