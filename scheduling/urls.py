from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("book/<int:slot_id>/", views.appointment_book, name="appointment-book"),
    path("appointments/", views.appointment_list, name="appointment-list"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="appointment-detail"),
    path("appointments/<int:appointment_id>/cancel/", views.appointment_cancel, name="appointment-cancel"),
    path("appointments/<int:appointment_id>/reschedule/", views.appointment_reschedule, name="appointment-reschedule"),
    path("appointments/<int:appointment_id>/calendar.ics", views.appointment_ics, name="appointment-ics"),
    path("doctor/", views.doctor_day, name="doctor-day"),
    path("doctor/appointments/<int:appointment_id>/", views.doctor_appointment, name="doctor-appointment"),
    path("doctor/slots/", views.slot_create, name="slot-create"),
]
