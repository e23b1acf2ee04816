"""Queries moved into storage from the delivery loop and the jobs: digests, job log, audit, errors by id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from storage import digests
from storage.audit import done_since, record_audit
from storage.couplings import add_coupling, of_table_or_mapping
from storage.errors import IN_CHUNK, errors_by_ids, newest_error_messages
from storage.jobs import count_jobs, delete_old_jobs, last_started, start_job, sync_jobs_since
from storage.models import (
    Direction,
    Door,
    ErrorStatus,
    JobType,
    NotificationKind,
    NotificationStatus,
)
from storage.outbox import enqueue, finish, last_sent, lock_due_new_errors
from tests.factories import make_error, make_job

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_errors_by_ids_reads_more_ids_than_one_in_list_and_leaves_out_missing_ones(session: Session) -> None:
    ids = [make_error(session).id for _ in range(IN_CHUNK + 3)]
    found = errors_by_ids(session, [i for i in ids if i is not None] + [10**9])
    assert sorted(found) == sorted(i for i in ids if i is not None)


def test_newest_error_messages_keeps_the_last_seen_message_per_job(session: Session) -> None:
    job = make_job(session)
    make_error(session, job_id=job.id, message="older", last_seen_at=T0)
    make_error(session, job_id=job.id, message="newer", last_seen_at=T0 + timedelta(minutes=1))
    assert newest_error_messages(session, job_ids=[job.id, "no-such-job"]) == {job.id: "newer"}
    assert newest_error_messages(session, job_ids=[]) == {}


def test_sync_jobs_since_filters_mappings_and_unfinished_runs(session: Session) -> None:
    done = make_job(session, mapping="CUSTOMER", started_at=T0 + timedelta(minutes=1))
    running = start_job(
        session, mapping="CONTACT", direction=Direction.TO_DATAVERSE, now=T0 + timedelta(minutes=2)
    )
    make_job(session, mapping="CUSTOMER", started_at=T0 - timedelta(minutes=1))  # before `since`
    make_job(session, mapping="CUSTOMER", type=JobType.CLEANUP, started_at=T0 + timedelta(minutes=3))
    assert sync_jobs_since(session, since=T0) == [done, running]
    assert sync_jobs_since(session, since=T0, mappings=["CONTACT"]) == [running]
    assert sync_jobs_since(session, since=T0, finished_only=True) == [done]


def test_last_started_count_and_old_jobs_that_no_live_error_needs(session: Session) -> None:
    assert last_started(session, type=JobType.CLEANUP) is None
    make_job(session, type=JobType.CLEANUP, started_at=T0)
    kept = make_job(session, started_at=T0 - timedelta(days=40))
    make_error(session, job_id=kept.id, status=ErrorStatus.SNOOZED)
    make_job(session, started_at=T0 - timedelta(days=40))
    assert last_started(session, type=JobType.CLEANUP) == T0
    assert count_jobs(session) == 3
    assert delete_old_jobs(session, older_than=T0 - timedelta(days=30)) == 1
    assert count_jobs(session) == 2


def test_done_since_looks_for_one_action_from_a_moment_on(session: Session) -> None:
    record_audit(session, actor="schedule", door=Door.SCHEDULE, action="daily_summary", result="ok")
    now = datetime.now(UTC)
    assert done_since(session, action="daily_summary", since=now - timedelta(hours=1))
    assert not done_since(session, action="daily_summary", since=now + timedelta(hours=1))
    assert not done_since(session, action="cleanup", since=now - timedelta(hours=1))


def test_couplings_of_a_table_or_of_a_mapping(session: Session) -> None:
    by_table = add_coupling(
        session, mapping="OTHER", bc_table="currencies", bc_id="c1", dataverse_table="tc", dataverse_id="d1"
    )
    by_mapping = add_coupling(
        session, mapping="CURRENCY", bc_table="x", bc_id="c2", dataverse_table="tc", dataverse_id="d2"
    )
    add_coupling(
        session, mapping="CUSTOMER", bc_table="customers", bc_id="c3", dataverse_table="a", dataverse_id="d3"
    )
    found = of_table_or_mapping(session, bc_table="currencies", mapping="CURRENCY")
    assert [c.id for c in found] == [by_table.id, by_mapping.id]


def test_due_new_errors_and_the_last_sent_row_of_a_kind(session: Session) -> None:
    error = make_error(session)
    assert error.id is not None
    due = enqueue(session, kind=NotificationKind.NEW_ERROR, channel="C1", error_id=error.id, due_at=T0)
    enqueue(
        session,
        kind=NotificationKind.NEW_ERROR,
        channel="C1",
        error_id=error.id,
        due_at=T0 + timedelta(hours=1),
    )
    assert lock_due_new_errors(session, now=T0, limit=10) == [due]
    assert last_sent(session, error_id=error.id, kind=NotificationKind.NEW_ERROR) is None
    finish(session, due, status=NotificationStatus.SENT, now=T0, slack_ts="1.0")
    assert last_sent(session, error_id=error.id, kind=NotificationKind.NEW_ERROR) == due
    assert last_sent(session, error_id=error.id, kind=NotificationKind.REPEAT) is None


def test_a_burst_window_its_members_and_the_thread_an_error_is_listed_in(session: Session) -> None:
    window = digests.new_burst(session, channel="C1", now=T0, status=NotificationStatus.HELD, due_at=T0)
    assert window.id is not None
    assert digests.open_window(session, "C1") == window
    assert digests.open_window(session, "C2") is None
    error = make_error(session)
    member = enqueue(session, kind=NotificationKind.NEW_ERROR, channel="C1", error_id=error.id, due_at=T0)
    member.digest_key = digests.member_key(window.id)
    member.status = NotificationStatus.HELD
    session.add(member)
    session.flush()
    assert digests.members(session, window, status=NotificationStatus.HELD) == [(member, error)]
    assert digests.count_members(session, window, statuses=(NotificationStatus.HELD,)) == 1
    assert digests.first_member_error(session, window) == error
    assert digests.thread_of(session, error) is None  # not delivered yet
    finish(session, member, status=NotificationStatus.SENT, now=T0, slack_ts="2.0")
    assert digests.thread_of(session, error) == window
    assert digests.container_id_of(member.digest_key) == window.id


def test_a_cause_group_is_found_by_channel_and_cause_and_knows_its_open_members(session: Session) -> None:
    group = digests.new_cause_group(session, channel="C1", cause="no-currency:DKK", now=T0)
    assert digests.latest_cause_group(session, channel="C1", cause="no-currency:DKK") == group
    assert digests.latest_cause_group(session, channel="C2", cause="no-currency:DKK") is None
    assert not digests.has_open_member(session, group)
    assert group.id is not None
    error = make_error(session)
    member = enqueue(session, kind=NotificationKind.NEW_ERROR, channel="C1", error_id=error.id, due_at=T0)
    member.digest_key = digests.member_key(group.id)
    finish(session, member, status=NotificationStatus.SENT, now=T0, slack_ts="3.0")
    assert digests.has_open_member(session, group)
    error.status = ErrorStatus.RESOLVED
    session.add(error)
    session.flush()
    assert not digests.has_open_member(session, group)
