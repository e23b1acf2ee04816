"""The catalogue of actions: one entry per key, words for every entry, permission decided by effect, once."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.blocks import build_not_allowed
from bot.blocks.wording import Wording, not_allowed, refusal_verb
from bot.ids import ActionId, ActionKey
from bot.operations import kinds
from bot.operations.base import Actor, NotAllowed
from bot.worker import engine_runners
from storage.models import AuditEntry, Door

ALICE = Actor(id="U01ALICE", door=Door.SLACK, is_admin=False)
ADMIN = Actor(id="U02ADMIN", door=Door.SLACK, is_admin=True)
RESTRICTED = [key for key, action in kinds.CATALOGUE.items() if action.who is not kinds.Who.ANYONE]
QUEUED = sorted(kinds.QUEUED_KINDS)


def test_every_key_has_one_entry_under_its_own_key() -> None:
    assert set(kinds.CATALOGUE) == set(ActionKey)
    assert all(key is action.key for key, action in kinds.CATALOGUE.items())


def test_a_button_starts_one_action() -> None:
    buttons = [button for action in kinds.CATALOGUE.values() for button in action.buttons]
    assert len(buttons) == len(set(buttons))
    assert set(kinds.by_button()) <= set(ActionId)


def test_queued_actions_are_audited_by_the_queue_and_the_rest_at_once() -> None:
    for action in kinds.CATALOGUE.values():
        assert action.audit is (kinds.Audit.QUEUED if action.runner else kinds.Audit.AT_ONCE)


def test_only_settling_actions_can_be_once_per_error() -> None:
    assert all(action.settles for action in kinds.CATALOGUE.values() if action.once_per_error)


def test_every_queued_action_has_a_worker_runner() -> None:
    assert set(engine_runners(object(), object())) == kinds.QUEUED_KINDS  # type: ignore[arg-type]


@pytest.mark.parametrize("key", RESTRICTED)
@pytest.mark.parametrize("locale", ["en", "cs", "nl"])
def test_every_admin_action_has_refusal_words_in_each_language(key: ActionKey, locale: str) -> None:
    verb = refusal_verb(key, locale)
    assert verb, f"{key}: no refusal words in {locale}"
    if locale != "en":
        assert verb != refusal_verb(key, "en"), f"{key}: {locale} says it in English"
    sentence = not_allowed(key, ["<@U02ADMIN>"], locale)
    assert verb in sentence and "<@U02ADMIN>" in sentence
    assert locale == "en" or "Only sync admins" not in sentence


@pytest.mark.parametrize("key", QUEUED)
@pytest.mark.parametrize("locale", ["cs", "nl"])
def test_every_queued_action_is_named_in_each_language(key: str, locale: str) -> None:
    name = Wording(locale).work(key)
    assert name != key and name != Wording("en").work(key), f"{key}: no {locale} name"


def test_anyone_may_do_what_the_catalogue_leaves_open() -> None:
    assert refusal_verb(ActionKey.RESYNC) is None
    assert not kinds.needs_admin(ActionKey.RESYNC, {})
    assert not kinds.needs_admin(ActionKey.KEEP_BC, {})


def test_a_sync_needs_an_admin_by_its_effect() -> None:
    everything = ["CUSTOMER", "CONTACT"]
    assert kinds.needs_admin(ActionKey.SYNC, {}, everything=everything)
    assert kinds.needs_admin(ActionKey.SYNC, {"mappings": ["contact", "Customer"]}, everything=everything)
    assert not kinds.needs_admin(ActionKey.SYNC, {"mappings": ["CUSTOMER"]}, everything=everything)


def test_permit_refuses_with_the_key_and_audits_it(engine: Engine) -> None:
    with pytest.raises(NotAllowed) as refused:
        kinds.permit(engine, ALICE, ActionKey.PURGE_ALL, target="errors")
    assert refused.value.action == ActionKey.PURGE_ALL
    kinds.permit(engine, ADMIN, ActionKey.PURGE_ALL, target="errors")
    with Session(engine) as session:
        entries = [(a.action, a.result, a.actor) for a in session.exec(select(AuditEntry)).all()]
    assert entries == [("purge_all", "refused", ALICE.id)]


def test_an_unknown_key_is_no_action() -> None:
    assert not kinds.known("launch_rockets")
    assert not kinds.settles("launch_rockets")
    with pytest.raises(ValueError, match="unknown action"):
        kinds.entry("launch_rockets")


def test_a_refusal_is_worded_from_the_key_in_the_readers_language() -> None:
    refused = NotAllowed(ActionKey.DELETE_RECORD)
    text = build_not_allowed(refused.action, admins=["U01AAAA"], locale="cs").text
    assert text == "⛔ Jen správci synchronizace smějí odstraňovat záznamy. Požádejte <@U01AAAA>."
    nobody = build_not_allowed(ActionKey.PURGE_ALL, admins=[], locale="nl").text
    assert nobody.startswith("⛔") and "Only" not in nobody
