"""The latency model and the services' protection limits, over real HTTP against a threaded sandbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox import SandboxServer
from bot.sandbox.dv_batch import _Batch
from bot.sandbox.latency import BadLatency, LatencyModel
from bot.sandbox.limits import ProtectionLimits
from tests.sandbox.conftest import BC_SCOPE, fetch_token
from tests.sandbox.test_batches import _http_part, _multipart, _statuses


def _server(latency: str | float | None = None, limits: ProtectionLimits | None = None) -> SandboxServer:
    return SandboxServer(records=5, seed=3, latency=latency, limits=limits or ProtectionLimits()).start()


@pytest.fixture
def make_server() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with a given latency and limits; stops them all afterwards."""
    started: list[SandboxServer] = []

    def make(latency: str | float | None = None, limits: ProtectionLimits | None = None) -> SandboxServer:
        started.append(_server(latency, limits))
        return started[-1]

    yield make
    for server in started:
        server.stop()


def _dv(server: SandboxServer, timeout: float = 30.0) -> httpx.Client:
    token = fetch_token(server, f"{server.dataverse_url}/.default")
    return httpx.Client(
        base_url=f"{server.dataverse_url}/api/data/v9.2/",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=timeout,
    )


def _bc(server: SandboxServer) -> httpx.Client:
    token = fetch_token(server, BC_SCOPE)
    return httpx.Client(
        base_url=f"{server.bc_api_url}/companies({server.company_id})/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
    )


def _creates(count: int, prefix: str) -> bytes:
    parts = [_http_part("POST", "accounts", {"name": f"{prefix} {index}"}) for index in range(count)]
    return _multipart("batch_1", parts).encode()


def _batch(client: httpx.Client, body: bytes, timeout: float | None = None) -> httpx.Response:
    headers = {"Content-Type": "multipart/mixed; boundary=batch_1"}
    if timeout is None:
        return client.post("$batch", content=body, headers=headers)
    return client.post("$batch", content=body, headers=headers, timeout=httpx.Timeout(10.0, read=timeout))


