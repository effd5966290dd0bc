"""Mounted under /api/v1/ in the `api` namespace (healthsvc/urls.py)."""

from django.urls import path

from clinics.api import views

urlpatterns = [
    path("clinics", views.ClinicListCreateApi.as_view(), name="clinic-list"),
    path("clinics/<int:pk>", views.ClinicDetailApi.as_view(), name="clinic-detail"),
    path("clinics/<int:pk>/doctors", views.ClinicDoctorListApi.as_view(), name="clinic-doctor-list"),
    path("doctors", views.DoctorListCreateApi.as_view(), name="doctor-list"),
    path("doctors/<int:pk>", views.DoctorDetailApi.as_view(), name="doctor-detail"),
]
