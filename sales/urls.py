from django.urls import path

from sales import views

app_name = "sales"

urlpatterns = [
    path("", views.deal_list, name="deals"),
]

# --- reports (client × product board, period report) ---------------------------------------
from sales import report_views  # noqa: E402

urlpatterns += [
    path("products/", report_views.product_board_view, name="products"),
    path("report/", report_views.period_report_view, name="report"),
    path("report/clients/", report_views.report_detail_view, name="report_clients"),
]
