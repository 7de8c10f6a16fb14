from django.conf import settings
from django.urls import include, path

from config.api import api
from gaoxin.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("gaoxin.accounts.urls")),
    path("registry/", include("gaoxin.registry.urls")),
    path("reports/", include("gaoxin.reports.urls")),
    path("indicators/", include("gaoxin.indicators.urls")),
    path("policies/", include("gaoxin.policies.urls")),
    path("audit/", include("gaoxin.core.urls")),
    path("api/", api.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
