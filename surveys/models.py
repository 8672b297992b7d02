"""Surveys (docs/domain.md, "Surveys"): questionnaires, campaigns, invitations and answers.

An invitation is one emailed link to one contact person. Only the SHA-256 hash of its token is
stored; the token itself exists only in the email. Status: queued → sent → opened → answered, or
expired / bounced / opted out. Status changes only through ``surveys.services``.
"""

import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Bilingual, TimeStampedModel
from crm.validators import validate_date_range

COMMENT_MAX_LENGTH = 2000


def token_hash(token: str) -> str:
    """The stored form of an invitation token: hex SHA-256 (the token is 256 random bits, so a
    plain hash is enough: nothing to brute-force, nothing to salt)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Questionnaire(Bilingual, TimeStampedModel):
    """What is asked: the NPS question (0–10), CSAT items (1–5), free texts, best employee."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    title_ru = models.CharField(_("title (Russian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    intro_ru = models.TextField(_("introduction (Russian)"), max_length=2000, blank=True)
    intro_en = models.TextField(_("introduction (English)"), max_length=2000, blank=True)
    ask_nps = models.BooleanField(_("ask the NPS question"), default=True)
    ask_comment = models.BooleanField(_("ask for a comment"), default=True)
    ask_liked = models.BooleanField(_("ask what they liked"), default=True)
    ask_best_employee = models.BooleanField(_("ask for the best employee"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["title_en", "id"]

    def __str__(self) -> str:
        return self.text("title")


class QuestionnaireItem(Bilingual, models.Model):
    """One CSAT item on a 1–5 scale (e.g. "delivery speed"), optionally for one product line."""

    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("questionnaire"),
    )
    text_ru = models.CharField(_("text (Russian)"), max_length=255)
    text_en = models.CharField(_("text (English)"), max_length=255)
    product_line = models.ForeignKey(
        "clients.ProductLine",
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("satisfaction item")
        verbose_name_plural = _("satisfaction items")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text("text")


class Campaign(TimeStampedModel):
    class Kind(models.TextChoices):
        RELATIONSHIP = "relationship", _("relationship (an audience by filters)")
        TRANSACTIONAL = "transactional", _("transactional (after an event)")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("manual")
        FIRST_PURCHASE = "first_purchase", _("first purchase in a product line")
        COMPLAINT_CLOSED = "complaint_closed", _("complaint closed")
        DEAL_WON = "deal_won", _("deal won")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        FINISHED = "finished", _("finished")

    name = models.CharField(_("name"), max_length=200)
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="campaigns"
    )
    kind = models.CharField(
        _("kind"), max_length=15, choices=Kind.choices, default=Kind.RELATIONSHIP
    )
    trigger = models.CharField(
        _("trigger"), max_length=20, choices=Trigger.choices, default=Trigger.MANUAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # {"abc": ["A"], "xyz": [...], "lifecycle": [...], "segment": [ids], "account_manager":
    # [ids], "product_line": [ids]}: surveys.selectors.audience reads them
    filters = models.JSONField(_("audience filters"), default=dict, blank=True)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    expiry_days = models.PositiveSmallIntegerField(
        _("link valid, days"), default=14, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    reminders_max = models.PositiveSmallIntegerField(
        _("reminders, at most"), default=1, validators=[MaxValueValidator(10)]
    )
    reminder_gap_days = models.PositiveSmallIntegerField(
        _("days between reminders"), default=3, validators=[MinValueValidator(1)]
    )
    recur_months = models.PositiveSmallIntegerField(
        _("repeat every N months"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    next_run_on = models.DateField(
        _("next run"), null=True, blank=True, validators=[validate_date_range]
    )
    launched_at = models.DateTimeField(
        _("last launched"), null=True, blank=True, validators=[validate_date_range]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("survey campaign")
        verbose_name_plural = _("survey campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="transactional") | Q(trigger="manual"),
                name="campaign_relationship_is_manual",
            ),
        ]
        indexes = [
            # a trigger finds the active campaigns of its kind
            models.Index(fields=["trigger", "status"], name="campaign_trigger_idx"),
        ]

    def __str__(self) -> str:
        return self.name


def default_quiet_by_class() -> dict:
    return {"A": 60}


class SurveySettings(models.Model):
    """The one settings record (pk=1) of surveys."""

    quiet_days = models.PositiveSmallIntegerField(
        _("quiet period, days"), default=90, validators=[MaxValueValidator(730)]
    )
    # {"A": 60}: a class with its own quiet period
    quiet_days_by_class = models.JSONField(
        _("quiet period by ABC class, days"), default=default_quiet_by_class, blank=True
    )
    resurvey_months = models.PositiveSmallIntegerField(
        _("relationship survey: clients not surveyed for, months"), default=12
    )
    send_rate_per_minute = models.PositiveIntegerField(
        _("emails per minute (0: no limit)"), default=600
    )
    company_head_name = models.CharField(_("company head (signs the invitation)"), max_length=200)
    company_head_title_ru = models.CharField(_("head's title (Russian)"), max_length=200)
    company_head_title_en = models.CharField(_("head's title (English)"), max_length=200)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="survey_settings_singleton")]

    def __str__(self) -> str:
        return str(_("survey settings"))

    def quiet_days_for(self, abc_class: str | None) -> int:
        value = (self.quiet_days_by_class or {}).get(abc_class or "")
        return int(value) if value not in (None, "") else self.quiet_days


class EmailBounce(models.Model):
    """An address the mail server refused: no survey goes to it again (until removed)."""

    email = models.EmailField(_("email"), unique=True)  # stored lower-case
    bounced_at = models.DateTimeField(_("refused at"), validators=[validate_date_range])
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("refused address")
        verbose_name_plural = _("refused addresses")

    def __str__(self) -> str:
        return self.email


class Invitation(models.Model):
    owner_field = "client__account_manager"

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        OPENED = "opened", _("opened")
        ANSWERED = "answered", _("answered")
        EXPIRED = "expired", _("expired")
        BOUNCED = "bounced", _("bounced")
        OPTED_OUT = "opted_out", _("opted out")

    WAITING = (Status.SENT, Status.OPENED)  # delivered, not answered: reminders, expiry
    OPEN = (Status.QUEUED, Status.SENT, Status.OPENED)

    # no index of their own on the three keys: the Meta's indexes lead with each of them, and
    # every index costs the answer page's status updates (docs/decisions/surveys.md)
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("campaign"),
        db_index=False,
    )
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="survey_invitations",
        db_index=False,
    )
    contact = models.ForeignKey(
        "clients.ContactPerson",
        on_delete=models.CASCADE,
        related_name="survey_invitations",
        db_index=False,
    )
    email = models.EmailField(_("sent to"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    # a first purchase in this line sent it: the questionnaire's items of other lines are left out
    product_line = models.ForeignKey(
        "clients.ProductLine",
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index below: most invitations have none
    )
    source_complaint = models.ForeignKey(
        "feedback.Complaint",
        verbose_name=_("after the complaint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index below: most invitations have none
    )
    created_at = models.DateTimeField(_("created"), validators=[validate_date_range])
    # a sender holds the row (claimed under a row lock) from this instant until the server took
    # the message or refused it: nobody else sends it meanwhile
    in_flight_since = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(
        _("sent"), null=True, blank=True, validators=[validate_date_range]
    )
    opened_at = models.DateTimeField(
        _("opened"), null=True, blank=True, validators=[validate_date_range]
    )
    answered_at = models.DateTimeField(
        _("answered"), null=True, blank=True, validators=[validate_date_range]
    )
    expires_at = models.DateTimeField(
        _("link valid until"), null=True, blank=True, validators=[validate_date_range]
    )
    closed_at = models.DateTimeField(
        _("expired, bounced or opted out at"),
        null=True,
        blank=True,
        validators=[validate_date_range],
    )
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    last_reminder_at = models.DateTimeField(
        _("last reminder"), null=True, blank=True, validators=[validate_date_range]
    )
    error = models.CharField(_("delivery error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-created_at", "-id"]
        indexes = [
            # campaign progress (counts by status)
            models.Index(fields=["campaign", "status"], name="invitation_campaign_idx"),
            # the quiet period: a contact's last invitation
            models.Index(fields=["contact", "-created_at"], name="invitation_contact_idx"),
            # relationship audience: clients not surveyed lately; client card history
            models.Index(fields=["client", "-created_at"], name="invitation_client_idx"),
            # the analytics' response rate: invitations sent in a period (PostgreSQL: with
            # their status and campaign, INCLUDE, migration 0008)
            models.Index(fields=["sent_at"], name="invitation_sent_idx"),
            # reminders and the expiry sweep scan the delivered, unanswered ones
            models.Index(
                fields=["expires_at"],
                condition=Q(status__in=["sent", "opened"]),
                name="invitation_waiting_idx",
            ),
            # a deleted product line or complaint finds its invitations
            models.Index(
                fields=["product_line"],
                condition=Q(product_line__isnull=False),
                name="invitation_line_idx",
            ),
            models.Index(
                fields=["source_complaint"],
                condition=Q(source_complaint__isnull=False),
                name="invitation_complaint_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.email}"

    def items(self):
        """The questionnaire's items this invitation asks: those of no product line, and those of
        the invitation's line."""
        lines = Q(product_line__isnull=True)
        if self.product_line_id:
            lines |= Q(product_line_id=self.product_line_id)
        return self.campaign.questionnaire.items.filter(lines)


class InvitationToken(models.Model):
    """The hash of one emailed link: every email (the invitation, each reminder) carries a new
    random token; any of them opens the invitation. The token itself is never stored."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(validators=[validate_date_range])

    class Meta:
        verbose_name = _("invitation link")
        verbose_name_plural = _("invitation links")

    def __str__(self) -> str:
        return f"{self.invitation_id}: {self.token_hash[:8]}…"


class Answer(models.Model):
    """The one answer of an invitation (a database constraint refuses a second)."""

    owner_field = "client__account_manager"

    invitation = models.OneToOneField(
        Invitation, on_delete=models.CASCADE, related_name="answer", verbose_name=_("invitation")
    )
    # copied from the invitation and the item scores when the answer is stored, so the
    # analytics aggregate one table (docs/decisions/survey-analytics.md)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(  # indexed by answer_client_idx, which leads with it
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    anonymous = models.BooleanField(default=False)
    item_scores = models.PositiveSmallIntegerField(default=0)
    item_sum = models.PositiveSmallIntegerField(default=0)
    item_satisfied = models.PositiveSmallIntegerField(default=0)
    nps = models.PositiveSmallIntegerField(
        _("likelihood to recommend (0–10)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    liked = models.TextField(_("what they liked"), max_length=COMMENT_MAX_LENGTH, blank=True)
    best_employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("best employee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_mentions",
    )
    # anonymous campaigns: the respondent agreed to be contacted about an unhappy answer
    may_contact = models.BooleanField(_("may be contacted"), default=False)
    unhappy = models.BooleanField(_("unhappy (NPS 0–6 or an item ≤ 3)"), default=False)
    complaint = models.ForeignKey(
        "feedback.Complaint",
        verbose_name=_("complaint opened"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), validators=[validate_date_range])
    # what the comment is about, tagged by a person (surveys.services.themes)
    themes = models.ManyToManyField(
        "feedback.Theme", verbose_name=_("comment themes"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10), name="answer_nps_range"
            ),
        ]
        indexes = [
            # PostgreSQL: with the NPS score and the case, INCLUDE (migration 0009)
            models.Index(fields=["submitted_at"], name="answer_submitted_idx"),
            # an account manager's analytics: their clients' answers of a period
            models.Index(fields=["client", "submitted_at"], name="answer_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invitation_id}: {self.nps}"

    def save(self, *args, **kwargs):
        if self.campaign_id is None and self.invitation_id is not None:
            invitation = self.invitation
            self.campaign_id, self.client_id = invitation.campaign_id, invitation.client_id
            self.anonymous = invitation.campaign.anonymous
        super().save(*args, **kwargs)

    def set_item_sums(self, scores) -> None:
        """The copies of the item scores the analytics add up (count, sum, 4–5)."""
        from surveys.metrics import SATISFIED_MIN

        values = list(scores)
        self.item_scores, self.item_sum = len(values), sum(values)
        self.item_satisfied = sum(1 for v in values if v >= SATISFIED_MIN)


class AnswerItem(models.Model):
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(QuestionnaireItem, on_delete=models.PROTECT, related_name="scores")
    score = models.PositiveSmallIntegerField(
        _("score (1–5)"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        constraints = [
            models.UniqueConstraint(fields=["answer", "item"], name="answer_item_once"),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="answer_item_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.score}"


class ThemeKeyword(models.Model):
    """A keyword rule: an answer whose comment or "liked" text contains ``text`` (any case)
    gets ``theme`` suggested on the answers list."""

    class Language(models.TextChoices):
        RU = "ru", _("Russian")
        EN = "en", _("English")

    theme = models.ForeignKey(
        "feedback.Theme",
        verbose_name=_("theme"),
        on_delete=models.CASCADE,
        related_name="survey_keywords",
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    text = models.CharField(_("keyword"), max_length=100)

    class Meta:
        verbose_name = _("theme keyword")
        verbose_name_plural = _("theme keywords")
        ordering = ["theme__order", "theme_id", "language", "text"]
        constraints = [
            models.UniqueConstraint(fields=["theme", "language", "text"], name="theme_keyword_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.text} → {self.theme}"


class AnswerRollup(models.Model):
    """Pre-summed answers for the analytics (docs/decisions/survey-analytics.md, "Rollups"):
    one row per (breakdown, month, account manager, anonymous, the breakdown's value) with the
    counts a breakdown cell adds up. ``dimension`` "total" holds every answer once (the totals,
    the months, the account managers); the others one row per class, segment, campaign, best
    employee, comment theme or product line. The account manager and the classes are those of
    ``RollupClient`` — the client's current ones, kept so by ``surveys.rollup``. Written only by
    ``surveys.rollup`` (an upsert adding to the counts), rebuilt by ``rebuild_survey_rollups``."""

    dimension = models.CharField(max_length=16)
    month = models.DateField(validators=[validate_date_range])  # its first day, site time zone
    account_manager = models.IntegerField(default=0)  # the user's id; 0: no account manager
    anonymous = models.BooleanField(default=False)
    value = models.CharField(max_length=32)  # a class, an id, "none"; "" for "total"
    answers = models.IntegerField(default=0)
    nps_answers = models.IntegerField(default=0)
    promoters = models.IntegerField(default=0)
    passives = models.IntegerField(default=0)
    detractors = models.IntegerField(default=0)
    scores = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    score_sum = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "month", "account_manager", "anonymous", "value"],
                name="answer_rollup_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension} {self.month} {self.account_manager} {self.value}: {self.answers}"


class RollupClient(models.Model):
    """The keys under which a client's answers are summed in ``AnswerRollup``: its account
    manager, target segment and classes when they were last summed. ``surveys.rollup.sync``
    moves the answers of every client whose current keys differ and updates this row."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, primary_key=True, related_name="survey_rollup"
    )
    account_manager = models.IntegerField(null=True)
    segment = models.IntegerField(null=True)
    abc = models.CharField(max_length=1, null=True)
    xyz = models.CharField(max_length=1, null=True)
    lifecycle = models.CharField(max_length=10, null=True)

    def __str__(self) -> str:
        return f"{self.client_id}"
