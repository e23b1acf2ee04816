"""The checks a Slack request passes before anything parses it: size, timestamp, signature, replay, shape.

Each check answers with a status and a one-line reason (logged, never a traceback); only a request that
passes all of them reaches Bolt, with its body already read (under a deadline) and verified.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import write_transaction
from storage.replays import forget_requests, remember_requests, was_seen
from storage.types import utcnow

MAX_BODY_BYTES = 64 * 1024  # Slack sends a few KB at most; a modal's state stays well below this
READ_DEADLINE_SECONDS = 5.0  # the whole body must arrive within this (stalled uploads lose their thread)
REPLAY_WINDOW = timedelta(minutes=5)  # Slack's own window for a request's timestamp
FORGET_EVERY_SECONDS = 60.0
FLUSH_SECONDS = 0.25  # one write per 50 ms cost a loaded web worker about a tenth of its CPU
PRUNE_EVERY_SECONDS = 1.0  # how often this process forgets its own keys older than the replay window
_READ_CHUNK = 16 * 1024

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """Why a request is answered without reaching Bolt: HTTP status and a reason for the log."""

    status: int
    reason: str


class BodyTimeout(Exception):
    """The client did not send the announced body within the read deadline."""


def check_headers(environ: dict[str, Any], *, now: float | None = None) -> Refusal | None:
    """Refuse on the headers alone: no or bad length, too big, missing or stale timestamp, no signature."""
    length = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not length.isdigit():
        return Refusal(411, "no Content-Length")
    if int(length) > MAX_BODY_BYTES:
        return Refusal(413, f"body of {length} bytes is above the limit of {MAX_BODY_BYTES}")
    stamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "").strip()
    if not stamp.isdigit() or len(stamp) > 12:
        return Refusal(401, "X-Slack-Request-Timestamp is missing or not a number")
    if abs((now or time.time()) - int(stamp)) > REPLAY_WINDOW.total_seconds():
        return Refusal(401, "X-Slack-Request-Timestamp is outside the 5-minute window")
    signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
    if not signature.startswith("v0=") or len(signature) > 200:
        return Refusal(401, "X-Slack-Signature is missing or not a v0 signature")
    return None


def read_body(environ: dict[str, Any], *, deadline_seconds: float = READ_DEADLINE_SECONDS) -> bytes:
    """Read exactly Content-Length bytes within the deadline (BodyTimeout), or fewer if the client hung up."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    sock = environ.get("gunicorn.socket")
    saved = sock.gettimeout() if isinstance(sock, socket.socket) else None
    deadline = time.monotonic() + deadline_seconds
    chunks: list[bytes] = []
    received = 0
    try:
        while received < length:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BodyTimeout(f"{received} of {length} bytes in {deadline_seconds:.0f} s")
            if isinstance(sock, socket.socket):
                sock.settimeout(remaining)
            try:
                chunk = stream.read(min(_READ_CHUNK, length - received))
            except (TimeoutError, ConnectionResetError) as exc:
                # bot.webworker reports a socket timeout as a reset connection.
                if isinstance(exc, ConnectionResetError) and time.monotonic() < deadline - 0.05:
                    raise
                raise BodyTimeout(f"{received} of {length} bytes in {deadline_seconds:.0f} s") from exc
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    finally:
        if isinstance(sock, socket.socket):
            sock.settimeout(saved)
    return b"".join(chunks)


def check_signature(secret: str, body: bytes, environ: dict[str, Any]) -> Refusal | None:
    """Refuse a body whose v0 signature does not match the signing secret."""
    verifier = SignatureVerifier(secret)
    valid = verifier.is_valid(
        body=body,
        timestamp=str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""),
        signature=str(environ.get("HTTP_X_SLACK_SIGNATURE") or ""),
    )
    return None if valid else Refusal(401, "the signature does not match the body")