def _in_parallel(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    results: list[httpx.Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [result for result in results if result is not None]


def test_the_model_charges_a_batch_about_its_operations() -> None:
    realistic = LatencyModel.parse("realistic")
    thousand_creates = realistic.seconds("dataverse", "POST", operations=1000, rows=0)
    assert 5 < thousand_creates < 30  # seconds to tens of seconds, like the real service
    single = realistic.seconds("dataverse", "POST", operations=1, rows=0)
    assert single < 0.1 < thousand_creates / 100
    hundred_bc = realistic.seconds("bc", "POST", operations=100, rows=0)
    assert 2 < hundred_bc < 10
    page = realistic.seconds("dataverse", "GET", operations=1, rows=5000)
    assert 0.3 < page < 3
    flat = LatencyModel.parse("25")
    assert flat.seconds("bc", "POST", operations=4, rows=0) == pytest.approx(0.1)
    assert flat.seconds("dataverse", "GET", operations=1, rows=5000) == pytest.approx(0.025)
    none = LatencyModel.parse(None)
    assert none.name == "none" and none.seconds("dataverse", "POST", 1000, 0) == 0.0
    for bad in ("fast", "-5"):
        with pytest.raises(BadLatency):
            LatencyModel.parse(bad)


def _timed_creates(server: SandboxServer, count: int, prefix: str) -> float:
    """Seconds one `$batch` of `count` account creates takes (each answered 204)."""
    with _dv(server) as dv:
        started = time.monotonic()
        response = _batch(dv, _creates(count, prefix))
        elapsed = time.monotonic() - started
    assert _statuses(response) == [204] * count
    return elapsed


def test_a_batch_costs_the_sum_of_its_operations(make_server: Callable[..., SandboxServer]) -> None:
    assert _timed_creates(make_server(latency=20), 40, "Timed") >= 0.8  # 40 operations at 20 ms each


def test_the_sandboxs_own_work_is_inside_an_operations_time_not_added_to_it(
    make_server: Callable[..., SandboxServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine the simulator's work per create is part of the model's 20 ms, as on the service."""
    execute = _Batch._execute

    def busy_host(self: _Batch, *args: object, **kwargs: object) -> object:
        time.sleep(0.01)  # this machine's own work for one operation (here: 10 of the model's 20 ms)
        return execute(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_Batch, "_execute", busy_host)
    elapsed = _timed_creates(make_server(latency=20), 40, "Loaded")
    assert 0.8 <= elapsed < 1.15  # 40 x 20 ms; with the host's work added it would be 40 x 30 ms = 1.2 s


def test_a_slow_batch_outlives_the_read_timeout_and_is_committed(
    make_server: Callable[..., SandboxServer],
) -> None:
    server = make_server(latency=30)
    with _dv(server) as dv, pytest.raises(httpx.ReadTimeout):
        _batch(dv, _creates(40, "Committed"), timeout=0.4)
    time.sleep(1.2)
    assert sum(1 for row in server.state.dv_rows("accounts") if row["name"].startswith("Committed")) == 40


def test_parallel_batches_overlap(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(latency=25)
    with _dv(server) as dv:
        answers = _in_parallel([lambda i=i: _batch(dv, _creates(20, f"P{i}")) for i in range(4)])
    assert [response.status_code for response in answers] == [200] * 4
    assert server.peak_concurrency()["dataverse"] == 4
    with httpx.Client() as http:
        state = http.get(f"{server.url}/_sandbox/state").json()
    assert state["latency"] == "25" and state["peak_concurrent_requests"]["dataverse"] == 4
    assert state["protection"]["dataverse"]["peak_concurrent"] == 4
    assert state["protection"]["dataverse"]["peak_requests_per_window"] >= 4
    assert state["protection"]["dataverse"]["refused"] == 0


def test_dataverse_refuses_more_concurrent_requests_than_its_limit(
    make_server: Callable[..., SandboxServer],
) -> None:
    server = make_server(latency=300, limits=ProtectionLimits(dataverse_concurrent=2))
    with _dv(server) as dv:
        answers = _in_parallel([lambda: dv.get("WhoAmI") for _ in range(3)])
    refused = [response for response in answers if response.status_code == 429]
    assert len(refused) == 1
    assert refused[0].json()["error"] == {
        "code": "0x80072326",
        "message": "Number of concurrent requests exceeded the limit of 2.",
    }
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert server.protection is not None and server.protection.report()["dataverse"]["refused"] == 1


def test_dataverse_request_budget_per_window(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(limits=ProtectionLimits(dataverse_requests=3))
    with _dv(server) as dv:
        statuses = [dv.get("WhoAmI").status_code for _ in range(4)]
        refused = dv.get("WhoAmI")
    assert statuses == [200, 200, 200, 429]
    assert refused.json()["error"] == {
        "code": "0x80072322",
        "message": "Number of requests exceeded the limit of 3 over time window of 300 seconds.",
    }
    assert 1 <= int(refused.headers["Retry-After"]) <= 300


def test_dataverse_combined_execution_time(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(latency=150, limits=ProtectionLimits(dataverse_execution_seconds=0.25))
    with _dv(server) as dv:
        statuses = [dv.get("WhoAmI").status_code for _ in range(3)]
        refused = dv.get("WhoAmI")
    assert statuses == [200, 200, 429]
    error = refused.json()["error"]
    assert error["code"] == "0x80072321"
    assert error["message"].startswith("Combined execution time of incoming requests exceeded limit of 250 ")


def test_business_central_queues_beyond_five_and_refuses_beyond_the_queue(
    make_server: Callable[..., SandboxServer],
) -> None:
    server = make_server(latency=300, limits=ProtectionLimits(bc_concurrent=1, bc_queued=1))
    with _bc(server) as bc:
        answers = _in_parallel([lambda: bc.get("currencies") for _ in range(3)])
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [200, 200, 429]
    refused = next(response for response in answers if response.status_code == 429)
    assert refused.json()["error"]["code"] == "Application_TooManyRequests"
    assert "Retry-After" in refused.headers


def test_without_limits_nothing_is_refused() -> None:
    server = SandboxServer(records=5, seed=3, latency=100, limits=None).start()
    try:
        with _dv(server) as dv:
            answers = _in_parallel([lambda: dv.get("WhoAmI") for _ in range(6)])
        assert [response.status_code for response in answers] == [200] * 6
    finally:
        server.stop()


def test_latency_can_change_while_serving(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server()
    server.set_latency("realistic")
    assert server.latency.name == "realistic"
    server.set_latency("none")
    with _dv(server) as dv:
        assert dv.get("WhoAmI").status_code == 200
    with httpx.Client(base_url=server.url) as http:
        assert http.put("/_sandbox/latency", json={"latency": 15}).json() == {"latency": "15"}
        assert http.get("/_sandbox/latency").json() == {"latency": "15"}
        refused = http.put("/_sandbox/latency", json={"latency": "warp"})
        assert refused.status_code == 400 and "not valid" in refused.json()["error"]["message"]
        assert http.get("/_sandbox/state").json()["latency"] == "15"


def test_cli_refuses_a_bad_latency() -> None:
    result = CliRunner().invoke(app, ["sandbox", "--latency", "fast"])
    assert result.exit_code == 2
    assert "latency 'fast' is not valid" in result.output
    assert "--latency none|realistic|MS" in result.output


@pytest.mark.slow
def test_a_realistic_thousand_create_batch_takes_seconds(make_server: Callable[..., SandboxServer]) -> None:
    server = make_server(latency="realistic")

    def created() -> int:
        return sum(1 for row in server.state.dv_rows("accounts") if row["name"].startswith("Realistic"))

    with _dv(server) as dv, pytest.raises(httpx.ReadTimeout):
        _batch(dv, _creates(1000, "Realistic"), timeout=3.0)
    assert 0 < created() < 1000  # the client gave up; the service is still working through the batch
    deadline = time.monotonic() + 30
    while created() < 1000 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert created() == 1000


def test_a_batch_commits_operation_by_operation_and_a_change_set_at_once(
    make_server: Callable[..., SandboxServer],
) -> None:
    server = make_server(latency=50)

    def named(prefix: str) -> int:
        return sum(1 for row in server.state.dv_rows("accounts") if row["name"].startswith(prefix))

    with _dv(server) as dv:
        [slow] = _in_parallel_after(
            lambda: _batch(dv, _creates(20, "Progressive")), wait=0.45, count=lambda: named("Progressive")
        )
        assert 0 < slow.midway < 20  # part of the batch is there while the rest is still running
        assert _statuses(slow.response) == [204] * 20 and named("Progressive") == 20
        change_set = "Content-Type: multipart/mixed; boundary=cs\r\n\r\n" + _multipart(
            "cs", [_http_part("POST", "accounts", {"name": f"Atomic {index}"}) for index in range(20)]
        )
        body = _multipart("batch_1", [change_set]).encode()
        [atomic] = _in_parallel_after(lambda: _batch(dv, body), wait=0.45, count=lambda: named("Atomic"))
        assert atomic.midway in (0, 20) and named("Atomic") == 20


class _Observed:
    def __init__(self, response: httpx.Response, midway: int) -> None:
        self.response = response
        self.midway = midway


def _in_parallel_after(
    call: Callable[[], httpx.Response], wait: float, count: Callable[[], int] | None = None
) -> list[_Observed]:
    """Run `call` in a thread; `wait` seconds in, count what is already there."""
    box: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: box.append(call()))
    thread.start()
    time.sleep(wait)
    midway = count() if count is not None else -1
    thread.join()
    return [_Observed(box[0], midway)]


def test_execution_time_is_the_services_not_this_machines(make_server: Callable[..., SandboxServer]) -> None:
    """The window is charged the model's time: a sandbox slowed by its own host's load charges no more."""
    server = make_server(latency=100, limits=ProtectionLimits(dataverse_execution_seconds=0.35))
    sandbox_app = server._http.app  # noqa: SLF001 - the one way in to slow the sandbox's own work
    handle = sandbox_app.dataverse.handle

    def slow_host(request: object) -> object:
        time.sleep(0.3)  # the sandbox's host is busy: not Dataverse's execution time
        return handle(request)

    sandbox_app.dataverse.handle = slow_host
    with _dv(server) as dv:
        statuses = [dv.get("WhoAmI").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]  # 0.1 s charged each; wall time (>= 0.3 s each) refuses the third
