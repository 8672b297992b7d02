"""How an app publishes its API: its ``api.py`` builds a router with ``app_router()``, registers
its viewsets on it and ends with ``urlpatterns = router.urls``; the project's URLconf includes
each app's ``api`` module under ``/api/`` by name (``include("clients.api")``), so ``crm``
imports no app and an app's API exists only where the URLconf says so."""

from rest_framework.routers import SimpleRouter


def app_router() -> SimpleRouter:
    return SimpleRouter()
