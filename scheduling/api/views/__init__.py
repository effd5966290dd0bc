"""Slot, appointment and schedule endpoints (the "Slots", "Appointments" and
"Schedules" sections of ../shared/docs/API.md). Each handler parses with an
input serializer, calls a selector or service and serializes the answer;
domain errors are left to healthsvc.api.exception_handler."""

from .appointments import (  # noqa: F401
    AppointmentBookApi,
    AppointmentCalendarApi,
    AppointmentCancelApi,
    AppointmentConfirmApi,
    AppointmentDeclineApi,
    AppointmentDetailApi,
    AppointmentListApi,
    AppointmentRescheduleApi,
    PatientAppointmentListApi,
)
from .feeds import DoctorCalendarFeedApi, DoctorCalendarFeedRotateApi  # noqa: F401
from .patients import PatientDetailApi  # noqa: F401
from .schedules import (  # noqa: F401
    AvailabilityRuleDetailApi,
    AvailabilityRuleListCreateApi,
    DoctorScheduleApi,
    LeaveDetailApi,
    LeaveListCreateApi,
    SlotGenerationApi,
)
from .slots import SlotDetailApi, SlotListCreateApi  # noqa: F401
from .waitlist import WaitlistAcceptApi, WaitlistDetailApi, WaitlistListCreateApi  # noqa: F401
