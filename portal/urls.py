from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from installations.auth import PortalLoginView
from installations.views import common, media

urlpatterns = [
    path("", common.home, name="home"),
    path("accounts/login/", PortalLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("installations.accounts.urls")),
    path("admin/", admin.site.urls),
    path("installations/board/", include("installations.board.urls")),
    path("installations/dashboard/", include("installations.dashboard.urls")),
    path("installations/settings/", include("installations.webhooks.urls")),
    path("", include("installations.live.urls")),
    path("installations/", include("installations.urls.partner")),
    path("installations/", include("installations.urls.notify")),
    path("installations/", include("installations.spreadsheets.urls")),
    path("installations/", include("installations.bulk.urls")),
    path("handyman/", include("installations.urls.handyman")),
    path("c/", include("installations.urls.customer")),
    path("", include("installations.scheduling.urls")),
    path("", include("installations.evidence.urls")),
]

# Uploads, in development and production alike, through the view that checks who may see them.
urlpatterns += [path(f"{settings.MEDIA_URL.lstrip('/')}<path:name>", media.serve, name="media")]

handler500 = "installations.views.common.server_error"
