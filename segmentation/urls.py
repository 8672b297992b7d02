from django.urls import path

from segmentation import views

app_name = "segmentation"

urlpatterns = [
    path("", views.matrix, name="matrix"),
    path("lifecycle/", views.lifecycle, name="lifecycle"),
    path("changes/", views.changes, name="changes"),
    path("what-if/", views.what_if, name="what_if"),
    path("settings/", views.settings_page, name="settings"),
    path("runs/", views.runs, name="runs"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
]
