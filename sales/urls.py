from django.urls import path

from sales import views

app_name = "sales"

urlpatterns = [
    path("", views.deal_list, name="deals"),
    path("new/", views.deal_create, name="create"),
    path("<int:pk>/", views.deal_detail, name="detail"),
    path("<int:pk>/edit/", views.deal_edit, name="edit"),
    path("<int:pk>/<slug:action>/", views.deal_step, name="step"),
]
