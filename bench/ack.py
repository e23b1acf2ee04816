"""Benchmark: time to ack commands and buttons of `serve --http` against a bare Bolt app in the same run.

Run: `python bench/ack.py [--requests 300] [--concurrency 10] [--warmup 50] [--errors 300] [--rate R]
[--kinds summary,list,button] [--bare-acks poll|at-once]`.

Starts the loopback Slack stand-in and a fresh migrated SQLite store holding `--errors` errors, then two
servers as production runs them: `sync-errors serve --http --no-scheduler` (gunicorn gthread) and
bench/bare_bolt.py under gunicorn gthread with the same workers and threads. Each kind of request is fired
`--warmup` times (not counted; its work is let finish) and then `--requests` times by `--concurrency` client
threads, every request signed with a fresh timestamp; the time to the HTTP response is the ack. By default
each client sends again as soon as it is answered (closed loop); `--rate` paces the requests instead.
After each kind the script waits until our app has answered every request on its response_url, so one
kind's work does not spill into the next, and reports the servers' CPU per request (Linux): web processes
(gunicorn's master and workers: the acks) + reply processes (the replies rendered and sent after the ack).
(That wait is not an ack figure: the stand-in's listen backlog is 5, so a burst of answers can wait ~1 s
for a TCP retry there.)
The bare app is measured right before each kind of ours (the machine's other load drifts), and each kind's
p99 is set against that bare run's. The bare app acks as Bolt does by default (`--bare-acks poll`: its request
thread looks for the ack every 10 ms, which also paces its closed-loop clients); `--bare-acks at-once` runs it
with `process_before_response`, answering the moment its listener returns, as ours does. Prints p50 / p99 /
max per kind and that ratio (target: <= 1.5x, and < 3000 ms); exits 1 when a kind misses it.
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.pool import Pool
from pathlib import Path

import httpx
from gunicorn.config import Config

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlmodel import Session  # noqa: E402

from bot.ids import ActionId  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.models import Category, Direction, ErrorStatus  # noqa: E402
from storage.schema import upgrade  # noqa: E402
from storage.types import utcnow  # noqa: E402
from tests.factories import make_error, make_job  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.fakes.slack_payloads import block_actions_body, signed_headers, slash_command_body  # noqa: E402

SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
# As bot.processes.run_http configures gunicorn for `serve --http`.
WORKERS = 2
THREADS = 8
GUNICORN_TIMEOUT = 60
TARGET_RATIO = 1.5
SLACK_LIMIT_MS = 3000.0
REQUEST_TIMEOUT = 10.0
START_TIMEOUT = 60.0
DRAIN_TIMEOUT = 120.0
MAPPINGS = ("CUSTOMER", "CONTACT", "CURRENCY", "SALESPEOPLE", "ITEM-PRODUCT")
SLACK_PATH = "/slack/events"
# The last figures in README.md ("Acks first"), on 2 CPUs shared with other work.
BASELINE = (
    "last measured (p99 / bare, --requests 1000, 6 runs, median and range): summary 1.35x (1.31-1.47x), "
    "list 1.35x (1.10-1.60x), button show_details 1.53x (1.41-1.86x); with --bare-acks at-once: 1.06x "
    "(0.99-1.09x), 1.05x (1.01-1.12x), 1.11x (0.97-1.19x); before replies were held (3 runs): "
    "1.42x, 2.00x, 1.53x"
)
# How our app answers each button: Details replies on the response_url, Snooze… opens a modal.
# The clients' process starts fresh (not forked from this one, whose stand-in threads hold locks).
LOAD = multiprocessing.get_context("spawn")
KINDS = ("summary", "list", "button")  # what --kinds chooses from, in the order they run
BUTTON_ANSWERS = {ActionId.SHOW_DETAILS.value: "response_url", ActionId.SNOOZE.value: "views.open"}


# ---- the store -------------------------------------------------------------------------------------


def build_store(path: Path, errors: int) -> list[int]:
    """A migrated SQLite store with `errors` errors (mixed mappings, categories, statuses) and some jobs."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    categories = list(Category)
    now = utcnow()
    ids: list[int] = []
    with Session(engine) as session:
        for number in range(errors):
            created = now - timedelta(minutes=7 * number)
            error = make_error(
                session,
                mapping=MAPPINGS[number % len(MAPPINGS)],
                category=categories[number % len(categories)],
                direction=Direction.TO_DATAVERSE if number % 3 else Direction.FROM_DATAVERSE,
                status=ErrorStatus.RESOLVED if number % 10 == 9 else ErrorStatus.OPEN,
                occurrences=1 + number % 4,
                created_at=created,
                last_seen_at=created,
            )
            if error.status == ErrorStatus.OPEN and error.id is not None:
                ids.append(error.id)
        for number, mapping in enumerate(MAPPINGS * 4):
            make_job(session, mapping=mapping, inserted=number, modified=2 * number, failed=number % 3)
        session.commit()
    engine.dispose()
    return ids


