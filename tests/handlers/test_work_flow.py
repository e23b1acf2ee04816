"""A click queues work; run_due_work runs it through the real engine (fake apps); the message is edited."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, select

from bot.blocks import build_error_message
from bot.notify import OutboxDelivery
from bot.sync.actions import SyncActions
from bot.sync.engine import SyncEngine
from bot.worker import engine_runners, run_due_work
from storage.models import AuditEntry, Coupling, ErrorStatus, Notification, SyncError, Trigger, WorkStatus
from tests.bot.sync.fakes import FakeClock, create_new_records, make_stores, seed_basics
from tests.bot.sync.test_engine_failures import privilege_fault
from tests.handlers.conftest import ADMIN, CHANNEL, USER, Harness


def test_resync_click_is_run_by_the_worker_and_edits_the_message(harness: Harness) -> None:
    bc, dv = make_stores(FakeClock())
    engine = SyncEngine(db=harness.db, bc=bc, dataverse=dv, channel=CHANNEL)
    seed_basics(bc, dv)
    engine.run(full=True)
    customer = bc.find("customers", number="10000")[0]
    dv.faults.append(privilege_fault("accounts"))
    bc.edit("customers", customer.id, city="Brno")
    engine.run(["CUSTOMER"])
    slack = harness.services.slack
    assert slack is not None
    with Session(harness.db) as session:  # post the error as the delivery loop would, then forget the outbox
        (error,) = session.exec(select(SyncError)).all()
        message = build_error_message(error)
        posted_ts = slack.chat_postMessage(channel=CHANNEL, text=message.text, blocks=message.block_dicts())[
            "ts"
        ]
        error.slack_channel, error.slack_ts = CHANNEL, posted_ts
        session.add(error)
        session.execute(delete(Notification))
        session.commit()
        session.refresh(error)
    posted = harness.fake.message(CHANNEL, posted_ts)
    assert posted is not None and error.id is not None
    assert "resync" in json.dumps(posted.blocks)
    delivery = OutboxDelivery(db=harness.db, client=slack)

    path = harness.click("resync", str(error.id), user=USER, message_ts=posted.ts)
    assert "Queued" in harness.answer_text(path)
    dv.faults.clear()

    runners = engine_runners(SyncActions(engine), engine)
    assert run_due_work(harness.services, worker_id="w1", runners=runners) == 1
    assert run_due_work(harness.services, worker_id="w1", runners=runners) == 0
    assert "Re-synchronized" in harness.answer_text(path, 2)

    delivery.deliver_due()
    edited = harness.fake.message(CHANNEL, posted.ts)
    assert edited is not None and edited.edited
    shown = json.dumps(edited.blocks, ensure_ascii=False)
    assert f"<@{USER}>" in shown and '"action_id": "resync"' not in shown
    assert "prvCreateAccount" in shown or error.message[:20] in shown  # the details stay visible

    (item,) = harness.work()
    assert item.status == WorkStatus.DONE
    with Session(harness.db) as session:
        row = session.get(SyncError, error.id)
        assert row is not None and row.status == ErrorStatus.RESOLVED and row.resolved_by == USER
        results = [
            (a.action, a.result) for a in session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
        ]  # type: ignore[arg-type]
    assert results == [("resync", "queued"), ("resync", "ok")]

    again = harness.answer_text(harness.click("resync", str(error.id), user="U03BOB"))
    assert f"<@{USER}>" in again and len(harness.work()) == 1


def test_a_candidate_of_several_matches_is_coupled_from_its_own_button(harness: Harness) -> None:
    bc, dv = make_stores(FakeClock())
    engine = SyncEngine(db=harness.db, bc=bc, dataverse=dv, channel=CHANNEL)
    seed_basics(bc, dv)
    engine.run(full=True)
    create_new_records(harness.db)
    twins = [dv.put("accounts", {"name": "Twin Traders", "customertypecode": 3}) for _ in range(2)]
    customer = bc.put("customers", {"number": "77000", "displayName": "Twin Traders"})
    engine.run(["CUSTOMER"])
    with Session(harness.db) as session:
        (error,) = session.exec(select(SyncError).where(SyncError.category == "several-matches")).all()
    assert error.id is not None and len(error.facts["candidates"]) == 2
    shown = json.dumps(build_error_message(error).block_dicts())
    assert shown.count('"action_id": "couple_candidate"') == 2
    chosen = next(i for i, c in enumerate(error.facts["candidates"]) if c["id"] == twins[1].id)

    forged = harness.click("couple_candidate", f"{error.id}:7", user=ADMIN)  # no such candidate
    assert len(harness.work()) == 0 and harness.answer_text(forged)
    path = harness.click("couple_candidate", f"{error.id}:{chosen}", user=ADMIN)
    assert "Queued" in harness.answer_text(path)
    runners = engine_runners(SyncActions(engine), engine)
    assert run_due_work(harness.services, worker_id="w1", runners=runners) == 1
    with Session(harness.db) as session:
        coupling = session.exec(select(Coupling).where(Coupling.bc_id == customer.id)).one()
        row = session.get(SyncError, error.id)
    assert coupling.dataverse_id == twins[1].id
    assert row is not None and row.status == ErrorStatus.RESOLVED
    assert len([a for a in dv.rows("accounts") if a.fields["name"] == "Twin Traders"]) == 2


def test_create_new_from_a_several_matches_error_makes_one_more_account(harness: Harness) -> None:
    bc, dv = make_stores(FakeClock())
    engine = SyncEngine(db=harness.db, bc=bc, dataverse=dv, channel=CHANNEL)
    seed_basics(bc, dv)
    engine.run(full=True)
    create_new_records(harness.db)
    for _ in range(2):
        dv.put("accounts", {"name": "Twin Traders", "customertypecode": 3})
    customer = bc.put("customers", {"number": "77000", "displayName": "Twin Traders"})
    engine.run(["CUSTOMER"])
    with Session(harness.db) as session:
        (error,) = session.exec(select(SyncError).where(SyncError.category == "several-matches")).all()
    assert '"action_id": "couple_create"' in json.dumps(build_error_message(error).block_dicts())
    refused = harness.click("couple_create", str(error.id), user=USER)  # admins only
    assert len(harness.work()) == 0 and harness.answer_text(refused)
    path = harness.click("couple_create", str(error.id), user=ADMIN)
    assert "Queued" in harness.answer_text(path)
    runners = engine_runners(SyncActions(engine), engine)
    assert run_due_work(harness.services, worker_id="w1", runners=runners) == 1
    twins = [a for a in dv.rows("accounts") if a.fields["name"] == "Twin Traders"]
    assert len(twins) == 3
    with Session(harness.db) as session:
        coupling = session.exec(select(Coupling).where(Coupling.bc_id == customer.id)).one()
        row = session.get(SyncError, error.id)
    assert coupling.dataverse_id in {a.id for a in twins}
    assert row is not None and row.status == ErrorStatus.RESOLVED


def test_an_error_resolves_when_its_record_syncs_and_reopens_when_it_fails_again(harness: Harness) -> None:
    bc, dv = make_stores(FakeClock())
    engine = SyncEngine(db=harness.db, bc=bc, dataverse=dv, channel=CHANNEL)
    seed_basics(bc, dv)
    engine.run(full=True)
    with Session(harness.db) as session:
        session.execute(delete(Notification))
        session.commit()
    slack = harness.services.slack
    assert slack is not None
    delivery = OutboxDelivery(db=harness.db, client=slack, repeat_gap=timedelta(0))
    customer = bc.find("customers", number="10000")[0]
    dv.faults.append(privilege_fault("accounts"))
    bc.edit("customers", customer.id, city="Brno")
    engine.run(["CUSTOMER"], trigger=Trigger.SCHEDULE)
    delivery.deliver_due()
    (posted,) = harness.fake.calls("chat.postMessage")
    with Session(harness.db) as session:
        (error,) = session.exec(select(SyncError)).all()
    assert error.slack_ts is not None

    dv.faults.clear()
    engine.run(["CUSTOMER"], trigger=Trigger.SCHEDULE)  # the record syncs: its error resolves by itself
    delivery.deliver_due()
    edits = harness.fake.calls("chat.update")
    assert len(edits) == 1
    shown = json.dumps(edits[0].body, ensure_ascii=False)
    assert "Synchronized by the scheduled run" in shown and '"action_id": "resync"' not in shown
    with Session(harness.db) as session:
        row = session.get(SyncError, error.id)
    assert row is not None and row.status == ErrorStatus.RESOLVED and row.resolved_by == "sync-errors"

    dv.faults.append(privilege_fault("accounts"))
    bc.edit("customers", customer.id, city="Olomouc")
    engine.run(["CUSTOMER"], trigger=Trigger.SCHEDULE)  # fails the same way again: the same error reopens
    for _ in range(6):  # Slack's pace (one message a second per channel) may hold the reply a moment
        delivery.deliver_due()
        if len(harness.fake.calls("chat.postMessage")) == 2:
            break
        time.sleep(0.5)
    with Session(harness.db) as session:
        errors = session.exec(select(SyncError)).all()
    assert [(e.id, e.status, e.occurrences) for e in errors] == [(error.id, ErrorStatus.OPEN, 2)]
    assert len(harness.fake.calls("chat.postMessage")) == 2  # the thread reply; no second parent
    replies = [c for c in harness.fake.calls("chat.postMessage") if c.body.get("thread_ts") == error.slack_ts]
    assert replies
