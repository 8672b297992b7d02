"""``python manage.py seed_demo`` — demo and benchmark data (devtools/demo/)."""

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from clients.models import Client
from devtools import demo


class Command(BaseCommand):
    help = (
        "Generate a deterministic bilingual client base with 24 months of settlements. "
        "--size small (≈300 clients, for `make run`), bench (100 000 clients, "
        "2 000 000 settlements), million (1 000 000 / 20 000 000, 200 account managers), "
        "or --clients N --settlements M."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(demo.SIZES), default="small")
        parser.add_argument("--clients", type=int, help="number of clients (overrides --size)")
        parser.add_argument(
            "--settlements", type=int, help="number of settlements (overrides --size)"
        )
        parser.add_argument(
            "--account-managers",
            type=int,
            help="generated account managers besides am1/am2 (default: one per 5 000 clients "
            "in all, i.e. 18 for bench, 198 for million)",
        )
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when clients already exist"
        )
        parser.add_argument(
            "--reset",
            "--force",
            action="store_true",
            dest="reset",
            help="wipe clients, contacts, settlements and contact log first",
        )
        parser.add_argument(
            "--no-segmentation",
            action="store_true",
            help="do not run recompute_segments afterwards (classes stay empty until the "
            "nightly run)",
        )

    def handle(self, *args, **options):
        size_clients, size_settlements, size_ams = demo.SIZES[options["size"]]
        clients = options["clients"] if options["clients"] is not None else size_clients
        settlements = (
            options["settlements"]
            if options["settlements"] is not None
            else (size_settlements if options["clients"] is None else clients * 20)
        )
        extra = options["account_managers"]
        if extra is None:  # about 5 000 clients per account manager, am1 and am2 included
            extra = size_ams if options["clients"] is None else max(0, clients // 5000 - 2)
        extra = min(extra, demo.MAX_EXTRA_AMS)
        if clients < 0 or settlements < 0:
            raise CommandError("--clients and --settlements must not be negative.")
        exists = Client.objects.exists()
        if options["if_empty"] and exists and not options["reset"]:
            self.stdout.write("Clients already exist; --if-empty: nothing to do.")
            return
        if options["reset"] and exists:
            self.stdout.write("Wiping the client base…")
            demo.reset()
        self.stdout.write(
            f"Generating {clients} clients and {settlements} settlements (seed {options['seed']})…"
        )
        result = demo.seed(
            clients=clients,
            settlements=settlements,
            seed=options["seed"],
            extra_account_managers=extra,
            stdout=self.stdout,
            log=self.stdout.write if options["verbosity"] > 1 else None,
        )
        self.stdout.write(self.style.SUCCESS(f"Done: {result.summary()}"))
        if not options["no_segmentation"] and "recompute_segments" in get_commands():
            # ABC/XYZ/lifecycle on the client list from the first page view
            call_command("recompute_segments", stdout=self.stdout)
