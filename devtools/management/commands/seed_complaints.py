"""``python manage.py seed_complaints`` — demo complaints in every state, some breached.

Deterministic (``random.Random(--seed)``) and idempotent: does nothing when complaints exist
unless ``--force``. Small counts go through the services (audit trail, pauses, breaches, as a
user would leave them); ``--count`` above ``SERVICE_LIMIT`` inserts with ``bulk_create`` for
benchmark sizes (``generate_bulk``, also used by devtools/benchmarks/complaints.py).
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clients.models import Client
from crm.models import User
from crm.worktime import add_working_minutes
from feedback import selectors, services, sla
from feedback.models import Complaint, Priority, SlaBreach, Theme

SERVICE_LIMIT = 500
S = Complaint.Status
# the steps that lead to each state; the cycle of target states makes every state appear
PATHS = {
    S.REGISTERED: [],
    S.UNDER_REVIEW: ["review"],
    S.WAITING: ["review", "wait"],
    S.RESOLVED: ["review", "resolve"],
    S.PROCESS_FIXED: ["review", "resolve", "fix_process"],
    S.CLOSED: ["review", "resolve", "fix_process", "inform", "close"],
    S.REJECTED: ["reject"],
}
DESCRIPTIONS = [
    ("The delivery came three days late.", "Доставка пришла на три дня позже."),
    ("The invoice had the wrong amount.", "В счёте неверная сумма."),
    ("Nobody called back after the request.", "После заявки никто не перезвонил."),
    ("Too many documents to sign for a small order.", "Слишком много документов на малый заказ."),
    ("The problem with the equipment is still not solved.", "Проблема с оборудованием не решена."),
]
WHYS = [
    "The order was not passed to the warehouse on time",
    "The manager entered it the next day",
    "The CRM did not remind about new orders",
    "Reminders were never set up",
    "Nobody owns the order intake process",
]
STEP_DATA = {
    "wait": {"note": "Asked the client for the invoice number"},
    "resolve": {
        "why_1": WHYS[0],
        "why_2": WHYS[1],
        "why_3": WHYS[2],
        "resolution": "Delivered free of charge and apologised",
        "company_at_fault": True,
    },
    "fix_process": {"corrective_action": "Order intake reminders set up for all managers"},
    "reject": {"rejection_reason": "The product was bought from another supplier"},
}


def generate_bulk(
    count: int,
    *,
    rng: random.Random,
    client_rows: list[tuple[int, int | None, str | None]],
    users: list[int],
    themes: list[int],
    now: datetime,
    open_only: bool = False,
    days: int = 365,
    batch: int = 5000,
) -> int:
    """Insert ``count`` complaints with bulk_create (no audit trail): deadlines from the working
    calendar, statuses spread over the process (or only open ones)."""
    cal = selectors.work_calendar()
    targets = selectors.sla_settings().targets
    statuses = list(Complaint.OPEN_STATUSES) if open_only else list(S.values)
    priorities = list(Priority.values)
    causes = [c for c, _l in Complaint.RootCause.choices]
    made = 0
    while made < count:
        rows = []
        for _ in range(min(batch, count - made)):
            client_id, am_id, abc = client_rows[rng.randrange(len(client_rows))]
            priority = priorities[rng.randrange(4)]
            status = statuses[rng.randrange(len(statuses))]
            reg = now - timedelta(minutes=rng.randrange(days * 24 * 60))
            key = "_a" if abc == "A" else ""
            t = targets[priority]
            ack_due = add_working_minutes(reg, t["ack" + key], cal)
            res_due = add_working_minutes(reg, t["resolve" + key], cal)
            done = status not in (S.REGISTERED,)
            resolved = status in (S.RESOLVED, S.PROCESS_FIXED, S.CLOSED)
            ack_at = reg + timedelta(minutes=rng.randrange(30, 900)) if done else None
            res_at = ack_at + timedelta(minutes=rng.randrange(60, 5000)) if resolved else None
            rows.append(
                Complaint(
                    client_id=client_id,
                    theme_id=themes[rng.randrange(len(themes))],
                    description=DESCRIPTIONS[rng.randrange(len(DESCRIPTIONS))][0],
                    priority=priority,
                    status=status,
                    channel=Complaint.Channel.PHONE,
                    responsible_id=am_id or users[rng.randrange(len(users))],
                    registered_at=reg,
                    acknowledged_at=ack_at,
                    ack_minutes=rng.randrange(20, 600) if done else None,
                    resolved_at=res_at,
                    resolve_minutes=rng.randrange(60, 3000) if resolved else None,
                    closed_at=res_at + timedelta(days=2) if status == S.CLOSED else None,
                    rejected_at=ack_at if status == S.REJECTED else None,
                    rejection_reason="duplicate" if status == S.REJECTED else "",
                    resolution="Fixed" if resolved else "",
                    corrective_action="Process changed"
                    if status in (S.PROCESS_FIXED, S.CLOSED)
                    else "",
                    why_1=WHYS[0] if resolved else "",
                    root_cause=causes[rng.randrange(len(causes))] if resolved else "",
                    goodwill_cost=Decimal(rng.choice([0, 0, 0, 500, 1500])),
                    paused_since=reg if status == S.WAITING else None,
                    sla_class_a=abc == "A",
                    ack_due_at=ack_due,
                    resolve_due_at=res_due,
                )
            )
        Complaint.objects.bulk_create(rows, batch_size=batch)
        made += len(rows)
    return made


class Command(BaseCommand):
    help = "Create demo complaints in every state (some breached) on the existing demo clients."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=70)
        parser.add_argument("--seed", type=int, default=5)
        parser.add_argument("--force", action="store_true", help="delete existing complaints first")

    def handle(self, *args, **options):
        count, force = options["count"], options["force"]
        if count < 0:
            raise CommandError("--count must not be negative.")
        if Complaint.objects.exists() and not force:
            self.stdout.write("Complaints already exist; nothing to do (use --force to redo).")
            return
        client_rows = list(
            Client.objects.order_by("id").values_list(
                "id", "account_manager_id", "metrics__abc_class"
            )
        )
        if not client_rows:
            self.stdout.write("No clients yet: run seed_demo first. No complaints created.")
            return
        users = list(
            User.objects.filter(is_active=True).order_by("id").values_list("id", flat=True)
        )
        themes = list(Theme.objects.filter(is_active=True).values_list("id", flat=True))
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not security
        now = timezone.now().replace(second=0, microsecond=0)
        with transaction.atomic():
            if force:
                Complaint.objects.all().delete()
            if count > SERVICE_LIMIT:
                made = generate_bulk(
                    count, rng=rng, client_rows=client_rows, users=users, themes=themes, now=now
                )
            else:
                made = self._through_services(count, rng, client_rows, themes, now)
            breaches = sla.sla_escalate_breaches(now=now)
        self.stdout.write(
            self.style.SUCCESS(
                f"{made} complaints created; {len(breaches)} SLA breaches escalated "
                f"({SlaBreach.objects.count()} in total)."
            )
        )

    def _through_services(self, count, rng, client_rows, themes, now) -> int:
        clients = {c.pk: c for c in Client.objects.filter(pk__in=[r[0] for r in client_rows])}
        users = {u.pk: u for u in User.objects.filter(is_active=True)}
        fallback = next(iter(users.values()))
        theme_objs = {t.pk: t for t in Theme.objects.filter(pk__in=themes)}
        order = list(PATHS)
        for i in range(count):
            client = clients[client_rows[rng.randrange(len(client_rows))][0]]
            actor = users.get(client.account_manager_id) or fallback
            target = order[i % len(order)]
            # open ones recent (some past their deadlines), finished ones spread over a year
            hours_ago = rng.randrange(1, 72) if target in Complaint.OPEN_STATUSES else None
            if hours_ago is None:
                hours_ago = rng.randrange(24 * 7, 24 * 330)
            at = now - timedelta(hours=hours_ago)
            en, _ru = DESCRIPTIONS[rng.randrange(len(DESCRIPTIONS))]
            complaint = services.complaint_register(
                actor=actor,
                client=client,
                contact=client.contacts.first(),
                theme=theme_objs[themes[rng.randrange(len(themes))]],
                description=en,
                priority=rng.choice(Priority.values),
                channel=rng.choice(Complaint.Channel.values),
                responsible=actor,
                now=at,
            )
            step_at = at
            for step in PATHS[target]:
                step_at = min(now, step_at + timedelta(minutes=rng.randrange(20, 60 * 30)))
                if step == "inform":
                    complaint = services.complaint_inform_client(
                        actor=actor, complaint=complaint, via="phone", at=step_at
                    )
                    continue
                data = dict(STEP_DATA.get(step, {}))
                if step == "resolve":
                    data["root_cause"] = rng.choice(Complaint.RootCause.values)
                    if rng.random() < 0.4:
                        data["goodwill_gift"] = "Discount on the next order"
                        data["goodwill_cost"] = Decimal(rng.choice([500, 1000, 2500]))
                complaint = services.complaint_transition(
                    actor=actor, complaint=complaint, action=step, data=data, now=step_at
                )
        return count
