import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from crm.models import User

DEMO_USERS = [
    # username, role, first name, last name, head username, is_staff
    ("admin", User.Role.ADMIN, "Admin", "", None, True),
    ("manager", User.Role.MANAGER, "Мария", "Руководителева", None, False),
    ("am1", User.Role.ACCOUNT_MANAGER, "Андрей", "Клиентов", "manager", False),
    ("am2", User.Role.ACCOUNT_MANAGER, "Ольга", "Продажина", "manager", False),
]


class Command(BaseCommand):
    help = "Create the demo admin, manager and account managers; prints new passwords once."

    @transaction.atomic
    def handle(self, *args, **options):
        created = []
        for username, role, first, last, head, staff in DEMO_USERS:
            user, is_new = User.objects.get_or_create(
                username=username,
                defaults={
                    "role": role,
                    "first_name": first,
                    "last_name": last,
                    "is_staff": staff,
                    "is_superuser": role == User.Role.ADMIN,
                    "email": f"{username}@example.com",
                },
            )
            if head and user.head is None:
                user.head = User.objects.get(username=head)
                user.save(update_fields=["head"])
            if is_new:
                password = secrets.token_urlsafe(9)
                user.set_password(password)
                user.save(update_fields=["password"])
                created.append((username, role, password))
        if not created:
            self.stdout.write(
                "Demo users already exist (passwords were printed when created; "
                "reset with: python manage.py changepassword USERNAME)."
            )
            return
        self.stdout.write(self.style.WARNING("Demo users — passwords are shown only this once:"))
        for username, role, password in created:
            self.stdout.write(f"  {username:<8} {role:<16} {password}")
