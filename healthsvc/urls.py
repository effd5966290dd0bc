from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from healthsvc import views

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("clinics.api.urls")),
    path("", include("scheduling.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("", include("scheduling.urls")),
    path("", include("accounts.urls")),
]

handler404 = "healthsvc.views.not_found"
handler500 = "healthsvc.views.server_failure"
