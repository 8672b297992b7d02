"""Import and export URLs (included by clients/urls.py)."""

urlpatterns: list = []
