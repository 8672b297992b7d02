from django.core.management.base import BaseCommand

from clients.line_firsts import rebuild


class Command(BaseCommand):
    help = (
        "Recompute the first purchase of each product line per client from the settlements "
        "(the triggers keep it; this is for a restore or a check)."
    )

    def handle(self, *args, **options):
        rows = rebuild()
        self.stdout.write(f"{rows} (client, product line) first purchases")
