from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from portal import status, views
from portal.observability import views as observability_views

admin.site.site_header = "Partner Sales Portal — operations"
admin.site.site_title = "Partner Sales Portal admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("ops/", views.ops_home, name="ops_home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "login/",
        login_not_required(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", views.health, name="health"),
    # Where Prometheus looks by default (no trailing slash).
    path("metrics", observability_views.metrics, name="metrics"),
    path("accounts/", include("accounts.urls")),
    path("orders/", include("orders.urls")),
    path("reports/", include("reports.urls")),
    path("notifications/", include("notifications.urls")),
    path("directory/", include("directory.urls")),
    path("admin/status/", status.system_status, name="system_status"),
    path("admin/", admin.site.urls),
]
