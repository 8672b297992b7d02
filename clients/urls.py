from django.urls import path

from clients import views
from clients.imports.urls import urlpatterns as import_urlpatterns

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("my-day/", views.my_day, name="my_day"),
    path("settlements/", views.settlement_list, name="settlements"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/edit/", views.client_edit, name="edit"),
    path("<int:pk>/contacts/new/", views.contact_edit, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/settlements/new/", views.settlement_create, name="settlement_create"),
    path("<int:pk>/log/", views.interaction_log, name="log"),
    path("<int:pk>/log/<int:interaction_pk>/kept/", views.promise_kept, name="promise_kept"),
    path("<int:pk>/next-step-done/", views.next_step_done, name="next_step_done"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/lines/new/", views.product_line_edit, name="line_create"),
    path("catalogue/lines/<int:pk>/", views.product_line_edit, name="line_edit"),
    path("catalogue/products/new/", views.product_edit, name="product_create"),
    path("catalogue/products/<int:pk>/", views.product_edit, name="product_edit"),
    path("catalogue/segments/new/", views.segment_edit, name="segment_create"),
    path("catalogue/segments/<int:pk>/", views.segment_edit, name="segment_edit"),
    *import_urlpatterns,
]
