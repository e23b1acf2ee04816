"""Outbox queries: enqueue, claim (stale claims, paced channels, SKIP LOCKED), requeue, release, counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import ErrorStatus, Notification, NotificationKind, NotificationStatus, SyncError
from storage.outbox import (
    claim_due,
    delete_finished,
    enqueue,
    finish,
    outbox_counts,
    pending_count,
    release,
    requeue,
    since_of,
)
from storage.types import utcnow
from tests.factories import make_error

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _add(session: Session, kind: NotificationKind = NotificationKind.TEXT, **fields: object) -> Notification:
    row = enqueue(
        session, kind=kind, channel=str(fields.pop("channel", "C1")), due_at=NOW, payload={"text": "x"}
    )
    for name, value in fields.items():
        setattr(row, name, value)
    session.add(row)
    session.commit()
    return row


def test_claim_takes_due_rows_in_id_order_and_marks_them_sending(session: Session) -> None:
    first = _add(session)
    _add(session, due_at=NOW + timedelta(minutes=1))
    third = _add(session)

    claims = claim_due(session, now=NOW, stale_before=NOW - timedelta(minutes=1), limit=10)
    session.commit()

    assert [c.id for c in claims] == [first.id, third.id]
    assert all(not c.recovering and c.since == NOW for c in claims)
    session.refresh(first)
    assert (first.status, first.claimed_at, since_of(first)) == (NotificationStatus.SENDING, NOW, NOW)
    assert claim_due(session, now=NOW, stale_before=NOW - timedelta(minutes=1), limit=10) == []


def test_a_stale_claim_is_claimed_again_as_recovering(session: Session) -> None:
    row = _add(session)
    claim_due(session, now=NOW, stale_before=NOW, limit=10)
    session.commit()
    later = NOW + timedelta(seconds=61)

    [claim] = claim_due(session, now=later, stale_before=later - timedelta(seconds=60), limit=10)

    assert (claim.id, claim.recovering, claim.since) == (row.id, True, NOW)


def test_paced_and_blocked_channels_only_give_rows_that_may_not_need_a_post(session: Session) -> None:
    text = _add(session, channel="C1")
    new_error = _add(session, NotificationKind.NEW_ERROR, channel="C1")
    update = _add(session, NotificationKind.UPDATE, channel="C1")
    other = _add(session, channel="C2")

    paced = claim_due(session, now=NOW, stale_before=NOW, limit=10, paced_channels=frozenset({"C1"}))
    session.rollback()
    blocked = claim_due(session, now=NOW, stale_before=NOW, limit=10, blocked_channels=frozenset({"C1"}))

    assert [c.id for c in paced] == [new_error.id, update.id, other.id]
    assert [c.id for c in blocked] == [new_error.id, other.id]
    assert text.id not in {c.id for c in paced + blocked}


def test_closing_digest_windows_are_claimed_but_held_members_are_not(session: Session) -> None:
    window = _add(session, NotificationKind.DIGEST, status=NotificationStatus.HELD)
    _add(session, NotificationKind.NEW_ERROR, status=NotificationStatus.HELD, digest_key=f"n{window.id}")

    [claim] = claim_due(session, now=NOW, stale_before=NOW, limit=10)

    assert (claim.id, claim.previous) == (window.id, NotificationStatus.HELD)


def test_requeue_keeps_the_since_marker_only_when_a_post_may_have_gone_through(session: Session) -> None:
    row = _add(session)
    [claim] = claim_due(session, now=NOW, stale_before=NOW, limit=10)

    requeue(session, claim=claim, due_at=NOW + timedelta(seconds=3), attempted=True, reason="ratelimited")
    assert (row.status, row.attempts, row.last_error, since_of(row)) == (
        NotificationStatus.PENDING,
        1,
        "ratelimited",
        None,
    )

    [claim] = claim_due(session, now=NOW + timedelta(seconds=3), stale_before=NOW, limit=10)
    claim.recovering = True  # a 5xx after the request left
    requeue(session, claim=claim, due_at=NOW + timedelta(seconds=10), attempted=True)
    assert since_of(row) == NOW + timedelta(seconds=3)


def test_release_restores_the_state_a_row_was_claimed_from(session: Session) -> None:
    window = _add(session, NotificationKind.DIGEST, status=NotificationStatus.HELD)
    text = _add(session)
    claims = claim_due(session, now=NOW, stale_before=NOW, limit=10)

    for claim in claims:
        release(session, claim=claim)

    assert (window.status, text.status) == (NotificationStatus.HELD, NotificationStatus.PENDING)
    assert window.payload == {"text": "x"} and text.claimed_at is None


def test_counts_and_pending_leave_out_empty_windows(session: Session) -> None:
    _add(session, NotificationKind.DIGEST, status=NotificationStatus.HELD)
    _add(session, NotificationKind.NEW_ERROR, status=NotificationStatus.HELD)
    _add(session)
    sent = _add(session)
    finish(session, sent, status=NotificationStatus.SENT, now=NOW, slack_ts="1.2")
    failed = _add(session)
    finish(session, failed, status=NotificationStatus.FAILED, now=NOW, reason="channel_not_found")

    counts = outbox_counts(session)

    assert (counts.pending, counts.held, counts.sent, counts.failed) == (1, 1, 1, 1)
    assert pending_count(session) == 2
    assert (sent.sent_at, failed.last_error) == (NOW, "channel_not_found")


def test_parallel_claims_never_share_a_row(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL (SQLite has a single writer)")
    with Session(engine) as setup:
        for _ in range(6):
            _add(setup)
    with Session(engine) as first, Session(engine) as second:
        mine = claim_due(first, now=NOW, stale_before=NOW, limit=4)  # transaction still open: rows locked
        theirs = claim_due(second, now=NOW, stale_before=NOW, limit=4)
        first.commit()
        second.commit()

    assert len(mine) == 4 and len(theirs) == 2
    assert not {c.id for c in mine} & {c.id for c in theirs}


def _row(kind: NotificationKind, status: NotificationStatus, **fields: object) -> Notification:
    return Notification(kind=kind, channel="C1", status=status, **fields)


def test_cleanup_of_finished_rows_keeps_what_live_errors_still_need(session: Session) -> None:
    old = utcnow() - timedelta(days=10)
    sent, dropped = NotificationStatus.SENT, NotificationStatus.DROPPED
    resolved = make_error(session, status=ErrorStatus.RESOLVED)
    live = make_error(session)
    done = _row(NotificationKind.NEW_ERROR, sent, error_id=resolved.id, created_at=old)
    kept_for_live = _row(NotificationKind.NEW_ERROR, sent, error_id=live.id, created_at=old)
    pending = _row(NotificationKind.TEXT, NotificationStatus.PENDING, created_at=old)
    digest = _row(NotificationKind.DIGEST, sent, created_at=old)
    empty_digest = _row(NotificationKind.DIGEST, dropped, created_at=old)
    recent = _row(NotificationKind.TEXT, sent)
    session.add_all([done, kept_for_live, pending, digest, empty_digest, recent])
    session.flush()
    member = _row(
        NotificationKind.NEW_ERROR, sent, error_id=live.id, digest_key=f"n{digest.id}", created_at=old
    )
    session.add(member)
    session.flush()

    assert delete_finished(session, older_than=utcnow() - timedelta(days=7)) == 2
    left = {row.id for row in session.exec(select(Notification)).all()}
    assert left == {kept_for_live.id, pending.id, digest.id, recent.id, member.id}
    assert session.get(SyncError, resolved.id) is not None
