"""Every action_id has exactly one route behind Bolt's one action listener; a work button needs no handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from bot.ids import ActionId
from bot.operations import kinds
from handlers import actions
from handlers.actions.work import ARGUMENTS
from tests.factories import make_error
from tests.handlers.conftest import ADMIN, USER, Harness


class _Recorder:
    """Stands in for the Bolt App: remembers each action listener and its constraint."""

    def __init__(self) -> None:
        self.listeners: list[tuple[Any, Callable[..., Any]]] = []

    def action(self, constraint: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def add(listener: Callable[..., Any]) -> Callable[..., Any]:
            self.listeners.append((constraint, listener))
            return listener

        return add


def test_one_bolt_listener_matches_every_action_id_and_nothing_else() -> None:
    app = _Recorder()
    actions.register(app)  # type: ignore[arg-type]
    ((pattern, _listener),) = app.listeners
    assert isinstance(pattern, re.Pattern)
    assert all(pattern.search(str(action_id)) for action_id in ActionId)
    for other in ("", "resync2", "xresync", "show_details ", "unknown_button", "resync|couple"):
        assert pattern.search(other) is None, other


def test_every_action_id_has_exactly_one_route() -> None:
    assert set(actions.build_routes()) == set(ActionId)


def test_a_second_route_for_an_action_id_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(actions.OPENERS, ActionId.SHOW_DETAILS, actions.quiet.handle_quietly)
    monkeypatch.setattr(kinds, "by_button", lambda: {ActionId.SHOW_DETAILS: object()})
    with pytest.raises(ValueError, match="show_details has two listeners"):
        actions.build_routes()


def test_the_router_calls_the_clicked_route_with_the_arguments_it_names() -> None:
    called: list[tuple[str, dict[str, Any]]] = []

    def quiet(ack: Any) -> None:
        called.append(("quiet", {"ack": ack}))

    def full(ack: Any, body: Any, action: Any, client: Any, context: Any) -> None:
        called.append(("full", {"body": body, "action": action, "rest": (ack, client, context)}))

    router = actions.route_actions({ActionId.OPEN_RECORD: quiet, ActionId.RESYNC: full})
    router(ack="ack", body={"b": 1}, action={"action_id": "resync"}, client=None, context=None)
    router(ack="ack", body={}, action={"action_id": "open_record"}, client=None, context=None)
    resync = {"body": {"b": 1}, "action": {"action_id": "resync"}, "rest": ("ack", None, None)}
    assert called == [("full", resync), ("quiet", {"ack": "ack"})]


def test_a_route_asking_for_an_argument_the_router_lacks_is_refused() -> None:
    def odd(ack: Any, say: Any) -> None:
        pass

    with pytest.raises(ValueError, match="asks for"):
        actions.route_actions({ActionId.RESYNC: odd})


def test_every_catalogue_button_has_a_route_and_every_opener_a_catalogue_entry() -> None:
    routes = actions.build_routes()
    assert set(kinds.by_button()) <= set(routes)
    assert set(actions.OPENERS) <= set(kinds.by_button())
    assert set(ARGUMENTS) <= set(kinds.by_button())


# Buttons whose value is the error id and that queue their catalogue action directly.
PLAIN_WORK = [
    (button, action)
    for button, action in kinds.by_button().items()
    if action.queued and button not in actions.OPENERS and button not in ARGUMENTS
]


@pytest.mark.parametrize(("button", "action"), PLAIN_WORK, ids=[str(b) for b, _a in PLAIN_WORK])
def test_a_work_button_queues_its_catalogue_action(
    harness: Harness, button: ActionId, action: kinds.Action
) -> None:
    with Session(harness.db) as session:
        error = make_error(session)
        session.commit()
        error_id = error.id
    user = ADMIN if action.who is not kinds.Who.ANYONE else USER
    assert "Queued" in harness.answer_text(harness.click(button, str(error_id), user=user))
    (item,) = harness.work()
    assert (item.kind, item.payload["error_id"]) == (action.key, error_id)
    if action.who is kinds.Who.ADMINS:
        harness.click(button, str(error_id), user=USER)
        refused = [a for a in harness.audit() if a.result == "refused"]
        assert [(a.action, a.actor) for a in refused] == [(action.key, USER)]
