"""The doctor lists' lean rows show what the full rows show, without more queries."""

from clinics.api.serializers import DoctorOutputSerializer
from clinics.selectors import doctor_list, doctor_rows_lean
from clinics.tests.factories import DoctorFactory


def test_lean_rows_serialize_as_full_rows_in_one_query(db, django_assert_num_queries):
    DoctorFactory.create_batch(3, qualifications="MBBS, MD", experience_years=12)
    full = DoctorOutputSerializer(list(doctor_list()), many=True).data
    with django_assert_num_queries(1):
        lean = DoctorOutputSerializer(list(doctor_rows_lean(doctor_list())), many=True).data
    assert lean == full and len(lean) == 3
