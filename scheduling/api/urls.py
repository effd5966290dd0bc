"""Mounted under /api/v1/ in the `api` namespace (healthsvc/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("slots", views.SlotListCreateApi.as_view(), name="slot-list"),
    path("slots/<int:slot_id>", views.SlotDetailApi.as_view(), name="slot-detail"),
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
]
