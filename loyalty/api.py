"""REST API of the loyalty app: viewsets register on crm.api_router.router."""
