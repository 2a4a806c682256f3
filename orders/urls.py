from django.urls import path

from orders import form_views, views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", form_views.order_form, name="new"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/edit/", form_views.order_form, name="edit"),
    path("<int:pk>/discard/", form_views.discard_draft, name="discard"),
    path("<int:pk>/copy/", form_views.copy_order, name="copy"),
    path("<int:pk>/cancel/", views.cancel_order, name="cancel"),
    path("notifications/", views.carrier_notification, name="notifications"),
]
