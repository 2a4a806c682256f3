from django.urls import path

from reports import views

# The namespace the templates and tests reverse ("audit:report", "audit:export") and the
# navigation marks as current (resolver_match.app_name == "audit"): kept as it was.
app_name = "audit"
urlpatterns = [
    # The manager's week: where Reports lands.
    path("", views.week, name="report"),
    path("week-<slug:table>.csv", views.week_csv, name="week_csv"),
    # The carrier telemetry, for ops.
    path("carrier/", views.carrier, name="carrier"),
    path("carrier/export.csv", views.export_csv, name="export"),
]
