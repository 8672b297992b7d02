"""The record picker's endpoints, mounted at ``/lookup/`` (clients/pickers.py)."""

from django.urls import path

from clients import pickers

urlpatterns = [
    path("clients/", pickers.clients, name="lookup-clients"),
    path("contacts/", pickers.contacts, name="lookup-contacts"),
    path("products/", pickers.products, name="lookup-products"),
    path("users/", pickers.users, name="lookup-users"),
]
