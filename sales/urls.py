from django.urls import path

from sales import views_funnel

app_name = "sales"

urlpatterns: list = []

# --- funnel (owner: funnel) ---
urlpatterns += [
    path("funnel/", views_funnel.funnel_page, name="funnel"),
]
