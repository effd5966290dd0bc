from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/register/", views.register, name="register"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/login/verify/", views.login_verify, name="login-verify"),
    path("accounts/two-factor/", views.two_factor_settings, name="two-factor"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password-reset-done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password-reset-complete",
    ),
    path("accounts/password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    path("profile/", views.profile, name="profile"),
    path("profile/family/add/", views.dependent_edit, name="dependent-add"),
    path("profile/family/<int:dependent_id>/", views.dependent_edit, name="dependent-edit"),
    path("profile/family/<int:dependent_id>/access/", views.access_log, name="dependent-access-log"),
    path("profile/access/", views.access_log, name="access-log"),
    path("profile/prompt/dismiss/", views.profile_prompt_dismiss, name="profile-prompt-dismiss"),
]
