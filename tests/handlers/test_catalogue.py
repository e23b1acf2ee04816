"""Every button of the catalogue has a listener, and a work button needs no handler of its own."""

from __future__ import annotations

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
    """Stands in for the Bolt App: remembers which action_id got which listener."""

    def __init__(self) -> None:
        self.listeners: dict[str, Callable[..., Any]] = {}

    def action(self, action_id: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def add(listener: Callable[..., Any]) -> Callable[..., Any]:
            assert action_id not in self.listeners, f"{action_id} registered twice"
            self.listeners[action_id] = listener
            return listener

        return add


def _registered() -> dict[str, Callable[..., Any]]:
    app = _Recorder()
    actions.register(app)  # type: ignore[arg-type]
    return app.listeners


def test_every_action_id_has_one_listener() -> None:
    assert set(_registered()) == {str(action_id) for action_id in ActionId}


def test_every_catalogue_button_has_a_listener_and_every_opener_a_catalogue_entry() -> None:
    listeners = _registered()
    assert set(kinds.by_button()) <= set(listeners)
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
