"""``python manage.py seed_deals`` — demo deals over the demo clients: open deals in every stage
of every active pipeline (some ageing: long in their stage without a next step), won deals and
lost deals with refusal categories and notes, some reopened.

Deterministic (``random.Random(--seed)``) and idempotent: does nothing when deals exist unless
``--force``. Everything goes through ``sales.services`` with past times, so the stage log, the
times in each stage and the audit trail are what a user would have left."""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clients.models import Client, Product
from crm.models import User
from sales import services
from sales.models import Deal, Pipeline, RefusalCategory, StageKind

TITLES = [
    "Office refit",
    "Annual supply",
    "Pilot order",
    "Extension to a second site",
    "Service contract",
    "Spring campaign",
]
NOTES = [
    "The client chose a cheaper offer.",
    "The budget was moved to next year.",
    "No decision after three reminders.",
    "Delivery terms did not suit the client.",
]
GOALS = ["Call about the proposal", "Meeting with the buyer", "Send the contract", "Visit"]


class Command(BaseCommand):
    help = "Create demo deals in every stage, won and lost with reasons, some ageing."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=80)
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument("--force", action="store_true", help="Delete existing deals first.")

    def handle(self, *args, **options):
        count, force = options["count"], options["force"]
        if count < 0:
            raise CommandError("--count must not be negative")
        if Deal.objects.exists() and not force:
            self.stdout.write("Deals exist already: nothing done (--force to recreate).")
            return
        clients = list(
            Client.objects.filter(account_manager__isnull=False, account_manager__is_active=True)
            .select_related("account_manager")
            .order_by("id")[:2000]
        )
        products = list(Product.objects.filter(is_active=True).order_by("id")[:200])
        pipelines = list(Pipeline.objects.filter(is_active=True).prefetch_related("stages"))
        refusals = list(RefusalCategory.objects.filter(is_active=True))
        if not clients or not products or not pipelines or not refusals:
            self.stdout.write("No clients or products yet: run seed_demo first. No deals made.")
            return
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not security
        now = timezone.now().replace(second=0, microsecond=0)
        with transaction.atomic():
            if force:
                Deal.objects.all().delete()
            made = self._make(count, rng, clients, products, pipelines, refusals, now)
        by_state = {s: Deal.objects.filter(state=s).count() for s in StageKind.values}
        self.stdout.write(
            self.style.SUCCESS(
                f"{made} deals created: {by_state['open']} open, {by_state['won']} won, "
                f"{by_state['lost']} lost."
            )
        )

    def _make(self, count, rng, clients, products, pipelines, refusals, now) -> int:
        fallback = User.objects.filter(is_active=True).order_by("id").first()
        # targets cycle through: each open stage of each pipeline, won, lost, reopened
        targets = []
        for pipeline in pipelines:
            stages = sorted(pipeline.stages.all(), key=lambda s: (s.order, s.id))
            open_stages = [s for s in stages if s.kind == StageKind.OPEN and s.is_active]
            targets += [(pipeline, open_stages, s.order) for s in open_stages]
            targets += [(pipeline, open_stages, "won"), (pipeline, open_stages, "lost")]
            targets += [(pipeline, open_stages, "won"), (pipeline, open_stages, "reopened")]
        for i in range(count):
            pipeline, open_stages, target = targets[i % len(targets)]
            client = clients[rng.randrange(len(clients))]
            actor = client.account_manager or fallback
            if target in ("won", "lost", "reopened"):
                path = open_stages[: rng.randrange(1, len(open_stages) + 1)]
            else:
                path = [s for s in open_stages if s.order <= target]
            # open deals: the last stage entered recently, except the ageing ones (every fifth
            # yellow, past its stage's expected days; every fifth + 2 red, well past them);
            # closed ones spread over the year
            gaps = [timedelta(days=rng.randrange(2, 10), hours=rng.randrange(0, 8)) for _s in path]
            ageing = None
            if isinstance(target, int):
                expected = path[-1].expected_days or 7
                ageing = {0: "yellow", 2: "red"}.get(i % 5)
                factor = {"yellow": 1.2, "red": 2.5}.get(ageing, rng.uniform(0, 0.8))
                last = now - timedelta(days=expected * factor)
            else:
                last = now - timedelta(days=rng.randrange(15, 330))
            start = last - sum(gaps[1:], timedelta())
            at = start
            lines = [
                services.LineInput(
                    product=p,
                    quantity=Decimal(rng.randrange(1, 20)),
                    price=p.price if p.price is not None else Decimal(rng.randrange(5, 500) * 100),
                )
                for p in rng.sample(products, k=min(len(products), rng.randrange(1, 4)))
            ]
            data = {"title": TITLES[i % len(TITLES)]}
            if not ageing and rng.random() < 0.8:
                data["next_step_date"] = (now + timedelta(days=rng.randrange(-3, 20))).date()
                data["next_step_goal"] = GOALS[i % len(GOALS)]
            data["expected_close"] = (now + timedelta(days=rng.randrange(-30, 120))).date()
            if rng.random() < 0.5:
                data["proposal_valid_until"] = (now + timedelta(days=rng.randrange(-10, 30))).date()
            deal = services.deal_create(
                actor=actor,
                client=client,
                pipeline=pipeline,
                lines=lines,
                contact=client.contacts.order_by("-is_primary", "id").first(),
                data=data,
                now=at,
            )
            Deal.objects.filter(pk=deal.pk).update(created_at=at)
            for stage, gap in zip(path[1:], gaps[1:], strict=True):
                at = min(now, at + gap)
                deal = services.deal_move(actor=actor, deal=deal, stage=stage, now=at)
            step_at = min(now, at + timedelta(days=rng.randrange(1, 10)))
            if target == "won":
                deal = services.deal_win(actor=actor, deal=deal, now=step_at)
            elif target in ("lost", "reopened"):
                deal = services.deal_lose(
                    actor=actor,
                    deal=deal,
                    refusal=refusals[rng.randrange(len(refusals))],
                    note=NOTES[i % len(NOTES)],
                    now=step_at,
                )
                if target == "reopened":
                    deal = services.deal_reopen(
                        actor=actor, deal=deal, now=min(now, step_at + timedelta(days=3))
                    )
        return count
