"""Import and export URLs (included by clients/urls.py, namespace "clients")."""

from django.urls import path

from clients.imports import views

urlpatterns: list = [
    path("import/", views.import_start, name="import"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
    path("import/<int:pk>/retry/", views.import_job_retry_view, name="import_retry"),
    path("import/<int:pk>/cancel/", views.import_job_cancel_view, name="import_cancel"),
    path("import/<int:pk>/report/", views.import_report, name="import_report"),
    path(
        "import/template/<str:kind>.<str:fmt>",
        views.import_template,
        name="import_template",
    ),
    path("export/", views.export, name="export"),
]
