from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("reports/", include("apps.reports.urls")),
    path("", include("apps.portal.urls")),
    path("", include("apps.core.urls")),
]
