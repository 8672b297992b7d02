"""REST API of the sales app: viewsets register on crm.api_router.router."""
