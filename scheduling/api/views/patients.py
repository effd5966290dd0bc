"""A patient's record, read and changed as accounts' view does, and closed
(DELETE): closing it cancels the patient's future visits, which accounts,
below scheduling, cannot reach. So the resource is mounted from here."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from accounts.api import views as accounts_views
from accounts.models import User
from accounts.selectors import patient_get_for_user
from healthsvc.api.serializers import error_responses
from healthsvc.exceptions import ErrorCode
from scheduling import services


class PatientDetailApi(accounts_views.PatientDetailApi):
    @extend_schema(
        operation_id="patients_destroy", tags=["patients"], summary="Deactivate a patient's account (admin)",
        description=(
            "Closes the account, it is not deleted: the patient can no longer log in, and every token of "
            "theirs stops working at once (an access token already issued gets 401 TOKEN_INVALID). Their "
            "record, appointments and audit trail stay readable to admins. Their future pending or confirmed "
            "appointments, and those of the family members they book for, are cancelled: the places return to "
            "the slots (waitlists are offered them) and the patient is told by mail, as of any cancellation by "
            "the clinic. Visits already begun or past stay as they are. Deactivating an inactive account "
            "changes nothing (204). A family member has no login of their own: 409 PATIENT_IS_DEPENDENT."
        ),
        responses={
            204: None,
            **error_responses(401, 403, 404, codes=[ErrorCode.PATIENT_IS_DEPENDENT],
                              texts={409: "A family member has no login."}),
        },
    )
    def delete(self, request, patient_id: int):
        if request.user.role != User.Role.ADMIN:
            # Found (404) before refused (403, by the service), as the other methods:
            # nobody learns which ids exist.
            patient_get_for_user(user=request.user, patient_id=patient_id)
        services.patient_deactivate(patient_id=patient_id, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
