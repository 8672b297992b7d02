from django.core.management.base import BaseCommand

from clients.settlement_months import rebuild


class Command(BaseCommand):
    help = (
        "Recompute the settlements summed by month, account manager and target segment from "
        "the settlements (the triggers keep them; this is for a restore or a check)."
    )

    def handle(self, *args, **options):
        rows = rebuild()
        self.stdout.write(f"{rows} (month, account manager, segment) sums")
