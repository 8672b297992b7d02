from django.urls import path

from sales import views, views_funnel

app_name = "sales"

urlpatterns = [
    path("", views.deal_list, name="deals"),
]

# --- funnel (owner: funnel) ---
urlpatterns += [
    path("funnel/", views_funnel.funnel_page, name="funnel"),
]
