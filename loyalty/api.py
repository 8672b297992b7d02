"""REST API of the loyalty app: its viewsets will register on an app router (crm.api_router)."""

urlpatterns: list = []
