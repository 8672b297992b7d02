from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("complaints/", views.complaint_list, name="complaints"),
    path("complaints/board/", views.complaint_board, name="board"),
    path("complaints/mine/", views.my_complaints, name="mine"),
    path("complaints/new/", views.complaint_create, name="create"),
    path("complaints/analytics/", views.complaint_analytics, name="analytics"),
    path("complaints/settings/", views.sla_settings, name="settings"),
    path("complaints/themes/", views.theme_list, name="themes"),
    path("complaints/themes/new/", views.theme_edit, name="theme_create"),
    path("complaints/themes/<int:pk>/", views.theme_edit, name="theme_edit"),
    path("complaints/notices/", views.notices, name="notices"),
    path("complaints/<int:pk>/", views.complaint_detail, name="detail"),
    path("complaints/<int:pk>/edit/", views.complaint_edit, name="edit"),
    path("complaints/<int:pk>/inform/", views.complaint_inform, name="inform"),
    path("complaints/<int:pk>/step/<slug:action>/", views.complaint_step, name="step"),
]
