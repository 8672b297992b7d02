from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm import api, health, views, views_beacons

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("coming/<slug:section>/", views.coming, name="coming"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.switch_language, name="switch_language"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/new/", views.calendar_edit, name="calendar_add"),
    path("calendar/<int:pk>/", views.calendar_edit, name="calendar_edit"),
    path("calendar/<int:pk>/delete/", views.calendar_delete, name="calendar_delete"),
    path("beacons/", views_beacons.beacon_list, name="beacons"),
    path("beacons/notices/", views_beacons.beacon_notices, name="beacon_notices"),
    path("beacons/new/", views_beacons.beacon_edit, name="beacon_add"),
    path("beacons/<int:pk>/", views_beacons.beacon_detail, name="beacon_detail"),
    path("beacons/<int:pk>/edit/", views_beacons.beacon_edit, name="beacon_edit"),
    path("healthz", health.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("clients/", include("clients.urls")),
    # the record picker's scoped search endpoints (crm/pickers.py)
    path("lookup/", include("clients.urls_lookup")),
    path("segments/", include("segmentation.urls")),
    path("feedback/", include("feedback.urls")),
    # survey analytics and the answers behind its figures (before the campaign pages' prefix)
    path("surveys/analytics/", include("surveys.urls_analytics")),
    # the respondent's survey pages: no login, the emailed token is the key
    path("s/", include("surveys.urls")),
    # the staff pages of surveys: campaigns, questionnaires, settings
    path("surveys/", include("surveys.urls_manage")),
    path("loyalty/", include("loyalty.urls")),
    path("sales/", include("sales.urls")),
    path("admin/", admin.site.urls),
    path("api/me/", api.me, name="api-me"),
    path("api/dashboard/", api.dashboard_kpis, name="api-dashboard"),
    path("api/auth/token/", api.ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves its start-up script as a file: no inline script (CSP)
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # each app's API, included by name: crm imports no app (crm/api_router.py)
    path("api/", api.api_root, name="api-root"),
    path("api/", include("crm.api")),
    path("api/", include("clients.api")),
    path("api/", include("segmentation.api")),
    path("api/", include("feedback.api")),
    path("api/", include("surveys.api")),
    path("api/", include("sales.api")),
]
