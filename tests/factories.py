from datetime import UTC

import factory
from factory.django import DjangoModelFactory

from clients.services import phone_digits
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


class ProductLineFactory(DjangoModelFactory):
    class Meta:
        model = "clients.ProductLine"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Line {n}")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = "clients.Product"

    line = factory.SubFactory(ProductLineFactory)
    name = factory.Sequence(lambda n: f"Product {n}")


class TargetSegmentFactory(DjangoModelFactory):
    class Meta:
        model = "clients.TargetSegment"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Segment {n}")


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = "clients.Client"

    name = factory.Sequence(lambda n: f"Client {n:05d}")
    inn = factory.Sequence(lambda n: f"77{n:08d}")
    account_manager = None
    phone = ""
    phone_digits = factory.LazyAttribute(lambda o: phone_digits(o.phone))

    @classmethod
    def _create(cls, model_class, *args, abc_class=None, xyz_class=None, lifecycle=None, **kw):
        """``abc_class`` / ``xyz_class`` / ``lifecycle`` give the client current classes as a
        segmentation run would (its segmentation row)."""
        client = super()._create(model_class, *args, **kw)
        if abc_class or xyz_class or lifecycle:
            from segmentation.models import ClientMetrics

            ClientMetrics.objects.create(
                client=client,
                abc_class=abc_class,
                xyz_class=xyz_class,
                lifecycle=lifecycle or "regular",
            )
        return client


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = "clients.ContactPerson"

    client = factory.SubFactory(ClientFactory)
    full_name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@client.example.com")
    phone = ""
    phone_digits = factory.LazyAttribute(lambda o: phone_digits(o.phone))


class SettlementFactory(DjangoModelFactory):
    class Meta:
        model = "clients.Settlement"

    client = factory.SubFactory(ClientFactory)
    date = factory.Faker("date_between", start_date="-365d", end_date="today")
    amount = 1000


class InteractionFactory(DjangoModelFactory):
    class Meta:
        model = "clients.Interaction"

    client = factory.SubFactory(ClientFactory)
    occurred_at = factory.Faker("date_time_between", start_date="-30d", end_date="now", tzinfo=UTC)
    summary = "Discussed the next order"
