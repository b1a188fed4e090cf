from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from installations.auth import PortalLoginView
from installations.views import common

urlpatterns = [
    path("", common.home, name="home"),
    path("accounts/login/", PortalLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("installations/", include("installations.urls.partner")),
    path("installations/", include("installations.urls.notify")),
    path("handyman/", include("installations.urls.handyman")),
    path("c/", include("installations.urls.customer")),
]

if settings.DEBUG:
    from django.views.static import serve

    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]

handler500 = "installations.views.common.server_error"