def check_shape(body: bytes, content_type: str) -> Refusal | None:
    """Refuse (400) a signed body whose structure Bolt and our handlers cannot read."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "the body is not UTF-8")
    if content_type.startswith("application/json"):
        return _check_event(text)
    form = parse_qs(text, keep_blank_values=True)
    if "payload" not in form:
        return None if form.get("command") else Refusal(400, "neither a slash command nor a payload")
    try:
        payload = json.loads(form["payload"][0])
    except ValueError:
        return Refusal(400, "payload is not JSON")
    return _check_payload(payload)


def _check_event(text: str) -> Refusal | None:
    try:
        event = json.loads(text)
    except ValueError:
        return Refusal(400, "the JSON body does not parse")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return Refusal(400, "the JSON body is not an object with a type")
    if "event" in event and not isinstance(event["event"], dict):
        return Refusal(400, "event is not an object")
    return None


def _is_dict_of_dicts(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(item, dict) for item in value.values())


def _check_payload(payload: Any) -> Refusal | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return Refusal(400, "payload is not an object with a type")
    for key in ("user", "team", "channel", "container", "message", "view"):
        if key in payload and payload[key] is not None and not isinstance(payload[key], dict | str):
            return Refusal(400, f"payload.{key} is neither an object nor text")
    user = payload.get("user")
    if isinstance(user, dict) and not isinstance(user.get("id", ""), str):
        return Refusal(400, "payload.user.id is not text")
    actions = payload.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(action, dict) for action in actions):
        return Refusal(400, "payload.actions is not a list of objects")
    for action in actions:
        if not all(isinstance(action.get(key, ""), str) for key in ("action_id", "block_id")):
            return Refusal(400, "an action's action_id or block_id is not text")
    view = payload.get("view")
    if view is not None:
        if not isinstance(view, dict):
            return Refusal(400, "payload.view is not an object")
        if not isinstance(view.get("callback_id", ""), str):
            return Refusal(400, "payload.view.callback_id is not text")
        if not isinstance(view.get("private_metadata", ""), str):
            return Refusal(400, "payload.view.private_metadata is not text")
        state = view.get("state", {})
        values = state.get("values", {}) if isinstance(state, dict) else None
        if not isinstance(values, dict) or not all(_is_dict_of_dicts(block) for block in values.values()):
            return Refusal(400, "payload.view.state.values is not blocks of inputs")
    return None


class ReplayGuard:
    """Signed requests seen within the replay window, in the store so every web process shares them.

    The check is a read (plus this process's keys not yet written); the keys are written by one background
    thread per process in batches every FLUSH_SECONDS, so acks never wait for SQLite's single writer. A replay
    sent to another web process within that moment is still caught by the queue's one-live-item-per-target.
    """

    def __init__(self, db: Engine, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self._clock = clock
        self._lock = threading.Condition()
        self._pending: dict[str, datetime] = {}
        self._recent: dict[str, float] = {}
        self._next_forget = 0.0
        self._next_prune = 0.0
        self._writer: threading.Thread | None = None
        self._closing = threading.Event()

    def first_time(self, signature: str) -> bool:
        """Record the request's signature; False when the same signed request was seen before (a replay)."""
        key = hashlib.sha256(signature.encode()).hexdigest()
        with self._lock:
            if key in self._pending or key in self._recent:
                return False
            self._recent[key] = self._clock()  # the same request again in this process is now a replay
        if was_seen(self.db, key=key):
            return False
        # Only now may the writer store the key: stored before the read, the read finds it (a lost request).
        with self._lock:
            self._pending[key] = utcnow()
            self._start_writer()
            self._lock.notify()
        return True

    def flush(self) -> None:
        """Write the keys seen so far (the writer does this on its own; tests call it)."""
        with self._lock:
            batch, self._pending = self._pending, {}
            now = self._clock()
            if now >= self._next_prune:  # the whole window's keys: not on every flush
                self._next_prune = now + PRUNE_EVERY_SECONDS
                cutoff = now - REPLAY_WINDOW.total_seconds()
                self._recent = {k: at for k, at in self._recent.items() if at >= cutoff}
        if not batch:
            return
        forget = self._due_to_forget()

        def remember(session: Session) -> None:
            if forget:
                forget_requests(session, before=utcnow() - 2 * REPLAY_WINDOW)
            remember_requests(session, batch)

        try:
            write_transaction(self.db, remember)
        except Exception as exc:  # noqa: BLE001 - keep the keys for the next round; this process still knows
            log.warning("could not record seen requests: %s", exc)
            with self._lock:
                self._pending.update(batch)

    def close(self) -> None:
        """Stop the writer and write what it had not written yet (a web process's last step)."""
        with self._lock:
            self._closing.set()
            self._lock.notify()
            writer = self._writer
        if writer is not None:
            writer.join(timeout=5)
        self.flush()

    def _start_writer(self) -> None:
        if self._closing.is_set() or (self._writer is not None and self._writer.is_alive()):
            return
        self._writer = threading.Thread(target=self._write_forever, name="seen-requests", daemon=True)
        self._writer.start()

    def _write_forever(self) -> None:
        while not self._closing.is_set():
            with self._lock:
                while not self._pending and not self._closing.is_set():
                    self._lock.wait()
            self._closing.wait(FLUSH_SECONDS)
            self.flush()

    def _due_to_forget(self) -> bool:
        with self._lock:
            if self._clock() < self._next_forget:
                return False
            self._next_forget = self._clock() + FORGET_EVERY_SECONDS
            return True
