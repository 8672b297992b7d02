"""The list's "overdue" badge and the board's red border come from Complaint.is_overdue."""

import time_machine
from django.urls import reverse

from tests.feedback.conftest import msk


def test_overdue_badge_and_border_follow_the_deadlines(owner_client, register):
    # urgent: acknowledge within 60, resolve within 240 working minutes; checked Mon 15:00
    late = register(priority="urgent")  # Mon 10:00: ack due 11:00
    on_time = register(priority="urgent", at=msk(2026, 11, 23, 14, 30))  # ack due 15:30
    closed_clock = register(priority="urgent")  # resolve due 14:00, but waiting for the client
    closed_clock.status = "waiting"  # the resolution clock is paused, acknowledgement done
    closed_clock.acknowledged_at = msk(2026, 11, 23, 10, 30)
    closed_clock.save()
    with time_machine.travel(msk(2026, 11, 23, 15, 0), tick=False):
        assert (
            late.is_overdue(msk(2026, 11, 23, 15, 0)),
            on_time.is_overdue(msk(2026, 11, 23, 15, 0)),
        ) == (True, False)
        html = owner_client.get(reverse("feedback:complaints")).content.decode()
        board = owner_client.get(reverse("feedback:board")).content.decode()
    badge = 'data-overdue="1"'
    rows = {
        c.pk: html.split(f'data-complaint="{c.pk}"')[1].split("</tr>")[0]
        for c in (late, on_time, closed_clock)
    }
    assert badge in rows[late.pk]
    assert badge not in rows[on_time.pk] and badge not in rows[closed_clock.pk]
    cards = {
        c.pk: board.split(f'data-card="{c.pk}"')[0].rsplit("<div", 1)[1]
        for c in (late, on_time, closed_clock)
    }
    assert "border-danger" in cards[late.pk]
    assert (
        "border-danger" not in cards[on_time.pk] and "border-danger" not in cards[closed_clock.pk]
    )