# ---- the servers -----------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_environment(slack: FakeSlack) -> dict[str, str]:
    """This environment without proxies, plus Slack settings pointing at the stand-in."""
    keep = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    return {
        **keep,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url.rstrip("/"),
    }


@dataclass
class Server:
    """One server subprocess, its base URL and its output file."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> int:
        """SIGTERM (gunicorn stops its workers), then kill after 30 s."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def problems(self) -> list[str]:
        """Lines of its output that speak of failures."""
        text = self.log.read_text(errors="replace")
        words = ("Traceback", "listener failed", "could not answer", "[ERROR]", "[error", "[critical")
        words += ("seen before",)  # every request of the bench is new: a "replay" would lose its answer
        return [line for line in text.splitlines() if any(word in line for word in words)]


def start(name: str, command: Sequence[str], env: dict[str, str], folder: Path, port: int) -> Server:
    """Start one server with its output in `folder/<name>.log`."""
    log = folder / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            list(command), env=env, cwd=folder, stdout=output, stderr=subprocess.STDOUT
        )
    return Server(name=name, process=process, url=f"http://127.0.0.1:{port}", log=log)


def start_ours(slack: FakeSlack, database: Path, folder: Path) -> Server:
    """`sync-errors serve --http --port N --no-scheduler`, exactly as the Procfile's web process."""
    port = free_port()
    env = {
        **base_environment(slack),
        "DATABASE_URL": f"sqlite:///{database}",
        "SLACK_CHANNEL": "C0BENCH",
    }
    command = [sys.executable, "-m", "bot", "serve", "--http", "--port", str(port), "--no-scheduler"]
    return start("ours", command, env, folder, port)


def start_bare(slack: FakeSlack, folder: Path, acks: str) -> Server:
    """bench/bare_bolt.py under gunicorn gthread with our workers, threads and timeout; BARE_ACKS=`acks`."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--timeout",
        str(GUNICORN_TIMEOUT),
        "--pythonpath",
        str(BENCH),
    ]
    if "control_socket_disable" in Config().settings:
        # gunicorn >= 27: leave the default control socket (~/.gunicorn/gunicorn.ctl) to our server.
        command.append("--no-control-socket")
    command.append("bare_bolt:app")
    return start("bare", command, {**base_environment(slack), "BARE_ACKS": acks}, folder, port)


def wait_until_up(server: Server, path: str) -> None:
    """Poll `path` until the server answers at all (any status); fail if it dies or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise SystemExit(f"{server.name} exited with {code}:\n{server.log.read_text()}")
        try:
            httpx.get(server.url + path, timeout=1, trust_env=False)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{server.name} did not answer within {START_TIMEOUT:.0f} s:\n{server.log.read_text()}")


# ---- the load ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of request: a label, the server it goes to, and its body for the i-th request."""

    label: str
    server: Server
    body: Callable[[int], str]
    answer: str | None  # the Slack method each request is answered with, if any ("response_url", ...)


@dataclass
class Result:
    """The measured acks of one kind."""

    kind: Kind
    seconds: list[float]
    failures: dict[str, int]
    wall: float
    drained: float | None  # seconds from the last ack until the app's last answer to Slack
    cpu: tuple[float, float] | None  # CPU seconds of the measured requests: (web processes, reply processes)


REPLY_PROCESS = b"bot.replier"  # in the command line of a web worker's reply process (bot.replier)


