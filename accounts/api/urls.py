from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/register", views.RegisterApi.as_view(), name="auth-register"),
    path("auth/login", views.LoginApi.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshApi.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutApi.as_view(), name="auth-logout"),
    path("auth/logout-all", views.LogoutAllApi.as_view(), name="auth-logout-all"),
    path("auth/password", views.PasswordChangeApi.as_view(), name="auth-password"),
    path("auth/profile", views.ProfileApi.as_view(), name="auth-profile"),
    path("admins", views.AdminListCreateApi.as_view(), name="admin-list"),
    path("admins/<int:admin_id>", views.AdminDetailApi.as_view(), name="admin-detail"),
    path("patients", views.PatientListApi.as_view(), name="patient-list"),
    path("patients/me", views.PatientMeApi.as_view(), name="patient-me"),
    path("patients/me/dependents", views.PatientDependentListApi.as_view(), name="patient-dependents"),
    # patients/<id> (read, change, deactivate) is mounted by scheduling.api.urls: DELETE cancels visits.
    path("patients/<int:patient_id>/access-log", views.PatientAccessLogApi.as_view(), name="patient-access-log"),
]
