from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.services import calendar_seed, default_seed_years


class Command(BaseCommand):
    help = (
        "Add a country's public holidays and moved working days (from the holidays library) to "
        "the non-working-dates calendar, for the current and next year by default. Idempotent: "
        "dates already in the calendar, seeded or edited by a manager, are kept as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--country",
            default=settings.WORK_CALENDAR_COUNTRY,
            help="ISO 3166 code (default: the WORK_CALENDAR_COUNTRY setting, RU)",
        )
        parser.add_argument(
            "--year",
            type=int,
            action="append",
            dest="years",
            help="repeatable; default: this year and the next one",
        )
        parser.add_argument(
            "--language", default=None, help="language of the names (default: the site's)"
        )

    def handle(self, *args, country, years, language, **options):
        years = sorted(set(years or default_seed_years()))
        try:
            added, kept = calendar_seed(country=country, years=years, language=language)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"{country.upper()} {', '.join(map(str, years))}: {added} dates added, "
            f"{kept} already in the calendar"
        )
