"""The sandbox as one local HTTP server: `SandboxServer` for tests and demo, `serve_forever` for the CLI."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.sandbox.app import SandboxApp
from bot.sandbox.constants import (
    BC_PREFIX,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_ENVIRONMENT,
    SANDBOX_TENANT,
    TOKEN_LIFETIME_SECONDS,
)
from bot.sandbox.fault_effects import FaultEffects
from bot.sandbox.faults import ApiSide, FaultBoard, parse_fault_spec
from bot.sandbox.http_types import Request
from bot.sandbox.latency import LatencyModel
from bot.sandbox.limits import ProtectionLimits, ServiceProtection
from bot.sandbox.state import SandboxState
from bot.sandbox.tokens import TokenIssuer

REAL_LIMITS = ProtectionLimits()


class _HttpServer(ThreadingHTTPServer):
    """One thread per connection, so parallel requests (and batches) overlap as on the real services."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    app: SandboxApp
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        if self.tls is not None:
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HttpServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:  # the client went away mid-request: a server never acts on half a body
            self.close_connection = True
            return
        request = Request.from_target(self.command, self.path, dict(self.headers.items()), body)
        response = self.server.app.handle(request)
        if response.drop_connection:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True  # the client gave up waiting (a read timeout): the answer is lost

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, TimeoutError):
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Silence the per-request log lines."""


class SandboxServer:
    """Stand-in Business Central API v2.0 + Dataverse Web API v9.2 + Entra token endpoint on one port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        records: int = 300,
        faults: Sequence[str] = (),
        seed: int = 7,
        token_lifetime: int = TOKEN_LIFETIME_SECONDS,
        latency: str | float | LatencyModel | None = None,
        limits: ProtectionLimits | None = REAL_LIMITS,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`latency`: none (default), realistic or ms per operation; `limits`: None switches them off."""
        self.state = SandboxState(seed=seed, records=records)
        self.tokens = TokenIssuer(token_lifetime)
        self.faults = FaultBoard()
        self.effects = FaultEffects(self.state, self.tokens, self.faults)
        self.latency = latency if isinstance(latency, LatencyModel) else LatencyModel.parse(latency)
        self.protection = ServiceProtection(limits) if limits is not None else None
        self._http = _HttpServer((host, port), _Handler)
        self._http.tls = tls
        self._http.app = SandboxApp(
            self.state,
            self.tokens,
            self.faults,
            self.effects,
            lambda: self.url,
            self.latency,
            self.protection,
        )
        self._thread: threading.Thread | None = None
        for spec in faults:
            name, params = parse_fault_spec(spec)
            self.set_fault(name, **params)

    @property
    def url(self) -> str:
        """`http://HOST:PORT` as bound."""
        host, port = self._http.server_address[:2]
        scheme = "https" if self._http.tls is not None else "http"
        return f"{scheme}://{host!s}:{port}"

    @property
    def bc_api_url(self) -> str:
        """Business Central API base, up to and including `/api/v2.0`."""
        return f"{self.url}{BC_PREFIX}"

    @property
    def bc_web_url(self) -> str:
        """Base of Business Central web-client links (`…/?company=…&page=21&filter=…`)."""
        return f"{self.url}/bc-web/{SANDBOX_TENANT}/{SANDBOX_ENVIRONMENT}"

    @property
    def dataverse_url(self) -> str:
        """Dataverse environment URL (the connector appends `/api/data/v9.2/`)."""
        return f"{self.url}/dataverse"

    @property
    def token_url(self) -> str:
        """The OAuth2 client-credentials token endpoint."""
        return f"{self.url}/token/{SANDBOX_TENANT}/oauth2/v2.0/token"

    @property
    def company_id(self) -> str:
        """GUID of the seeded company."""
        return self.state.identities.company_id

    @property
    def integration_user_id(self) -> str:
        """systemuserid of the application user bound to SANDBOX_CLIENT_ID."""
        return self.state.identities.integration_user_id

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._http.serve_forever, args=(0.01,), name="sandbox", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join()
            self._thread = None
        self._http.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_latency(self, latency: str | float) -> None:
        """Change the latency model while serving: none, realistic or ms per operation."""
        self.latency.change_to(latency)

    def peak_concurrency(self) -> dict[ApiSide, int]:
        """The most requests one user had in flight at once, per API, since the start."""
        return dict(self.protection.peak_in_flight) if self.protection else {}

    def set_fault(self, name: str, **params: Any) -> None:
        """Switch a fault on (see FAULT_DEFAULTS for names and parameters); raises UnknownFault."""
        self.effects.switch_on(name, params)

    def clear_faults(self) -> None:
        """Switch every fault off."""
        self.effects.switch_all_off()

    def active_faults(self) -> list[dict[str, Any]]:
        """The active faults as `{"fault": name, **params}`."""
        return self.faults.active()

    def request_count(self, prefix: str | None = None) -> int:
        """HTTP requests served, optionally only those under a prefix such as "/bc" or "/dataverse"."""
        return self.state.request_count(prefix)

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted."""
        self._http.serve_forever()


def serve_forever(
    host: str, port: int, records: int, faults: Sequence[str], latency: str | float | None = None
) -> None:
    """Run the sandbox in the foreground (for `sync-errors sandbox`), printing where everything is."""
    server = SandboxServer(host=host, port=port, records=records, faults=faults, latency=latency)
    print(f"# Sandbox listening on {server.url} (latency: {server.latency.name})")
    for name, value in (
        ("BC_API_URL", server.bc_api_url),
        ("BC_COMPANY_ID", server.company_id),
        ("BC_WEB_URL", server.bc_web_url),
        ("DATAVERSE_URL", server.dataverse_url),
        ("AUTH_TOKEN_URL", server.token_url),
        ("AZURE_TENANT_ID", SANDBOX_TENANT),
        ("AZURE_CLIENT_ID", SANDBOX_CLIENT_ID),
        ("AZURE_CLIENT_SECRET", SANDBOX_CLIENT_SECRET),
    ):
        print(f"export {name}={value}")
    if faults:
        print(f"# faults: {', '.join(faults)}")
    print("", end="", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