def process_cpu(pid: int) -> tuple[float, float] | None:
    """User + system CPU seconds of a process and its descendants as (web, reply processes); None off Linux.

    Web: gunicorn's master and workers; reply: the workers' reply processes. A process that already exited is
    not counted.
    """
    try:
        web = reply = 0
        members = [str(pid)]
        while members:
            member = members.pop()
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
            if REPLY_PROCESS in Path(f"/proc/{member}/cmdline").read_bytes():
                reply += ticks
            else:
                web += ticks
            for task in Path(f"/proc/{member}/task").iterdir():
                members += (task / "children").read_text().split()
    except (OSError, ValueError, IndexError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return web / tick, reply / tick


def fire(
    load: Pool, url: str, kind: Kind, numbers: range, concurrency: int, rate: float | None
) -> tuple[list[float], list[str]]:
    """Send one signed request per number with `concurrency` threads; return the ack times and failures.

    The clients run in `load`, a process of their own started once (its warm-up is the first kind's): the
    Slack stand-in lives in this process and answers our app's replies, and sharing an interpreter with it
    would slow only the clients of the app that replies.
    Without `rate` every client sends its next request as soon as its last one is answered (closed loop);
    with `rate` the i-th request is not sent before start + i / rate (at most `concurrency` in flight).
    """
    bodies = [kind.body(number) for number in numbers]
    return load.apply(send_all, (url, bodies, concurrency, rate))


def send_all(
    url: str, bodies: Sequence[str], concurrency: int, rate: float | None
) -> tuple[list[float], list[str]]:
    """The clients of `fire`, in the load process: each body signed with a fresh timestamp when sent.

    The clients' own garbage collector is held off while they measure: this process imports the bot's
    modules (the bodies' factories), and a full collection of them stopped every client for 140-180 ms in
    the middle of a kind, counted as a slow ack of whichever app was measured at the time.
    """
    seconds: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gc.collect()
    gc.freeze()  # what this process holds so far is not walked by a collection again
    gc.disable()
    try:
        begin = time.perf_counter()
        with httpx.Client(timeout=REQUEST_TIMEOUT, limits=limits, trust_env=False) as client:

            def one(index: int) -> None:
                if rate is not None:
                    time.sleep(max(0.0, begin + index / rate - time.perf_counter()))
                body = bodies[index]
                headers = signed_headers(body, SECRET)  # a fresh timestamp for every request
                started = time.perf_counter()
                try:
                    answer = client.post(url, content=body, headers=headers)
                    elapsed = time.perf_counter() - started
                    outcome = None if answer.status_code == 200 else f"HTTP {answer.status_code}"
                except httpx.HTTPError as error:
                    elapsed = time.perf_counter() - started
                    outcome = type(error).__name__
                with lock:
                    seconds.append(elapsed)
                    if outcome is not None:
                        failures.append(outcome)

            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="client") as pool:
                list(pool.map(one, range(len(bodies))))
    finally:
        gc.enable()
    return seconds, failures


def drain(kind: Kind, slack: FakeSlack, expected: int, failures: list[str]) -> None:
    """Wait until the app has answered `expected` requests (response_url, views.open; a bounded wait)."""
    if kind.answer is None:
        return
    try:
        slack.wait_for(kind.answer, count=expected, timeout=DRAIN_TIMEOUT)
    except AssertionError as missing:
        failures.append(f"replies: {missing}")


def warm_up(
    load: Pool, kinds: Sequence[Kind], slack: FakeSlack, *, first: int, count: int, args: argparse.Namespace
) -> None:
    """One untimed round of every kind before the first measured one, its work let finish.

    Without it the first kind measured met servers and clients that had not answered anything yet, and its
    bare baseline came out slower than the same requests later in the run (in our app's favour).
    """
    for kind in kinds:
        slack.reset()
        fire(
            load, kind.server.url + SLACK_PATH, kind, range(first, first + count), args.concurrency, args.rate
        )
        drain(kind, slack, count, [])


