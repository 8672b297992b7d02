"""REST API of the clients app: viewsets register on crm.api_router.router."""
