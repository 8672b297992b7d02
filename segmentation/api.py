"""REST API of the segmentation app: viewsets register on crm.api_router.router."""
