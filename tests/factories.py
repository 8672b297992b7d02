import factory
from factory.django import DjangoModelFactory

from crm.models import User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = User.Role.ACCOUNT_MANAGER
    password = factory.django.Password("secret-pass-123")


class ManagerFactory(UserFactory):
    role = User.Role.MANAGER
    username = factory.Sequence(lambda n: f"manager{n}")
