from django.urls import path

from clinics import views

app_name = "clinics"

urlpatterns = [
    path("", views.home, name="home"),
    path("doctors/", views.doctor_list, name="doctor-list"),
    path("doctors/<int:doctor_id>/", views.doctor_detail, name="doctor-detail"),
]
