from django.urls import path

from scheduling import views
from scheduling.api import views as api_views

app_name = "scheduling"

urlpatterns = [
    # Finding a doctor
    path("", views.home, name="home"),
    path("doctors/", views.doctor_list, name="doctor-list"),
    path("doctors/soonest/", views.doctor_soonest, name="doctor-soonest"),
    path("doctors/<int:doctor_id>/", views.doctor_detail, name="doctor-detail"),
    # Patients
    path("book/<int:slot_id>/", views.appointment_book, name="appointment-book"),
    path("appointments/", views.appointment_list, name="appointment-list"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="appointment-detail"),
    path("appointments/<int:appointment_id>/cancel/", views.appointment_cancel, name="appointment-cancel"),
    path("appointments/<int:appointment_id>/reschedule/", views.appointment_reschedule, name="appointment-reschedule"),
    path("appointments/<int:appointment_id>/calendar.ics", views.appointment_ics, name="appointment-ics"),
    # Patients: the waitlist
    path("waitlist/", views.waitlist_list, name="waitlist"),
    path("doctors/<int:doctor_id>/waitlist/", views.waitlist_join, name="waitlist-join"),
    path("waitlist/<int:entry_id>/accept/", views.waitlist_accept, name="waitlist-accept"),
    path("waitlist/<int:entry_id>/leave/", views.waitlist_leave, name="waitlist-leave"),
    # Doctors: the day and its visits
    path("doctor/", views.doctor_day, name="doctor-day"),
    path("doctor/appointments/<int:appointment_id>/", views.doctor_appointment, name="doctor-appointment"),
    path("doctor/appointments/<int:appointment_id>/confirm/", views.doctor_appointment_confirm,
         name="doctor-appointment-confirm"),
    path("doctor/appointments/<int:appointment_id>/decline/", views.doctor_appointment_decline,
         name="doctor-appointment-decline"),
    path("doctor/appointments/<int:appointment_id>/cancel/", views.doctor_appointment_cancel,
         name="doctor-appointment-cancel"),
    # Doctors: the schedule
    path("doctor/week/", views.my_week, name="my-week"),
    path("doctor/week/rules/<int:rule_id>/", views.rule_edit, name="rule-edit"),
    path("doctor/week/rules/<int:rule_id>/delete/", views.rule_delete, name="rule-delete"),
    path("doctor/week/generate/", views.slots_generate, name="slots-generate"),
    path("doctor/slots/", views.slot_list, name="slot-list"),
    path("doctor/slots/<int:slot_id>/", views.slot_change, name="slot-change"),
    path("doctor/slots/day/", views.slot_day, name="slot-day"),
    path("doctor/time-off/", views.leave_list, name="leave-list"),
    path("doctor/time-off/<int:leave_id>/", views.leave_detail, name="leave-detail"),
    path("doctor/time-off/<int:leave_id>/delete/", views.leave_delete, name="leave-delete"),
    path("doctor/calendar-feed/", views.calendar_feed_rotate, name="calendar-feed-rotate"),
    # The private feed a doctor's calendar app subscribes to (a DRF view: the API's rate limit and errors).
    path("feeds/doctors/<str:token>.ics", api_views.DoctorCalendarFeedApi.as_view(), name="doctor-feed"),
]
