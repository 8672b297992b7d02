"""Import and export URLs (included by clients/urls.py, namespace "clients")."""

from django.urls import path

from clients import views_transfer

urlpatterns: list = [
    path("import/", views_transfer.import_start, name="import"),
    path("import/<int:pk>/", views_transfer.import_job, name="import_job"),
    path("import/<int:pk>/retry/", views_transfer.import_job_retry_view, name="import_retry"),
    path("import/<int:pk>/cancel/", views_transfer.import_job_cancel_view, name="import_cancel"),
    path("import/<int:pk>/report/", views_transfer.import_report, name="import_report"),
    path(
        "import/template/<str:kind>.<str:fmt>",
        views_transfer.import_template,
        name="import_template",
    ),
    path("export/", views_transfer.export, name="export"),
]
