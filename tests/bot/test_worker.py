"""run_due_work: claims due items, runs them by kind, records and audits, answers, retries, recovers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.connectors.errors import Throttled
from bot.operations import kinds, requests
from bot.operations.base import Actor
from bot.services import Services, build_services
from bot.worker import MAX_ATTEMPTS, WorkOrder, WorkOutcome, engine_runners, run_due_work
from storage.models import AuditEntry, Door, ErrorStatus, SyncJob, Trigger, WorkItem, WorkStatus
from storage.types import utcnow
from storage.work_queue import claim_due, enqueue_work
from tests.factories import make_error
from tests.fakes.slack_api import FakeSlack

USER = "U01ALICE"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def services(engine: Engine, database_url: str, fake_slack: FakeSlack) -> Services:
    settings = Settings(
        database_url=database_url,
        slack_bot_token="xoxb-test",
        slack_api_url=fake_slack.api_url,
        sync_admins=["U02ADMIN"],
    )
    return build_services(settings, db=engine)


def _queue(
    engine: Engine,
    kind: str = "resync",
    payload: dict[str, Any] | None = None,
    *,
    response_url: str | None = None,
    door: Door = Door.SLACK,
) -> int:
    with Session(engine) as session:
        item = enqueue_work(
            session,
            kind=kind,
            payload={"target": "error:17", "error_id": 17, **(payload or {})},
            requested_by=USER,
            door=door,
            response_url=response_url,
        )
        session.commit()
        assert item.id is not None
        return item.id


def _item(engine: Engine, item_id: int) -> WorkItem:
    with Session(engine) as session:
        item = session.get(WorkItem, item_id)
        assert item is not None
        return item


def _audit(engine: Engine) -> list[tuple[str, str, str | None, str]]:
    with Session(engine) as session:
        return [(a.action, a.result, a.target, a.actor) for a in session.exec(select(AuditEntry)).all()]


def _ok(order: WorkOrder) -> WorkOutcome:
    return WorkOutcome(True, f"Re-synced #{order.payload['error_id']}")


def test_a_due_item_is_run_recorded_audited_and_answered(
    services: Services, engine: Engine, fake_slack: FakeSlack
) -> None:
    item_id = _queue(engine, response_url=fake_slack.response_url("a"), payload={"locale": "en"})
    assert run_due_work(services, worker_id="w1", runners={"resync": _ok}) == 1
    item = _item(engine, item_id)
    assert item.status == WorkStatus.DONE and item.result == "Re-synced #17" and item.claimed_by == "w1"
    assert _audit(engine) == [("resync", "ok", "error:17", USER)]
    (answer,) = fake_slack.calls("response_url")
    assert answer.body["response_type"] == "ephemeral" and answer.body["replace_original"] is False
    assert "✅ Re-synced #17" in answer.body["text"]
    assert run_due_work(services, worker_id="w1", runners={"resync": _ok}) == 0


def test_a_failed_action_is_recorded_and_answered(
    services: Services, engine: Engine, fake_slack: FakeSlack
) -> None:
    item_id = _queue(engine, response_url=fake_slack.response_url("b"))
    run_due_work(
        services, worker_id="w1", runners={"resync": lambda order: WorkOutcome(False, "Still failing")}
    )
    assert _item(engine, item_id).status == WorkStatus.FAILED
    assert _audit(engine) == [("resync", "failed", "error:17", USER)]
    assert "Still failing" in fake_slack.calls("response_url")[0].body["text"]


def test_a_crash_in_the_action_fails_the_item_without_losing_it(services: Services, engine: Engine) -> None:
    def explode(_order: WorkOrder) -> WorkOutcome:
        raise RuntimeError("boom")

    item_id = _queue(engine)
    run_due_work(services, worker_id="w1", runners={"resync": explode})
    item = _item(engine, item_id)
    assert item.status == WorkStatus.FAILED and item.result is not None and "RuntimeError" in item.result


def test_a_throttled_item_is_put_back_with_a_delay(
    services: Services, engine: Engine, fake_slack: FakeSlack
) -> None:
    calls: list[int] = []

    def throttled(order: WorkOrder) -> WorkOutcome:
        calls.append(order.item_id)
        if len(calls) == 1:
            raise Throttled("429 Too Many Requests", retry_after=120)
        return WorkOutcome(True, "done at last")

    item_id = _queue(engine, response_url=fake_slack.response_url("c"))
    now = utcnow()
    run_due_work(services, worker_id="w1", runners={"resync": throttled}, clock=lambda: now)
    item = _item(engine, item_id)
    assert item.status == WorkStatus.QUEUED and item.due_at >= now + timedelta(seconds=119)
    assert _audit(engine) == [] and fake_slack.calls("response_url") == []
    assert run_due_work(services, worker_id="w1", runners={"resync": throttled}, clock=lambda: now) == 0
    later = now + timedelta(minutes=3)
    assert run_due_work(services, worker_id="w1", runners={"resync": throttled}, clock=lambda: later) == 1
    assert _item(engine, item_id).status == WorkStatus.DONE
    assert len(fake_slack.calls("response_url")) == 1


def test_an_expired_lease_of_a_dead_worker_is_run_again(services: Services, engine: Engine) -> None:
    item_id = _queue(engine)
    with Session(engine) as session:
        (claimed,) = claim_due(session, worker="dead")
        claimed.lease_until = utcnow() - timedelta(seconds=1)  # the worker died mid-run; its lease ran out
        session.add(claimed)
        session.commit()
    assert run_due_work(services, worker_id="w2", runners={"resync": _ok}) == 1
    item = _item(engine, item_id)
    assert item.status == WorkStatus.DONE and item.claimed_by == "w2" and item.attempts == 2


def test_an_item_that_keeps_crashing_the_worker_is_given_up(services: Services, engine: Engine) -> None:
    item_id = _queue(engine)
    with Session(engine) as session:
        row = session.get(WorkItem, item_id)
        assert row is not None
        row.attempts = MAX_ATTEMPTS
        session.add(row)
        session.commit()
    run_due_work(services, worker_id="w1", runners={"resync": _ok})
    item = _item(engine, item_id)
    assert item.status == WorkStatus.FAILED and "gave up" in (item.result or "")


def test_an_unknown_kind_fails_clearly(services: Services, engine: Engine) -> None:
    item_id = _queue(engine, kind="explode")
    run_due_work(services, worker_id="w1", runners={})
    assert "explode" in (_item(engine, item_id).result or "")


def test_without_connectors_every_item_fails_naming_the_settings(services: Services, engine: Engine) -> None:
    item_id = _queue(engine)
    run_due_work(services, worker_id="w1")
    item = _item(engine, item_id)
    assert item.status == WorkStatus.FAILED and "BC_API_URL" in (item.result or "")


def test_without_a_response_url_a_slack_requester_gets_a_direct_message(
    services: Services, engine: Engine, fake_slack: FakeSlack
) -> None:
    _queue(engine)
    _queue(engine, payload={"target": "error:18", requests.SILENT_KEY: True})
    _queue(engine, door=Door.TERMINAL)
    run_due_work(services, worker_id="w1", runners={"resync": _ok})
    (dm,) = fake_slack.calls("chat.postMessage")
    assert dm.body["channel"] == USER


def test_the_actor_is_rebuilt_from_the_settings(services: Services, engine: Engine) -> None:
    seen: list[Actor] = []

    def remember(order: WorkOrder) -> WorkOutcome:
        seen.append(order.actor)
        return WorkOutcome(True, "ok")

    _queue(engine)
    _queue(engine, door=Door.TERMINAL)
    run_due_work(services, worker_id="w1", runners={"resync": remember})
    assert [(a.id, a.door, a.is_admin) for a in seen] == [
        (USER, Door.SLACK, False),
        (USER, Door.TERMINAL, True),
    ]


@dataclass
class _Outcome:
    ok: bool
    message: str


@dataclass
class _FakeActions:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> _Outcome:
            self.calls.append((name, args, kwargs))
            return _Outcome(True, f"{name} done.")

        return call


@dataclass
class _FakeEngine:
    runs: list[tuple[Any, bool, Trigger]] = field(default_factory=list)

    def run(
        self, mapping_names: Any = None, *, full: bool = False, trigger: Trigger = Trigger.CLI
    ) -> list[SyncJob]:
        self.runs.append((mapping_names, full, trigger))
        return [SyncJob(mapping="CUSTOMER", direction="to_dataverse", inserted=2, finished_at=utcnow())]


def _order(kind: str, **payload: Any) -> WorkOrder:
    return WorkOrder(
        item_id=1, kind=kind, payload=payload, actor=Actor(id=USER, door=Door.SLACK, is_admin=True)
    )


def test_engine_runners_call_the_engines_actions() -> None:
    actions, engine = _FakeActions(), _FakeEngine()
    runners = engine_runners(actions, engine)  # type: ignore[arg-type]
    assert set(runners) == kinds.QUEUED_KINDS
    runners["resync"](_order("resync", error_id=17))
    runners["keep_bc"](_order("keep_bc", error_id=17))
    runners["keep_dataverse"](_order("keep_dataverse", error_id=17))
    runners["uncouple"](_order("uncouple", ref="customer:10000"))
    runners["uncouple"](_order("uncouple", error_id=17))
    runners["resync_failed"](_order("resync_failed", mapping=None))
    runners["restore_record"](_order("restore_record", error_id=17))
    runners["delete_record"](_order("delete_record", error_id=17))
    runners["couple_dependency"](_order("couple_dependency", error_id=17))
    runners["couple_match"](_order("couple_match", mapping="CUSTOMER"))
    assert [(name, args) for name, args, _kwargs in actions.calls] == [
        ("resync", (17,)),
        ("take_side", (17, "business_central")),
        ("take_side", (17, "dataverse")),
        ("uncouple", ("customer:10000",)),
        ("remove_coupling", (17,)),
        ("resync_failed", (None,)),
        ("restore_record", (17,)),
        ("delete_record", (17,)),
        ("couple_dependency", (17,)),
        ("couple_match", ("CUSTOMER",)),
    ]
    assert all(kwargs["actor"] == USER for _name, _args, kwargs in actions.calls)


def test_coupling_from_an_error_resyncs_it_after() -> None:
    actions, engine = _FakeActions(), _FakeEngine()
    runners = engine_runners(actions, engine)  # type: ignore[arg-type]
    outcome = runners["couple"](
        _order("couple", bc_ref="customer:1", dataverse_ref="account:x", sync="bc", error_id=9)
    )
    assert outcome.ok and "couple done. resync done." == outcome.record
    assert [(name, args) for name, args, _kwargs in actions.calls] == [
        ("couple", ("customer:1", "account:x")),
        ("resync", (9,)),
    ]
    assert actions.calls[0][2]["sync"] == "bc"


def test_sync_requests_run_the_engine_as_the_user() -> None:
    engine = _FakeEngine()
    runners = engine_runners(_FakeActions(), engine)  # type: ignore[arg-type]
    outcome = runners["sync"](_order("sync", mappings=["CUSTOMER"], full=True))
    everything = runners["run"](_order("run", mappings=[]))
    assert engine.runs == [(["CUSTOMER"], True, Trigger.USER), (None, False, Trigger.USER)]
    assert outcome.ok and outcome.reply is not None and "CUSTOMER" in outcome.record
    assert everything.ok


def test_admin_work_of_a_former_admin_is_not_run(services: Services, engine: Engine) -> None:
    item_id = _queue(engine, kind="restore_record")
    run_due_work(services, worker_id="w1", runners={"restore_record": _ok})
    item = _item(engine, item_id)
    assert item.status == WorkStatus.FAILED and "only sync admins" in (item.result or "")


def test_a_running_item_whose_lease_is_alive_is_not_taken(services: Services, engine: Engine) -> None:
    _queue(engine)
    with Session(engine) as session:
        claim_due(session, worker="alive")
        session.commit()
    assert run_due_work(services, worker_id="w2", runners={"resync": _ok}) == 0


def test_the_heartbeat_renews_the_lease_while_the_item_runs(services: Services, engine: Engine) -> None:
    item_id = _queue(engine)
    seen: list[object] = []

    def slow(_order: WorkOrder) -> WorkOutcome:
        time.sleep(1.0)  # several beats of a 0.6 s lease
        seen.append(_item(engine, item_id).lease_until)
        return WorkOutcome(True, "done")

    started = utcnow()
    run_due_work(services, worker_id="w1", runners={"resync": slow}, lease=timedelta(seconds=0.6))
    (lease_until,) = seen
    assert isinstance(lease_until, datetime) and lease_until > started + timedelta(seconds=0.7)
    assert _item(engine, item_id).status == WorkStatus.DONE


def test_an_old_claim_may_not_record_its_outcome(services: Services, engine: Engine) -> None:
    item_id = _queue(engine)

    def overtaken(_order: WorkOrder) -> WorkOutcome:
        with Session(engine) as session:  # the lease ran out meanwhile and another worker claimed it
            row = session.get(WorkItem, item_id)
            assert row is not None
            row.claimed_by, row.attempts = "w2", row.attempts + 1
            session.add(row)
            session.commit()
        return WorkOutcome(True, "done")

    run_due_work(services, worker_id="w1", runners={"resync": overtaken})
    item = _item(engine, item_id)
    assert item.status == WorkStatus.RUNNING and item.claimed_by == "w2"


def test_work_whose_error_was_resolved_meanwhile_is_not_done_twice(
    services: Services, engine: Engine
) -> None:
    with Session(engine) as session:
        error = make_error(session, status=ErrorStatus.RESOLVED)
        session.commit()
        error_id = error.id
    item_id = _queue(engine, "restore_record", {"target": f"error:{error_id}", "error_id": error_id})
    ran: list[int] = []
    run_due_work(services, worker_id="w1", runners={"restore_record": lambda o: ran.append(1) or _ok(o)})
    assert ran == []
    item = _item(engine, item_id)
    assert item.status == WorkStatus.DONE and "already resolved" in (item.result or "")
