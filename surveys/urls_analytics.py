"""Survey analytics pages (crm/urls.py: ``surveys/analytics/``)."""

from django.urls import path

from surveys import views_analytics

app_name = "survey_analytics"

urlpatterns = [
    path("", views_analytics.analytics_page, name="analytics"),
    path("answers/", views_analytics.answer_list, name="answers"),
    path("answers/<int:pk>/themes/", views_analytics.answer_themes, name="answer_themes"),
    path("theme-keywords/", views_analytics.theme_keywords, name="theme_keywords"),
]
