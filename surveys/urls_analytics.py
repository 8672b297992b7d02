"""Survey analytics pages (crm/urls.py: ``surveys/analytics/``)."""

from django.urls import path

from surveys import views_analytics

app_name = "survey_analytics"

urlpatterns = [
    path("", views_analytics.analytics_page, name="analytics"),
    path("answers/", views_analytics.answer_list, name="answers"),
]
