from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from realtime.ops.docs import asyncapi_document
from trava import health
from trava.metrics import metrics_view

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("app/", include("web.urls")),
    path("api/auth/", include("trava.accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/asyncapi.yaml", asyncapi_document, name="asyncapi"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("trips.urls")),
    path("api/", include("social.urls")),
    path("api/", include("photos.urls")),
    path("api/", include("journals.urls")),
    path("api/", include("realtime.urls")),
]
