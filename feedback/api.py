"""REST API of the feedback app: viewsets register on crm.api_router.router."""
