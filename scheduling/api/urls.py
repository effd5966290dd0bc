"""Mounted under /api/v1/ in the `api` namespace (healthsvc/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("slots", views.SlotListCreateApi.as_view(), name="slot-list"),
    path("slots/<int:slot_id>", views.SlotDetailApi.as_view(), name="slot-detail"),
    # The patient's record: accounts' view with DELETE, which cancels their visits (views/patients.py).
    path("patients/<int:patient_id>", views.PatientDetailApi.as_view(), name="patient-detail"),
    path("patients/<int:patient_id>/appointments", views.PatientAppointmentListApi.as_view(),
         name="patient-appointment-list"),
    path("appointments", views.AppointmentListApi.as_view(), name="appointment-list"),
    path("appointments/book", views.AppointmentBookApi.as_view(), name="appointment-book"),
    path("appointments/<int:appointment_id>", views.AppointmentDetailApi.as_view(), name="appointment-detail"),
    path("appointments/<int:appointment_id>/cancel", views.AppointmentCancelApi.as_view(), name="appointment-cancel"),
    path(
        "appointments/<int:appointment_id>/reschedule", views.AppointmentRescheduleApi.as_view(),
        name="appointment-reschedule",
    ),
    path("appointments/<int:appointment_id>/confirm", views.AppointmentConfirmApi.as_view(),
         name="appointment-confirm"),
    path("appointments/<int:appointment_id>/decline", views.AppointmentDeclineApi.as_view(),
         name="appointment-decline"),
    path("appointments/<int:appointment_id>/ics", views.AppointmentCalendarApi.as_view(), name="appointment-ics"),
    # The waitlist: patients for themselves (admins list and remove).
    path("waitlist", views.WaitlistListCreateApi.as_view(), name="waitlist-list"),
    path("waitlist/<int:entry_id>", views.WaitlistDetailApi.as_view(), name="waitlist-detail"),
    path("waitlist/<int:entry_id>/accept", views.WaitlistAcceptApi.as_view(), name="waitlist-accept"),
    # Schedules: the doctor for their own, admins.
    path("doctors/<int:doctor_id>/availability", views.AvailabilityRuleListCreateApi.as_view(),
         name="doctor-availability-list"),
    path("doctors/<int:doctor_id>/availability/generate", views.SlotGenerationApi.as_view(),
         name="doctor-availability-generate"),
    path("availability/<int:rule_id>", views.AvailabilityRuleDetailApi.as_view(), name="availability-rule-detail"),
    path("doctors/<int:doctor_id>/leaves", views.LeaveListCreateApi.as_view(), name="doctor-leave-list"),
    path("leaves/<int:leave_id>", views.LeaveDetailApi.as_view(), name="leave-detail"),
    path("doctors/<int:doctor_id>/schedule", views.DoctorScheduleApi.as_view(), name="doctor-schedule"),
    path("doctors/<int:doctor_id>/calendar-feed", views.DoctorCalendarFeedRotateApi.as_view(),
         name="doctor-calendar-feed"),
]
