"""A loopback stand-in for Slack's Web API (and response_url) that slack_sdk's WebClient can talk to.

Start it with `FakeSlack()` (or as a context manager), point `WebClient(base_url=fake.api_url)` at it,
and inspect `fake.calls("chat.postMessage")`, `fake.messages(channel)` and friends. Every request is
recorded with its parsed body; failures are scripted with `fake.fail_next(...)`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TEAM_ID = "T1"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
FIRST_TS = 1_700_000_000.0001

_JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "unfurls", "replace_original", "delete_original")
_TRUE = ("1", "true", "True", True, 1)


@dataclass(frozen=True)
class RecordedCall:
    """One request the stand-in received, with its parsed arguments and what it answered."""

    method: str  # API method name ("chat.postMessage"), or "response_url"
    http_method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]  # JSON body, form fields and query parameters, merged
    raw: bytes
    at: float  # the stand-in's clock when the request arrived
    status: int
    response: dict[str, Any]

    @property
    def args(self) -> dict[str, Any]:
        """Alias of `body`."""
        return self.body


@dataclass
class StoredMessage:
    """A message as the stand-in keeps it (channel messages and thread replies alike)."""

    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    user: str = BOT_USER_ID
    edited: bool = False
    reply_count: int = 0

    def as_api(self, *, with_metadata: bool) -> dict[str, Any]:
        """Render the message the way conversations.history / replies return it."""
        data: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "bot_id": BOT_ID,
            "ts": self.ts,
            "text": self.text or "",
        }
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        if self.reply_count:
            data["thread_ts"] = self.ts
            data["reply_count"] = self.reply_count
        if self.edited:
            data["edited"] = {"user": self.user, "ts": self.ts}
        if with_metadata and self.metadata is not None:
            data["metadata"] = self.metadata
        return data


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    disconnect: bool
    apply: bool


@dataclass
class _Flaky:
    fraction: float
    failure: _Failure
    seen: int = 0

    def strikes(self) -> bool:
        """True for exactly `fraction` of the calls, spread evenly (every 4th at 0.25)."""
        self.seen += 1
        return int(self.seen * self.fraction) > int((self.seen - 1) * self.fraction)


@dataclass
class _State:
    calls: list[RecordedCall] = field(default_factory=list)
    messages: dict[str, list[StoredMessage]] = field(default_factory=lambda: defaultdict(list))
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    home: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, deque[_Failure]] = field(default_factory=lambda: defaultdict(deque))
    canned: dict[str, dict[str, Any]] = field(default_factory=dict)
    flaky: dict[str, _Flaky] = field(default_factory=dict)
    outage: _Failure | None = None
    post_interval: float | None = None  # chat.postMessage per channel at most once per this many seconds
    last_post: dict[str, float] = field(default_factory=dict)
    last_ts: float = FIRST_TS - 0.0001
    view_seq: int = 0


class FakeSlack:
    """Slack's Web API on 127.0.0.1 (random port) in a daemon thread; records calls, keeps messages."""

    def __init__(self, *, clock: Callable[[], float] = time.time, default_locale: str = "en-US") -> None:
        self._clock = clock
        self._default_locale = default_locale
        self._lock = threading.Condition()
        self._state = _State()
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    # ---- addresses -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the stand-in, without a trailing slash."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """What to give `WebClient(base_url=...)` (slack_sdk joins base_url and the method name)."""
        return self.url + "/api/"

    def response_url(self, response_id: str) -> str:
        """A response_url whose POSTs are recorded as "response_url" calls."""
        return f"{self.url}/response/{response_id}"

    # ---- lifecycle -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget calls, messages, views, scripted failures and canned answers (keep users)."""
        with self._lock:
            users = self._state.users
            self._state = _State(users=users)

    # ---- scripting -----------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        disconnect: bool = False,
        apply: bool = False,
    ) -> None:
        """Make the next `times` calls of `method` fail.

        status=429 answers `ratelimited` with Retry-After (default 0); 5xx answers a non-JSON body;
        status=200 with `error` answers `{"ok": false, "error": error}`; disconnect closes the socket.
        apply=True carries the call out first and fails only the answer (a post that went through).
        """
        if status == 429 and retry_after is None:
            retry_after = 0
        if status == 200 and error is None and not disconnect:
            raise ValueError("fail_next with status 200 needs an error name")
        with self._lock:
            for _ in range(times):
                self._state.failures[method].append(_Failure(status, error, retry_after, disconnect, apply))

    def flaky(
        self,
        method: str,
        *,
        fraction: float,
        status: int = 500,
        disconnect: bool = False,
        apply: bool = True,
    ) -> None:
        """From now on fail `fraction` of the calls of `method`, evenly (0.25: every 4th), like fail_next.

        With apply=True (the default) each chosen call is carried out first: Slack stored the message and the
        answer was lost. fraction=0 switches it off.
        """
        with self._lock:
            if fraction <= 0:
                self._state.flaky.pop(method, None)
                return
            failure = _Failure(status, None, None, disconnect, apply)
            self._state.flaky[method] = _Flaky(fraction, failure)

    def set_outage(self, down: bool, *, status: int = 503) -> None:
        """While down, every Web API call answers `status` (0: drops the connection), storing nothing."""
        with self._lock:
            self._state.outage = _Failure(status, None, None, status == 0, False) if down else None

    def rate_limit_posts(self, interval: float | None = 1.0) -> None:
        """Answer 429 (Retry-After 1, nothing stored) to a post within `interval` of the channel's last."""
        with self._lock:
            self._state.post_interval = interval

    def set_response(self, method: str, body: dict[str, Any]) -> None:
        """Answer every later call of `method` with `body` (for methods without built-in behaviour)."""
        with self._lock:
            self._state.canned[method] = body

    def set_user(self, user_id: str, *, locale: str = "en-US", **fields: Any) -> None:
        """Define what users.info returns for a user (its `locale` in particular)."""
        with self._lock:
            self._state.users[user_id] = {"locale": locale, **fields}

    # ---- inspection ----------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Recorded calls, oldest first, optionally only those of one method."""
        with self._lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedCall]:
        """Block until at least `count` calls of `method` arrived; raise AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self._state.calls if c.method == method]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} call(s) of {method}, got {len(found)}")
                self._lock.wait(remaining)

    def messages(self, channel: str, *, include_replies: bool = True) -> list[StoredMessage]:
        """Messages of a channel in posting order (thread replies too unless told otherwise)."""
        with self._lock:
            return [m for m in self._state.messages[channel] if include_replies or m.thread_ts is None]

    def thread(self, channel: str, thread_ts: str) -> list[StoredMessage]:
        """Replies of one thread, oldest first (without the parent)."""
        with self._lock:
            return [m for m in self._state.messages[channel] if m.thread_ts == thread_ts]

    def message(self, channel: str, ts: str) -> StoredMessage | None:
        """One stored message by channel and ts."""
        with self._lock:
            return self._find(channel, ts)

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages posted with chat.postEphemeral."""
        with self._lock:
            return [e for e in self._state.ephemerals if channel is None or e["channel"] == channel]

    def views(self) -> dict[str, dict[str, Any]]:
        """Open modals by view id."""
        with self._lock:
            return dict(self._state.views)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The App Home view last published for a user."""
        with self._lock:
            return self._state.home.get(user_id)

    # ---- request handling (runs on server threads) -----------------------------------------------

    def _handle(self, http_method: str, path: str, headers: dict[str, str], raw: bytes) -> _Reply:
        parts = urlsplit(path)
        body = _parse_body(parts.query, headers, raw)
        path = parts.path
        method = "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
        with self._lock:
            at = self._clock()
            reply = self._answer(method, body, headers)
            self._state.calls.append(
                RecordedCall(
                    method=method,
                    http_method=http_method,
                    path=path,
                    headers=headers,
                    body=body,
                    raw=raw,
                    at=at,
                    status=reply.status,
                    response=reply.body if isinstance(reply.body, dict) else {},
                )
            )
            self._lock.notify_all()
        return reply

    def _answer(self, method: str, body: dict[str, Any], headers: dict[str, str]) -> _Reply:
        if self._state.outage is not None and method != "response_url":
            return _failure_reply(self._state.outage)
        queue = self._state.failures.get(method)
        failure = queue.popleft() if queue else None
        flaky = self._state.flaky.get(method)
        if failure is None and flaky is not None and flaky.strikes():
            failure = flaky.failure
        if failure is not None:
            route = _ROUTES.get(method)
            if failure.apply and route is not None:
                route(self, body)
            return _failure_reply(failure)
        if method == "chat.postMessage" and self._state.post_interval is not None:
            channel = str(body.get("channel") or "")
            now = self._clock()
            last = self._state.last_post.get(channel)
            if last is not None and now - last < self._state.post_interval * 0.95:
                return _failure_reply(_Failure(429, None, 1, False, False))
            self._state.last_post[channel] = now
        if method == "response_url":
            return _Reply(200, {"ok": True})
        if not headers.get("authorization", "").startswith("Bearer xox"):
            return _Reply(200, {"ok": False, "error": "not_authed"})
        if method in self._state.canned:
            return _Reply(200, self._state.canned[method])
        route = _ROUTES.get(method)
        if route is None:
            return _Reply(200, {"ok": True})
        return _Reply(200, route(self, body))

    def _next_ts(self) -> str:
        now = max(self._clock(), FIRST_TS)
        ts = max(now, self._state.last_ts + 0.000001)
        self._state.last_ts = ts
        return f"{ts:.6f}"

    def _find(self, channel: str, ts: str) -> StoredMessage | None:
        for stored in self._state.messages.get(channel, []):
            if stored.ts == ts:
                return stored
        return None

    # ---- methods ---------------------------------------------------------------------------------

    def _auth_test(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://t1.slack.com/",
            "team": "Team One",
            "user": "sync-errors",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not body.get("text") and not body.get("blocks"):
            return {"ok": False, "error": "no_text"}
        thread_ts = body.get("thread_ts") or None
        if thread_ts is not None:
            parent = self._find(channel, thread_ts)
            if parent is not None and parent.thread_ts is not None:
                thread_ts = parent.thread_ts  # a reply's ts as thread_ts lands in the same thread
            parent = self._find(channel, thread_ts)
            if parent is not None:
                parent.reply_count += 1
        stored = StoredMessage(
            channel=channel,
            ts=self._next_ts(),
            text=body.get("text"),
            blocks=body.get("blocks"),
            thread_ts=thread_ts,
            metadata=body.get("metadata"),
        )
        self._state.messages[channel].append(stored)
        return {"ok": True, "channel": channel, "ts": stored.ts, "message": stored.as_api(with_metadata=True)}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = body.get("channel", ""), body.get("ts", "")
        stored = self._find(channel, ts)
        if stored is None:
            return {"ok": False, "error": "message_not_found"}
        if "text" in body:
            stored.text = body["text"]
        if "blocks" in body:
            stored.blocks = body["blocks"]
        if "metadata" in body:
            stored.metadata = body["metadata"]
        stored.edited = True
        return {"ok": True, "channel": channel, "ts": ts, "text": stored.text or "", "message": {}}

    def _post_ephemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        self._state.ephemerals.append(dict(body))
        return {"ok": True, "message_ts": self._next_ts()}

    def _delete(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = body.get("channel", ""), body.get("ts", "")
        stored = self._find(channel, ts)
        if stored is None:
            return {"ok": False, "error": "message_not_found"}
        self._state.messages[channel].remove(stored)
        return {"ok": True, "channel": channel, "ts": ts}

    def _views_open(self, body: dict[str, Any]) -> dict[str, Any]:
        self._state.view_seq += 1
        view = {**(body.get("view") or {}), "id": f"V{self._state.view_seq:04d}"}
        self._state.views[view["id"]] = view
        return {"ok": True, "view": view}

    def _views_update(self, body: dict[str, Any]) -> dict[str, Any]:
        view_id = body.get("view_id")
        if view_id is None and body.get("external_id"):
            view_id = next(
                (k for k, v in self._state.views.items() if v.get("external_id") == body["external_id"]), None
            )
        if view_id is None or view_id not in self._state.views:
            return {"ok": False, "error": "not_found"}
        view = {**(body.get("view") or {}), "id": view_id}
        self._state.views[view_id] = view
        return {"ok": True, "view": view}

    def _views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = body.get("user_id", "")
        view = {**(body.get("view") or {}), "id": f"VHOME{user_id}"}
        self._state.home[user_id] = view
        return {"ok": True, "view": view}

    def _users_info(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = body.get("user", "")
        extra = self._state.users.get(user_id, {})
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "real_name": user_id,
            "tz": "Europe/Prague",
            "locale": self._default_locale,
            **extra,
        }
        if body.get("include_locale") not in _TRUE:
            user.pop("locale", None)
        return {"ok": True, "user": user}

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel", "")
        top = [m for m in self._state.messages.get(channel, []) if m.thread_ts is None]
        return self._page(list(reversed(top)), body)

    def _replies(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = body.get("channel", ""), body.get("ts", "")
        parent = self._find(channel, ts)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        replies = [m for m in self._state.messages[channel] if m.thread_ts == ts]
        return self._page([parent, *replies], body, keep_first=True)

    def _page(
        self, found: list[StoredMessage], body: dict[str, Any], keep_first: bool = False
    ) -> dict[str, Any]:
        oldest = float(body.get("oldest") or 0)
        latest = float(body["latest"]) if body.get("latest") else None
        inclusive = body.get("inclusive") in _TRUE

        def inside(m: StoredMessage) -> bool:
            ts = float(m.ts)
            low = ts >= oldest if inclusive else ts > oldest
            high = latest is None or (ts <= latest if inclusive else ts < latest)
            return low and high

        selected = [m for i, m in enumerate(found) if (keep_first and i == 0) or inside(m)]
        limit = int(body.get("limit") or 100)
        offset = int(body.get("cursor") or 0)
        page = selected[offset : offset + limit]
        more = offset + limit < len(selected)
        with_metadata = body.get("include_all_metadata") in _TRUE
        return {
            "ok": True,
            "messages": [m.as_api(with_metadata=with_metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(offset + limit) if more else ""},
        }


_ROUTES: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.delete": FakeSlack._delete,
    "views.open": FakeSlack._views_open,
    "views.push": FakeSlack._views_open,
    "views.update": FakeSlack._views_update,
    "views.publish": FakeSlack._views_publish,
    "users.info": FakeSlack._users_info,
    "conversations.history": FakeSlack._history,
    "conversations.replies": FakeSlack._replies,
}


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)
    disconnect: bool = False


def _failure_reply(failure: _Failure) -> _Reply:
    if failure.disconnect:
        return _Reply(0, {}, disconnect=True)
    if failure.status == 429:
        return _Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(failure.retry_after)})
    if failure.status >= 500:
        return _Reply(failure.status, "<html><body>Slack is having trouble</body></html>")
    return _Reply(failure.status, {"ok": False, "error": failure.error or "fatal_error"})


def _parse_body(query: str, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
    body: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    content_type = headers.get("content-type", "")
    if raw and "json" in content_type:
        parsed = json.loads(raw.decode("utf-8"))
        if isinstance(parsed, dict):
            body.update(parsed)
    elif raw and "x-www-form-urlencoded" in content_type:
        body.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    for name in _JSON_FIELDS:
        value = body.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            body[name] = json.loads(value)
    return body


def _make_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle's algorithm a kept-alive client would wait for a
        # delayed ACK (~40 ms) before the body; Slack's servers answer at once.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, http_method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if len(raw) < length:
                # The sender went away mid-request (killed between its header and body writes): like any
                # HTTP server, Slack never acts on a request it did not receive whole.
                self.close_connection = True
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = fake._handle(http_method, self.path, headers, raw)
            if reply.disconnect:
                self.close_connection = True
                self.connection.close()
                return
            data = (json.dumps(reply.body) if isinstance(reply.body, dict) else reply.body).encode("utf-8")
            self.send_response(reply.status)
            content_type = "application/json; charset=utf-8" if isinstance(reply.body, dict) else "text/html"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@contextmanager
def running_fake_slack(**kwargs: Any) -> Iterator[FakeSlack]:
    """Run a FakeSlack for the duration of a with-block."""
    fake = FakeSlack(**kwargs)
    try:
        yield fake
    finally:
        fake.stop()
