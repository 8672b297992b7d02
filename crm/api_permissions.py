"""Permissions the apps' APIs share."""

from rest_framework import permissions


class ManagersWrite(permissions.BasePermission):
    """Everyone signed in reads; managers and admins write."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(getattr(request.user, "sees_everything", False))
