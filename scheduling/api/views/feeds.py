"""A doctor's private calendar feed: POST /api/v1/doctors/{id}/calendar-feed
makes a new URL (the doctor, an admin), GET /feeds/doctors/{token}.ics is the
feed itself, for whoever holds the URL (a calendar app subscribing to it)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.selectors import doctor_get_by_calendar_feed_token
from clinics.services import doctor_calendar_feed_rotate
from healthsvc.api.renderers import CalendarRenderer
from healthsvc.api.views import JsonErrorsMixin, MethodCheckedMixin
from scheduling import selectors
from scheduling.api.serializers import CalendarFeedOutputSerializer
from scheduling.feeds import doctor_feed_ics, doctor_feed_url

from .common import FEED_EXAMPLE, SCHEDULE_403, SCHEDULE_404, errors
from .schedules import ScheduleApi

_TOKEN = OpenApiParameter(
    "token", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[0-9]+\.[A-Za-z0-9_-]+$",
    description="The token of the URL POST /api/v1/doctors/{id}/calendar-feed gave.",
)


class DoctorCalendarFeedRotateApi(ScheduleApi):
    """POST: a new private feed URL for the doctor; the previous one stops working."""

    serializer_class = CalendarFeedOutputSerializer

    @extend_schema(
        operation_id="doctors_calendar_feed_create", tags=["schedules"],
        summary="Make a new calendar feed URL",
        description="A private iCalendar feed of the doctor's upcoming visits, for the doctor or an admin to "
                    "subscribe to in a calendar app. The URL is shown this once; the previous one stops working "
                    "(404). The feed carries no health data: the patient's first name and last initial, the "
                    "time and the clinic.",
        request=None,
        responses={200: CalendarFeedOutputSerializer,
                   **errors(401, 403, 404, texts={403: SCHEDULE_403, 404: SCHEDULE_404})},
        examples=[OpenApiExample("A new URL", response_only=True, status_codes=["200"], value={
            "url": "https://clinic.example.com/feeds/doctors/3.Jq7mX2vR9sLk0pT4wYb8cN1eHf6uZa3dQ-5iWo_rGhE.ics",
        })],
    )
    def post(self, request, doctor_id: int):
        token = doctor_calendar_feed_rotate(doctor=self.get_doctor(doctor_id))
        return Response(CalendarFeedOutputSerializer({"url": doctor_feed_url(request, token)}).data)


class DoctorCalendarFeedApi(JsonErrorsMixin, MethodCheckedMixin, APIView):
    """The feed a calendar app subscribes to. No login (the URL is the secret),
    so the anonymous rate limit applies; an unknown, malformed or replaced
    token is a 404."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [CalendarRenderer]

    @extend_schema(
        operation_id="doctors_calendar_feed_retrieve", tags=["schedules"], auth=[],
        summary="Read a doctor's calendar feed",
        description="For anyone holding the URL POST /doctors/{id}/calendar-feed gave (no login: the URL is "
                    "the secret). Pending and confirmed visits from now on (up to 180 days ahead), in the "
                    "clinic's zone, without health data. Errors are the usual JSON envelope.",
        parameters=[_TOKEN],
        responses={
            200: OpenApiResponse(OpenApiTypes.STR, description="A VCALENDAR with one VEVENT per visit."),
            **errors(404, 406, texts={404: "NOT_FOUND: no such feed (never made, or replaced by a new one)."}),
        },
        examples=[OpenApiExample("One visit", value=FEED_EXAMPLE, response_only=True, status_codes=["200"],
                                 media_type="text/calendar")],
    )
    def get(self, request, token: str):
        doctor = doctor_get_by_calendar_feed_token(token=token)
        appointments = selectors.appointment_list_for_feed(doctor=doctor)
        return Response(doctor_feed_ics(doctor=doctor, appointments=appointments).decode(), headers={
            "Content-Disposition": f'inline; filename="doctor-{doctor.pk}.ics"',
        })
