"""The answer page's statements: the invitation of a token hash, and the same read that also
marks the invitation opened (docs/decisions/surveys.md, "The answer page").

The read gives the invitation with its campaign, the whole questionnaire and the contact's
opt-out, as model instances; only the columns the page uses are read of the invitation,
campaign and contact, the rest load on first use, like ``.only()``. The SQL is built from the
models' metadata once per connection (``crm.rawsql``): compiling the same ORM query cost about
0.8 ms of CPU a request, the SQL itself 0.06 ms (docs/benchmarks.md, "Survey delivery, second
pass").

On PostgreSQL the opening read is one statement: a data-modifying ``WITH`` marks a queued or
sent invitation opened — only while its link is open: not expired, the contact not opted
out — and the same statement returns the row as it was before, with whether it opened it.
SQLite has no data-modifying ``WITH``: there it is the read, then the conditional update.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connections

from clients.models import ContactPerson
from crm import rawsql
from crm.rawsql import Columns
from surveys.models import Campaign, Invitation, InvitationToken, Questionnaire

S = Invitation.Status
COLUMNS = Columns(
    (
        (
            Invitation,
            "i",
            (
                "id",
                "status",
                "expires_at",
                "language",
                "campaign_id",
                "client_id",
                "contact_id",
                "product_line_id",
                "source_complaint_id",
            ),
        ),
        (Campaign, "c", ("id", "anonymous", "questionnaire_id")),
        (Questionnaire, "q", None),  # all of it: the blank form is built from it
        (ContactPerson, "p", ("id", "client_id", "survey_opt_out")),
    )
)
_built: dict[tuple[str, bool], str] = {}


def _tables(connection) -> dict:
    qn = connection.ops.quote_name
    return {
        m: qn(m._meta.db_table)
        for m in (InvitationToken, Invitation, Campaign, Questionnaire, ContactPerson)
    }


def _sql(connection, opening: bool) -> str:
    key = (connection.alias, opening)
    sql = _built.get(key)
    if sql is not None:
        return sql
    t = _tables(connection)
    qn = connection.ops.quote_name
    joins = (
        f" JOIN {t[Invitation]} i ON i.id = t.invitation_id"
        f" JOIN {t[Campaign]} c ON c.id = i.campaign_id"
        f" JOIN {t[Questionnaire]} q ON q.id = c.questionnaire_id"
        f" JOIN {t[ContactPerson]} p ON p.id = i.contact_id"
    )
    if not opening:
        # table and column names from the models' metadata, quoted; the hash is a parameter
        sql = (
            f"SELECT {COLUMNS.sql(connection)} FROM {t[InvitationToken]} t{joins}"  # noqa: S608
            " WHERE t.token_hash = %s"
        )
    else:
        inv = t[Invitation]
        status, opened_at, expires_at, contact_id = (
            qn(Invitation._meta.get_field(name).column)
            for name in ("status", "opened_at", "expires_at", "contact_id")
        )
        opt_out = qn(ContactPerson._meta.get_field("survey_opt_out").column)
        sql = (
            f"WITH t AS (SELECT invitation_id FROM {t[InvitationToken]}"  # noqa: S608
            " WHERE token_hash = %s),"
            f" o AS (UPDATE {inv} SET {status} = %s, {opened_at} = %s"
            f" FROM t, {t[ContactPerson]} op"
            f" WHERE {inv}.id = t.invitation_id AND op.id = {inv}.{contact_id}"
            f" AND {inv}.{status} IN (%s, %s) AND NOT op.{opt_out}"
            f" AND ({inv}.{expires_at} IS NULL OR {inv}.{expires_at} > %s)"
            f" RETURNING {inv}.id)"
            f" SELECT {COLUMNS.sql(connection)}, (SELECT count(*) FROM o) FROM t{joins}"
        )
    _built[key] = sql
    return sql


def _instances(connection, row) -> Invitation:
    invitation, campaign, questionnaire, contact = COLUMNS.load(connection, row)
    campaign.questionnaire = questionnaire
    invitation.campaign = campaign
    invitation.contact = contact
    return invitation


def lookup(hashed: str) -> Invitation | None:
    """The invitation of a token hash (one read), or None."""
    connection = connections[Invitation.objects.db]
    with connection.cursor() as cursor:
        rawsql.execute(cursor, _sql(connection, opening=False), [hashed])
        row = cursor.fetchone()
    return None if row is None else _instances(connection, row)


def lookup_and_open(hashed: str, now: datetime) -> Invitation | None:
    """``lookup``, and a queued or sent invitation whose link is open becomes opened at
    ``now`` (the returned instance says so). One statement on PostgreSQL."""
    connection = connections[Invitation.objects.db]
    if connection.vendor != "postgresql":
        invitation = lookup(hashed)
        if invitation is not None and _may_open(invitation, now):
            opened = Invitation.objects.filter(
                pk=invitation.pk, status__in=(S.QUEUED, S.SENT)
            ).update(status=S.OPENED, opened_at=now)
            if opened:
                invitation.status, invitation.opened_at = S.OPENED, now
        return invitation
    with connection.cursor() as cursor:
        rawsql.execute(
            cursor,
            _sql(connection, opening=True),
            [hashed, S.OPENED, now, S.QUEUED, S.SENT, now],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    invitation = _instances(connection, row)
    if row[-1]:
        invitation.status, invitation.opened_at = S.OPENED, now
    return invitation


def _may_open(invitation: Invitation, now: datetime) -> bool:
    return (
        invitation.status in (S.QUEUED, S.SENT)
        and not invitation.contact.survey_opt_out
        and (invitation.expires_at is None or invitation.expires_at > now)
    )