def run_kind(
    load: Pool,
    kind: Kind,
    slack: FakeSlack,
    *,
    requests: int,
    warmup: int,
    concurrency: int,
    rate: float | None,
) -> Result:
    """Warm up and let that work finish; measure; wait until the app has answered every request."""
    slack.reset()
    url = kind.server.url + SLACK_PATH
    failures: list[str] = []
    if warmup:
        fire(load, url, kind, range(warmup), concurrency, rate)
        drain(kind, slack, warmup, failures)
        failures.clear()  # the warm-up does not count, its failures neither
    cpu_before = process_cpu(kind.server.process.pid)
    started = time.perf_counter()
    seconds, failed = fire(load, url, kind, range(warmup, warmup + requests), concurrency, rate)
    acked = time.perf_counter()
    failures += failed
    drain(kind, slack, warmup + requests, failures)
    drained = time.perf_counter() - acked if kind.answer and not failures else None
    cpu_after = process_cpu(kind.server.process.pid)
    cpu = None
    if cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1])
    counted: dict[str, int] = {}
    for failure in failures:
        counted[failure] = counted.get(failure, 0) + 1
    return Result(
        kind=kind, seconds=seconds, failures=counted, wall=acked - started, drained=drained, cpu=cpu
    )


# ---- the figures -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..100) of `values`."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def report(results: Sequence[Result], args: argparse.Namespace) -> bool:
    """Print the table, each kind of ours against the bare run right before it; True when all meet it."""
    print()
    load = "closed loop" if args.rate is None else f"paced at {args.rate:g} req/s"
    print(
        f"acks measured: {args.requests} per kind after {args.warmup} warm-up, {args.concurrency} concurrent "
        f"clients ({load}); gunicorn gthread {WORKERS} workers x {THREADS} threads; {os.cpu_count()} CPUs"
    )
    header = f"{'kind':38}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'req/s':>7}"
    header += f"{'cpu ms/req':>12}{'p99/bare':>10}  target"
    print(header)
    print("-" * (len(header) + 24))
    met = True
    bare_p99 = math.nan
    for result in results:
        p50 = percentile(result.seconds, 50) * 1000
        p99 = percentile(result.seconds, 99) * 1000
        top = max(result.seconds) * 1000
        rate = len(result.seconds) / result.wall
        if result.kind.server.name == "bare":
            bare_p99 = p99
            verdict, ratio = "(baseline of the next row)", "1.00x"
        else:
            ok = p99 <= TARGET_RATIO * bare_p99 and p99 < SLACK_LIMIT_MS and not result.failures
            met = met and ok
            verdict = f"{'MET' if ok else 'MISSED'} (<= {TARGET_RATIO}x, < {SLACK_LIMIT_MS:.0f} ms)"
            ratio = f"{p99 / bare_p99:.2f}x"
        cpu = "n/a"
        if result.cpu is not None:
            web, reply = (seconds * 1000 / len(result.seconds) for seconds in result.cpu)
            cpu = f"{web:.1f}+{reply:.1f}" if reply else f"{web:.1f}"
        figures = f"{p50:>8.1f}{p99:>8.1f}{top:>8.1f}{rate:>7.0f}{cpu:>12}{ratio:>10}"
        print(f"{result.kind.label:38}{figures}  {verdict}")
    print()
    for result in results:
        extras = []
        if result.drained is not None:
            answer = result.kind.answer
            extras.append(f"every {answer} answer in {result.drained * 1000:.0f} ms after the last ack")
        if result.failures:
            extras.append(f"FAILURES {result.failures}")
        if extras:
            print(f"{result.kind.label}: {'; '.join(extras)}")
    return met


