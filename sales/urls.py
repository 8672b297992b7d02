from django.urls import path

from sales import views, views_board

app_name = "sales"

urlpatterns = [
    path("", views.deal_list, name="deals"),
    path("new/", views.deal_create, name="create"),
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
