"""request_work: one live work item per (kind, target), audited, refusals recorded, already-done answered."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.ids import ActionKey
from bot.operations import requests
from bot.operations.base import Actor, InvalidInput, NotAllowed, NotFound
from bot.operations.requests import AlreadyDone, AlreadyQueued, Queued, couple_references, request_work
from storage.audit import record_audit
from storage.errors import resolve_error
from storage.models import AuditEntry, Category, Door, SyncError, System, WorkItem, WorkStatus
from storage.work_queue import claim_due, finish_work
from tests.factories import make_error

ALICE = Actor(id="U01ALICE", door=Door.SLACK, is_admin=False)
ADMIN = Actor(id="U02ADMIN", door=Door.SLACK, is_admin=True)
GUID = "6f1c0c7e-1111-2222-3333-444455556666"


def _error(engine: Engine, **overrides: object) -> int:
    with Session(engine) as session:
        error = make_error(session, **overrides)
        session.commit()
        assert error.id is not None
        return error.id


def _ask(engine: Engine, kind: str, error_id: int, actor: Actor = ALICE) -> requests.RequestOutcome:
    return request_work(
        engine,
        kind=kind,
        payload={"error_id": error_id},
        actor=actor,
        response_url="http://127.0.0.1:9/r",
        dedupe_key=requests.error_target(error_id),
    )


def _items(engine: Engine) -> list[WorkItem]:
    with Session(engine) as session:
        return list(session.exec(select(WorkItem)).all())


def _audit(engine: Engine) -> list[tuple[str, str, str | None]]:
    with Session(engine) as session:
        return [(a.action, a.result, a.target) for a in session.exec(select(AuditEntry)).all()]


def test_a_request_is_queued_once_and_audited(engine: Engine) -> None:
    error_id = _error(engine)
    first = _ask(engine, ActionKey.RESYNC, error_id)
    assert isinstance(first, Queued) and first.target == f"error:{error_id}"
    second = _ask(engine, ActionKey.RESYNC, error_id, ADMIN)
    assert isinstance(second, AlreadyQueued)
    assert second.item_id == first.item_id and second.requested_by == ALICE.id and not second.running
    (item,) = _items(engine)
    assert item.payload["error_id"] == error_id and item.response_url == "http://127.0.0.1:9/r"
    assert item.requested_by == ALICE.id and item.door == Door.SLACK
    assert _audit(engine) == [("resync", "queued", f"error:{error_id}")]


def test_a_running_item_is_reported_as_running(engine: Engine) -> None:
    error_id = _error(engine)
    _ask(engine, ActionKey.RESYNC, error_id)
    with Session(engine) as session:
        claim_due(session, worker="w1")
        session.commit()
    outcome = _ask(engine, ActionKey.RESYNC, error_id)
    assert isinstance(outcome, AlreadyQueued) and outcome.running


def test_other_kinds_and_targets_are_separate(engine: Engine) -> None:
    first, second = _error(engine), _error(engine)
    assert isinstance(_ask(engine, ActionKey.RESYNC, first), Queued)
    assert isinstance(_ask(engine, ActionKey.RESYNC, second), Queued)
    assert isinstance(_ask(engine, ActionKey.KEEP_BC, first), Queued)
    assert len(_items(engine)) == 3


def test_a_finished_item_may_be_asked_again_while_the_error_is_open(engine: Engine) -> None:
    error_id = _error(engine)
    _ask(engine, ActionKey.RESYNC, error_id)
    with Session(engine) as session:
        (item,) = claim_due(session, worker="w1")
        finish_work(session, item=item, ok=False, result="still failing")
        session.commit()
    assert isinstance(_ask(engine, ActionKey.RESYNC, error_id), Queued)


def test_a_resolved_error_is_already_done(engine: Engine) -> None:
    error_id = _error(engine)
    with Session(engine) as session:
        error = session.get(SyncError, error_id)
        assert error is not None
        resolve_error(session, error=error, by=ADMIN.id, resolution="Re-synchronized")
        session.commit()
    outcome = _ask(engine, ActionKey.RESYNC, error_id)
    assert isinstance(outcome, AlreadyDone) and isinstance(outcome.done, SyncError)
    assert outcome.done.resolved_by == ADMIN.id
    assert _items(engine) == []


def test_a_dependency_coupled_once_is_already_done(engine: Engine) -> None:
    error_id = _error(engine, category=Category.DEPENDENCY_NOT_COUPLED)
    with Session(engine) as session:
        record_audit(
            session,
            actor=ADMIN.id,
            door=Door.SLACK,
            action="couple_dependency",
            target=f"error:{error_id}",
            result="ok",
        )
        session.commit()
    outcome = _ask(engine, ActionKey.COUPLE_DEPENDENCY, error_id, ADMIN)
    assert isinstance(outcome, AlreadyDone) and isinstance(outcome.done, AuditEntry)
    assert outcome.done.actor == ADMIN.id


def test_a_missing_error_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound, match="#404"):
        _ask(engine, ActionKey.RESYNC, 404)
    assert _items(engine) == []


@pytest.mark.parametrize(
    "kind",
    [ActionKey.COUPLE_DEPENDENCY, ActionKey.UNCOUPLE, ActionKey.RESTORE_RECORD, ActionKey.DELETE_RECORD],
)
def test_admin_kinds_are_refused_to_others_and_the_refusal_is_audited(engine: Engine, kind: str) -> None:
    error_id = _error(engine)
    with pytest.raises(NotAllowed):
        _ask(engine, kind, error_id)
    assert _items(engine) == []
    assert _audit(engine) == [(kind, "refused", f"error:{error_id}")]


def test_syncing_everything_is_for_admins_and_one_mapping_for_everyone(engine: Engine) -> None:
    with pytest.raises(NotAllowed):
        request_work(
            engine,
            kind=ActionKey.SYNC,
            payload={"mappings": []},
            actor=ALICE,
            response_url=None,
            dedupe_key="sync:*",
        )
    one = request_work(
        engine,
        kind=ActionKey.SYNC,
        payload={"mappings": ["CUSTOMER"]},
        actor=ALICE,
        response_url=None,
        dedupe_key="sync:CUSTOMER",
    )
    assert isinstance(one, Queued)


def test_an_unknown_kind_is_a_programming_error(engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown work kind"):
        request_work(engine, kind="explode", payload={}, actor=ADMIN, response_url=None, dedupe_key="x")


def test_concurrent_requests_for_the_same_target_queue_one_item(engine: Engine) -> None:
    error_id = _error(engine)
    outcomes: list[object] = []
    barrier = threading.Barrier(6)

    def ask() -> None:
        barrier.wait()
        outcomes.append(_ask(engine, ActionKey.RESYNC, error_id))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(outcome, Queued) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, AlreadyQueued) for outcome in outcomes) == 5
    assert len(_items(engine)) == 1
    assert [item.status for item in _items(engine)] == [WorkStatus.QUEUED]


def test_couple_references_put_the_business_central_record_first(engine: Engine) -> None:
    error_id = _error(engine, source_table="customer", destination_table="account")
    bc_ref, dataverse_ref = couple_references(engine, error_id=error_id, reference=GUID)
    assert bc_ref.startswith("customer:") and dataverse_ref == f"account:{GUID}"
    reverse = _error(
        engine,
        source_system=System.DATAVERSE,
        source_table="account",
        source_id=GUID,
        destination_system=System.BUSINESS_CENTRAL,
        destination_table="customer",
    )
    assert couple_references(engine, error_id=reverse, reference="customer:10000") == (
        "customer:10000",
        f"account:{GUID}",
    )


@pytest.mark.parametrize(
    ("reference", "problem"),
    [("", "empty"), ("nonsense", "neither"), ("customer:20000", "Dataverse"), ("account:123", "GUID")],
)
def test_couple_references_say_what_is_wrong(engine: Engine, reference: str, problem: str) -> None:
    error_id = _error(engine, source_table="customer", destination_table="account")
    with pytest.raises(InvalidInput, match=problem):
        couple_references(engine, error_id=error_id, reference=reference)


def test_couple_references_of_a_missing_error(engine: Engine) -> None:
    with pytest.raises(NotFound):
        couple_references(engine, error_id=404, reference=GUID)
