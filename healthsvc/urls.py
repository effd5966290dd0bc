from csp.constants import SELF
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from healthsvc import views

REDOC_CSP = {"worker-src": [SELF, "blob:"]}

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("clinics.api.urls")),
    path("", include("scheduling.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/changelog", views.changelog, name="changelog"),  # CHANGELOG.md, linked from the schema
    # The split view serves Swagger UI's start-up script from /docs?script, not inline,
    # so the page runs under the Content-Security-Policy (templates/drf_spectacular/).
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    # ReDoc runs under the same policy (its styles take the page's nonce, templates/drf_spectacular/
    # redoc.html) with one addition on this page only: its search runs in a worker it makes from
    # a blob: URL (only a script already running can make one). It loads nothing from another
    # host: no fonts, and the Redocly logo of its menu (an image on their CDN) is left out (js/redoc.js).
    path("redoc", csp_update(REDOC_CSP)(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("", include("scheduling.urls")),
    path("", include("accounts.urls")),
]

handler404 = "healthsvc.views.not_found"
handler500 = "healthsvc.views.server_failure"
