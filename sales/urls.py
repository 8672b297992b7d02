from django.urls import path

from sales import views, views_board, views_funnel, views_manage

app_name = "sales"

urlpatterns = [
    path("", views.deal_list, name="deals"),
    path("new/", views.deal_create, name="create"),
    path("pipelines/", views_manage.pipeline_list, name="pipelines"),
    path("pipelines/new/", views_manage.pipeline_edit, name="pipeline_create"),
    path("pipelines/<int:pk>/", views_manage.pipeline_edit, name="pipeline_edit"),
    path("refusals/", views_manage.refusal_list, name="refusals"),
    path("refusals/new/", views_manage.refusal_edit, name="refusal_create"),
    path("refusals/<int:pk>/", views_manage.refusal_edit, name="refusal_edit"),
    path("settings/", views_manage.sales_settings, name="settings"),
    path("<int:pk>/", views.deal_detail, name="detail"),
    path("<int:pk>/edit/", views.deal_edit, name="edit"),
    path("<int:pk>/<slug:action>/", views.deal_step, name="step"),
]

# --- the pipeline board (kanban) ---
urlpatterns += [
    path("board/", views_board.board, name="board"),
    path("board/<int:pipeline_id>/", views_board.board, name="board_pipeline"),
    path(
        "board/<int:pipeline_id>/column/<int:stage_id>/",
        views_board.column,
        name="board_column",
    ),
    path("board/deal/<int:deal_id>/move/", views_board.move, name="board_move"),
    path("board/deal/<int:deal_id>/lose/", views_board.lose, name="board_lose"),
]
# --- end of the pipeline board ---

# --- funnel (owner: funnel) ---
urlpatterns += [
    path("funnel/", views_funnel.funnel_page, name="funnel"),
]

# --- reports (client × product board, period report) ---------------------------------------
from sales import report_views  # noqa: E402

urlpatterns += [
    path("products/", report_views.product_board_view, name="products"),
    path("report/", report_views.period_report_view, name="report"),
    path("report/clients/", report_views.report_detail_view, name="report_clients"),
]
