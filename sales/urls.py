from django.urls import path  # noqa: F401

from sales import views_board

app_name = "sales"

urlpatterns: list = []

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
