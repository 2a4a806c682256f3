from django.urls import path

from directory import views

app_name = "directory"
urlpatterns = [
    path("search/", views.directory_search, name="search"),
    path("<int:pk>/", views.customer_page, name="entry"),
    path("start-order/", views.start_order, name="start_order"),
]
