"""Recompute ABC, XYZ, lifecycle and RFM now, synchronously, and print a summary."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from segmentation import services
from segmentation.models import SegmentationRun


class Command(BaseCommand):
    help = "Recompute the segmentation (ABC, XYZ, lifecycle, RFM) synchronously."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, help="run date, YYYY-MM-DD")

    def handle(self, *args, **options):
        try:
            run = services.recompute(
                trigger=SegmentationRun.Trigger.COMMAND, as_of=options.get("as_of")
            )
        except services.RunRefused as exc:
            raise CommandError(str(exc)) from exc
        if run.status != SegmentationRun.Status.SUCCESS:
            raise CommandError(f"Run #{run.pk} failed: {run.error}")
        summary = run.summary
        self.stdout.write(
            self.style.SUCCESS(
                f"Run #{run.pk} as of {run.as_of}: {run.clients_processed} clients, "
                f"{run.changes} changed, {run.duration_seconds:.2f} s"
            )
        )
        self.stdout.write(f"ABC: {summary.get('abc', {})}  XYZ: {summary.get('xyz', {})}")
        self.stdout.write(f"Lifecycle: {summary.get('lifecycle', {})}")
