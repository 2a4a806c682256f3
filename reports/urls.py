from django.urls import path

from reports import views

# The namespace the templates and tests reverse ("audit:report", "audit:export") and the
# navigation marks as current (resolver_match.app_name == "audit"): kept as it was.
app_name = "audit"
urlpatterns = [
    path("", views.report, name="report"),
    path("export.csv", views.export_csv, name="export"),
]
