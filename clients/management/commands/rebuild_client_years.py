from django.core.management.base import BaseCommand

from clients.client_years import rebuild


class Command(BaseCommand):
    help = (
        "Recompute each client's settlements by year and month from the settlements (the "
        "triggers keep them; this is for a restore or a check)."
    )

    def handle(self, *args, **options):
        rows = rebuild()
        self.stdout.write(f"{rows} (client, year) rows")
