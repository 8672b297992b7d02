"""The analytics' rollups (surveys/rollup.py) give exactly the figures of the raw-answer
aggregates: randomized answers through the real answer write, then after each kind of change
the rollups follow — a segmentation run that changes classes, a transfer to another account
manager, a target segment change, comment themes, deletions of answers, a client, a segment,
a user, a theme and a product line — compared for a manager (all, and filtered by an account
manager) and for account managers, in each kind of period the page offers (the last 12
months, a month, a quarter), anonymous small cells included."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from clients.services import client_update, record_delete
from crm.periods import Period, add_months
from feedback.models import Theme
from segmentation import services as segmentation
from segmentation.models import ClientMetrics, SegmentationRun
from surveys import analytics, rollup
from surveys.filters import AnalyticsForm, period_choices
from surveys.models import Answer, AnswerRollup, Invitation, QuestionnaireItem, RollupClient
from surveys.services.answers import answer_submit
from surveys.services.themes import answer_themes_set
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ProductLineFactory,
    SettlementFactory,
    TargetSegmentFactory,
    UserFactory,
)
from tests.surveys.conftest import invite, msk

NOW = msk(2026, 11, 20, 12)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def _norm(cells, name=None):
    return sorted(
        (
            str(c.key),
            c.answers,
            c.anonymous,
            c.nps_answers,
            c.promoters,
            c.passives,
            c.detractors,
            c.scores,
            c.satisfied,
            c.score_sum,
            c.hidden,
        )
        for c in cells
        if not (name in ("best_employee", "theme") and c.key == analytics.NONE)
    )


def _figures(fn, user, period, trend, am):
    total, cells, months = fn(user, period, trend, am)
    by_name = {name: _norm(v, name) for name, v in cells.items()}
    return _norm([total]), {k: v for k, v in by_name.items() if v}, _norm(months)


def periods():
    """The kinds of period the page offers, with their trend (as the form chooses them): the
    last 12 months, this month and the oldest, this quarter and the oldest."""
    values = [value for value, _label in period_choices(TODAY)]
    for value in (values[0], values[1], values[12], values[13], values[-1]):
        form = AnalyticsForm({"period": value}, user=None, today=TODAY)
        yield form.chosen()[:2]


def assert_exact(viewers) -> dict:
    """Rollup figures == raw figures for every viewer and period; returns the manager's
    totals of the last 12 months (to check the data is not trivial)."""
    assert rollup.differences() == {}
    seen = {}
    for user, am in viewers:
        for period, trend in periods():
            got = _figures(analytics.rollup_figures, user, period, trend, am)
            want = _figures(analytics.raw_figures, user, period, trend, am)
            assert got == want, (user.username, am, period)
            seen.setdefault((user.username, am), got)
    return seen


@pytest.fixture
def world(manager, owner, outsider, nps_questionnaire, csat_questionnaire, make_campaign):
    rng = random.Random(20261120)
    third = UserFactory(username="third", head=manager)
    segments = [TargetSegmentFactory(name="Retail"), TargetSegmentFactory(name="Wholesale")]
    lines = [ProductLineFactory(name="Pipes"), ProductLineFactory(name="Valves")]
    line_items = {
        line.pk: QuestionnaireItem.objects.create(
            questionnaire=csat_questionnaire,
            text_ru=line.name,
            text_en=line.name,
            product_line=line,
        )
        for line in lines
    }
    campaigns = [
        make_campaign(name="Named NPS"),
        make_campaign(name="Anonymous NPS", anonymous=True),
        make_campaign(name="Named CSAT", questionnaire=csat_questionnaire),
        make_campaign(name="Anonymous CSAT", questionnaire=csat_questionnaire, anonymous=True),
    ]
    clients = [
        ClientFactory(
            name=f"Client {i}",
            account_manager=[owner, owner, owner, outsider, outsider, None][i],
            target_segment=[segments[0], segments[1], None][i % 3],
        )
        for i in range(6)
    ]
    # sales for the segmentation run: different sizes make A, B and C clients
    for i, client in enumerate(clients):
        for month in range(12):
            if rng.random() < 0.2 + 0.15 * i:
                day = add_months(date(2025, 11, 10), month)
                SettlementFactory(client=client, date=day, amount=rng.choice([100, 900, 5000]))
    answers = []
    for n in range(90):
        client = rng.choice(clients)
        contact = ContactFactory(client=client, email=f"r{n}@x.example")
        campaign = rng.choice(campaigns)
        at = NOW - timedelta(days=rng.randint(0, 420), hours=rng.randint(0, 23))
        line = rng.choice([None, *lines])
        inv = invite(
            campaign,
            contact,
            at=at - timedelta(hours=1),
            status=Invitation.Status.SENT,
            product_line=line if campaign.questionnaire_id == csat_questionnaire.pk else None,
        )
        data = {"items": {}}
        if campaign.questionnaire.ask_nps:
            data["nps"] = rng.randint(0, 10)
        for item in inv.items():
            if rng.random() < 0.85:
                data["items"][str(item.pk)] = rng.randint(1, 5)
        if rng.random() < 0.3:
            data["best_employee"] = rng.choice([owner, third]).pk
        answers.append(answer_submit(invitation=inv, data=data, now=at))
    return {
        "rng": rng,
        "third": third,
        "segments": segments,
        "lines": lines,
        "line_items": line_items,
        "clients": clients,
        "answers": answers,
    }


def test_rollups_follow_every_change(world, manager, owner, outsider, survey_theme):
    viewers = [(manager, None), (manager, owner.pk), (owner, None), (outsider, None)]
    clients, answers, third = world["clients"], world["answers"], world["third"]

    # 1. the answer writes alone
    seen = assert_exact(viewers)
    totals = seen[("boss", None)][0][0]
    assert totals[1] > 50 and totals[2] > 0  # answers, anonymous among them
    cells = [c for v in seen[("boss", None)][1].values() for c in v]
    assert any(c[-1] for c in cells) and any(not c[-1] and c[2] >= 5 for c in cells)
    assert seen[("boss", None)][1]["product_line"]  # item scores of product lines
    assert "best_employee" in seen[("boss", None)][1]

    # 2. a segmentation run gives classes (the clients had none)
    run = segmentation.recompute(trigger=SegmentationRun.Trigger.COMMAND, as_of=TODAY)
    assert run.status == SegmentationRun.Status.SUCCESS, run.error
    assert ClientMetrics.objects.exclude(abc_class=None).count() >= 3
    summed = set(RollupClient.objects.values_list("abc", flat=True))
    assert summed - {None}, "the rollup keys follow the new classes"
    assert_exact(viewers)
    # a second run after big sales moves a client between classes
    SettlementFactory(client=clients[0], date=date(2026, 10, 5), amount=500_000)
    before = ClientMetrics.objects.get(client=clients[0]).abc_class
    segmentation.recompute(trigger=SegmentationRun.Trigger.COMMAND, as_of=TODAY)
    assert ClientMetrics.objects.get(client=clients[0]).abc_class != before
    assert_exact(viewers)

    # 3. a transfer to another account manager, 4. a target segment change
    client_update(actor=manager, client=clients[0], data={"account_manager": outsider})
    assert_exact(viewers)
    client_update(actor=manager, client=clients[3], data={"account_manager": third})
    client_update(actor=manager, client=clients[1], data={"target_segment": None})
    client_update(actor=manager, client=clients[2], data={"target_segment": world["segments"][1]})
    assert_exact([*viewers, (third, None), (manager, third.pk)])

    # 5. comment themes
    other = Theme.objects.create(code="delivery", name_en="Delivery", name_ru="Доставка")
    for a in answers[:12]:
        answer_themes_set(actor=manager, answer=a, themes=[survey_theme, other])
    answer_themes_set(actor=manager, answer=answers[0], themes=[other])
    answer_themes_set(actor=manager, answer=answers[1], themes=[])
    assert_exact(viewers)

    # 6. deletions: an answer, an invitation, a client with its answers, a segment, a user
    # named as best employee and holding clients
    assert Answer.objects.filter(best_employee=third).exists()
    Answer.objects.filter(pk=answers[5].pk).delete()
    answers[6].invitation.delete()
    record_delete(actor=manager, instance=clients[4])
    assert_exact(viewers)
    world["segments"][0].delete()
    third.delete()
    assert_exact(viewers)
    # a theme and a product line deleted (SET NULL / cascades on answers' values)
    theme_id = other.pk
    assert Answer.objects.filter(themes=theme_id).exists()
    other.delete()
    world["lines"][1].delete()
    assert not Answer.objects.filter(themes=theme_id).exists()
    assert_exact(viewers)

    # the management command rebuilds the same rows, and checks them
    stored = sorted(AnswerRollup.objects.values_list(*rollup.KEY, *rollup.SUMS))
    call_command("rebuild_survey_rollups")
    assert sorted(AnswerRollup.objects.values_list(*rollup.KEY, *rollup.SUMS)) == stored
    call_command("rebuild_survey_rollups", "--check")


def test_the_report_reads_the_rollups(world, manager, django_assert_max_num_queries):
    """The page's report takes its figures from the rollups (a few grouped reads), and a
    rollup row changed by hand shows: the raw answers are not read."""
    period, trend = next(periods())
    report = analytics.report(manager, period=period, trend_period=trend)
    assert (
        report.totals.answers
        == analytics.totals(analytics.in_period(analytics.answers_for(manager), period)).answers
    )
    AnswerRollup.objects.filter(dimension="total").update(answers=0, promoters=0)
    with django_assert_max_num_queries(7):
        report = analytics.report(manager, period=period, trend_period=trend)
    assert report.totals.answers == 0
    # a period that is not whole months is read from the raw answers
    odd = Period(date(2026, 11, 3), date(2026, 11, 20))
    raw = analytics.report(manager, period=odd, trend_period=trend)
    assert (
        raw.totals.answers
        == analytics.totals(analytics.in_period(analytics.answers_for(manager), odd)).answers
    )


def test_an_answer_write_adds_to_the_rollup(
    manager, owner, own_client, make_campaign, csat_questionnaire
):
    line = ProductLineFactory(name="Pipes")
    item = QuestionnaireItem.objects.create(
        questionnaire=csat_questionnaire, text_ru="Трубы", text_en="Pipes", product_line=line
    )
    general = csat_questionnaire.items.filter(product_line=None).first()
    campaign = make_campaign(name="CSAT", questionnaire=csat_questionnaire)
    contact = ContactFactory(client=own_client, email="a@x.example")
    inv = invite(campaign, contact, at=NOW, status=Invitation.Status.SENT, product_line=line)
    answer_submit(
        invitation=inv,
        data={"nps": 9, "items": {str(general.pk): 5, str(item.pk): 3}},
        now=NOW,
    )
    rows = {
        (r.dimension, r.value): (r.answers, r.promoters, r.scores, r.satisfied, r.score_sum)
        for r in AnswerRollup.objects.filter(month=date(2026, 11, 1), account_manager=owner.pk)
    }
    assert rows[("total", "")] == (1, 1, 2, 1, 8)
    assert rows[("product_line", str(line.pk))] == (1, 0, 1, 0, 3)
    assert rows[("abc", "none")] == (1, 1, 2, 1, 8)
    assert rows[("campaign", str(campaign.pk))] == (1, 1, 2, 1, 8)
    report = analytics.report(
        owner,
        period=Period(date(2026, 11, 1), date(2026, 12, 1)),
        trend_period=Period(date(2025, 12, 1), date(2026, 12, 1)),
    )
    assert report.totals.nps == Decimal("100.0")
    assert report.totals.csat == Decimal("50.0")


def test_month_split():
    split = analytics.month_split
    assert split(Period(date(2026, 1, 1), date(2026, 11, 21))) == (
        Period(date(2026, 1, 1), date(2026, 11, 1)),
        [Period(date(2026, 11, 1), date(2026, 11, 21))],
    )
    assert split(Period(date(2026, 10, 1), date(2026, 11, 1))) == (
        Period(date(2026, 10, 1), date(2026, 11, 1)),
        [],
    )
    assert split(Period(date(2026, 9, 15), date(2026, 11, 3))) == (
        Period(date(2026, 10, 1), date(2026, 11, 1)),
        [
            Period(date(2026, 9, 15), date(2026, 10, 1)),
            Period(date(2026, 11, 1), date(2026, 11, 3)),
        ],
    )
    # no whole month inside: every day from the raw answers
    assert split(Period(date(2026, 11, 1), date(2026, 11, 21))) == (
        None,
        [Period(date(2026, 11, 1), date(2026, 11, 21))],
    )
    assert split(Period(date(2026, 10, 20), date(2026, 11, 10))) == (
        None,
        [Period(date(2026, 10, 20), date(2026, 11, 10))],
    )


def test_summed_equals_the_raw_aggregate(world, manager, owner, outsider):
    """The dashboard's survey figures (``analytics.summed``: whole months from the rollups,
    the days around them raw) equal the raw aggregate of the whole period, for every scope,
    filter and grouping, in periods of whole months, to date and of odd days."""
    segment = world["segments"][0].pk
    cases = [
        Period(date(2025, 12, 1), date(2026, 12, 1)),  # 12 whole months
        Period(date(2026, 1, 1), TODAY + timedelta(days=1)),  # the year to date
        Period(date(2026, 11, 1), TODAY + timedelta(days=1)),  # the month to date
        Period(date(2025, 9, 17), date(2026, 2, 11)),  # odd days around whole months
        Period(date(2026, 3, 5), date(2026, 3, 25)),  # inside one month
    ]
    checked = 0
    for user, am in [(manager, None), (manager, owner.pk), (owner, None), (outsider, None)]:
        for seg in (None, segment):
            answers = analytics.answers_for(user)
            if am is not None:
                answers = answers.filter(client__account_manager_id=am)
            if seg is not None:
                answers = answers.filter(client__target_segment_id=seg)
            for period in cases:
                raw = analytics.in_period(answers, period)
                want_total = analytics.totals(raw)
                got = analytics.summed(user, period, account_manager=am, segment=seg)
                got_total = got.get(None) or analytics.Cell(key=None)
                assert _norm([got_total]) == _norm([want_total]), (user.username, am, seg, period)
                for by in ("month", "account_manager"):
                    got = analytics.summed(user, period, by=by, account_manager=am, segment=seg)
                    want = [c for c in analytics.breakdown(raw, by) if c.answers]
                    assert _norm(got.values()) == _norm(want), (user.username, by, seg, period)
                checked += want_total.answers
    assert checked > 100  # not a comparison of empty sets
