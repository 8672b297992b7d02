"""Rebuild the survey analytics' rollups from the raw answers (surveys/rollup.py): after a
bulk load of answers, or to check them (``--check`` compares without writing)."""

import time

from django.core.management.base import BaseCommand, CommandError

from surveys import rollup


class Command(BaseCommand):
    help = "Rebuild the survey analytics rollups from the raw answers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only compare the rollups with the raw answers; exit 1 if they differ.",
        )

    def handle(self, *args, check=False, **options):
        started = time.perf_counter()
        if check:
            differences = rollup.differences()
            if differences:
                raise CommandError(f"{len(differences)} rollup rows differ from the answers.")
            self.stdout.write("The rollups match the answers.")
            return
        rows = rollup.rebuild()
        self.stdout.write(f"{rows} rollup rows in {time.perf_counter() - started:.1f} s.")
