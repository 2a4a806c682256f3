from django.urls import path

from accounts import bulk_views, views

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
urlpatterns += [
    path("bulk/", bulk_views.bulk_upload, name="bulk"),
    path("bulk/<int:pk>/", bulk_views.bulk_import, name="bulk_import"),
    path("bulk/<int:pk>/send/", bulk_views.bulk_send, name="bulk_send"),
    path("bulk/<int:pk>/retry/", bulk_views.bulk_retry, name="bulk_retry"),
    path("bulk/<int:pk>/results.csv", bulk_views.bulk_results, name="bulk_results"),
]
