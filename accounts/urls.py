from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("lookup/", views.lookup, name="lookup"),
    path("customers/", views.customer_list, name="customers"),
    path("customers/new/", views.create_customer, name="create"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
    path("search/", views.customer_search, name="search"),
    # The carrier's ids are opaque text: <path:> so an id with a slash still links.
    path(
        "search/individual/<path:individual_id>/", views.search_individual, name="search_individual"
    ),
]
