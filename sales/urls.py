from django.urls import path  # noqa: F401

app_name = "sales"

urlpatterns: list = []

# --- reports (client × product board, period report) ---------------------------------------
from sales import report_views  # noqa: E402

urlpatterns += [
    path("products/", report_views.product_board_view, name="products"),
    path("report/", report_views.period_report_view, name="report"),
    path("report/clients/", report_views.report_detail_view, name="report_clients"),
]
