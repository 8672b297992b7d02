"""REST API of the sales app: its viewsets will register on an app router (crm.api_router)."""

urlpatterns: list = []