def main() -> None:
    """Start the stand-in, the store and both servers; fire every kind; print the table; stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="measured requests per kind")
    parser.add_argument("--concurrency", type=int, default=10, help="concurrent clients")
    parser.add_argument("--warmup", type=int, default=50, help="requests per kind sent first, not counted")
    parser.add_argument("--errors", type=int, default=300, help="errors in the store")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="pace requests at this many per second (default: closed loop)",
    )
    parser.add_argument(
        "--button",
        choices=list(BUTTON_ANSWERS),
        default=ActionId.SHOW_DETAILS.value,
        help="the button clicked",
    )
    parser.add_argument(
        "--kinds",
        default="summary,list,button",
        help="which of summary, list, button to measure (comma-separated)",
    )
    parser.add_argument(
        "--bare-acks",
        choices=("poll", "at-once"),
        default="poll",
        help="how the bare app acks: Bolt's default 10 ms poll, or process_before_response (answers at once)",
    )
    args = parser.parse_args()
    chosen = {word.strip() for word in args.kinds.split(",") if word.strip()}
    if not chosen or not chosen <= set(KINDS):
        parser.error(f"--kinds takes some of {', '.join(KINDS)}, comma-separated (got {args.kinds!r})")
    positive = min(args.requests, args.concurrency, args.errors) >= 1 and (args.rate is None or args.rate > 0)
    if not positive or args.warmup < 0:
        parser.error("--requests, --concurrency, --errors and --rate must be positive, --warmup not negative")

    with (
        tempfile.TemporaryDirectory(prefix="bench-ack-") as tmp,
        FakeSlack() as slack,
        LOAD.Pool(1) as load,
    ):
        folder = Path(tmp)
        database = folder / "bench.db"
        print(f"building a store with {args.errors} errors ...", flush=True)
        open_ids = build_store(database, args.errors)
        servers: list[Server] = []
        try:
            ours = start_ours(slack, database, folder)
            servers.append(ours)
            bare = start_bare(slack, folder, args.bare_acks)
            servers.append(bare)
            wait_until_up(ours, "/healthz")
            wait_until_up(bare, SLACK_PATH)
            print(f"serving: ours at {ours.url}, bare Bolt at {bare.url}", flush=True)

            def command(prefix: str, words: str) -> Callable[[int], str]:
                def body(number: int) -> str:
                    return slash_command_body(
                        words, response_url=slack.response_url(f"{prefix}-{number}"), trigger_id=f"{number}.t"
                    )

                return body

            def button(prefix: str) -> Callable[[int], str]:
                def body(number: int) -> str:
                    error_id = open_ids[number % len(open_ids)]
                    return block_actions_body(
                        args.button,
                        str(error_id),
                        response_url=slack.response_url(f"{prefix}-{number}"),
                        trigger_id=f"{number}.t",
                    )

                return body

            every_kind = {
                "summary": Kind("ours: /sync-errors (summary)", ours, command("summary", ""), "response_url"),
                "list": Kind("ours: /sync-errors list", ours, command("list", "list"), "response_url"),
                "button": Kind(
                    f"ours: button {args.button}", ours, button("ours"), BUTTON_ANSWERS[args.button]
                ),
            }
            ours_kinds = [every_kind[name] for name in KINDS if name in chosen]
            # The bare app is measured right before each kind of ours (the machine's other load drifts), with
            # the same kind of request: a slash command before our commands, the same click before our button.
            kinds: list[Kind] = []
            bare_name = "bare Bolt" if args.bare_acks == "poll" else "bare Bolt at once"
            for number, kind in enumerate(ours_kinds):
                prefix = f"bare{number}"
                if "button" in kind.label:
                    bare_kind = Kind(f"{bare_name}: button {args.button}", bare, button(prefix), answer=None)
                else:
                    bare_kind = Kind(f"{bare_name}: /sync-errors", bare, command(prefix, ""), answer=None)
                kinds += [bare_kind, kind]
            print("warming up both apps and the clients with every kind ...", flush=True)
            warm_up(load, kinds, slack, first=args.warmup + args.requests, count=args.warmup, args=args)
            results = []
            for kind in kinds:
                print(f"firing {kind.label} ...", flush=True)
                results.append(
                    run_kind(
                        load,
                        kind,
                        slack,
                        requests=args.requests,
                        warmup=args.warmup,
                        concurrency=args.concurrency,
                        rate=args.rate,
                    )
                )
        finally:
            codes = {server.name: server.stop() for server in servers}
        met = report(results, args)
        for server in servers:
            problems = server.problems()
            if problems or codes[server.name] != 0:
                print(f"\n{server.name} exited with {codes[server.name]}; {len(problems)} problem line(s):")
                print("\n".join(problems[:10]))
    print("\ntarget: ack p99 <= 1.5 x the bare Bolt app's (measured right before), far inside Slack's 3 s")
    print(BASELINE)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
