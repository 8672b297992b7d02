"""The respondent's pages: no login, the emailed token in the path (crm/urls.py: ``s/``)."""

from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("<str:token>/", views.answer, name="answer"),
    path("<str:token>/opt-out/", views.opt_out, name="opt_out"),
]
