"""The outbox delivery loop: claim due rows, deliver each by kind, requeue or fail what Slack did not take."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.notify.context import Context
from bot.notify.digest import deliver_container
from bot.notify.folding import fold_new_errors
from bot.notify.followups import deliver_repeat, deliver_update
from bot.notify.new_error import deliver_new_error
from bot.notify.pacing import ChannelPacer
from bot.notify.render import Renderer, default_renderer
from bot.notify.report import DeliveryReport
from bot.notify.slack import Deferred, Permanent, RateLimited, SlackGateway, Transient, Unconfirmed
from bot.notify.text import deliver_text
from bot.notify.timing import DigestSettings, DigestTiming
from storage import digests
from storage.db import session_scope
from storage.models import Notification, NotificationKind, NotificationStatus
from storage.outbox import Claim, claim_due, finish, get_notification, release, requeue
from storage.types import utcnow

log = logging.getLogger(__name__)

PAGE_SIZE = 40  # errors per digest thread page (fewer messages: each is a second of the channel's pace)
STALE_CLAIM = timedelta(seconds=60)
REPEAT_GAP = timedelta(seconds=60)  # repeats of one error closer than this coalesce into one reply
MAX_PASSES = 20  # per round: a round waits only for a channel's pace, a second at most per pass
# While Slack fails it is probed this often (after the first failed post a probe is the look-up, a cheap
# read), so delivery resumes within seconds once Slack is back.
MAX_BACKOFF_SECONDS = 4

_Handler = Callable[[Context, Claim], None]
_HANDLERS: dict[NotificationKind, _Handler] = {
    NotificationKind.NEW_ERROR: deliver_new_error,
    NotificationKind.REPEAT: deliver_repeat,
    NotificationKind.UPDATE: deliver_update,
    NotificationKind.DIGEST: deliver_container,
    NotificationKind.TEXT: deliver_text,
}


class OutboxDelivery:
    """Delivers the Slack outbox: at most one post per second per channel, nothing twice, nothing lost.

    `deliver_due` is called every few seconds by the scheduler. A paced or rate-limited row gets a due time;
    with `round_seconds` the round waits for a channel's pace (never past its time) and goes on, so one
    channel gets its message per second although the scheduler calls every DELIVER_EVERY.
    """

    def __init__(
        self,
        *,
        db: Engine,
        client: WebClient,
        digest: DigestSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        locale: str = "en",
        worker_id: str = "notify",
        renderer: Renderer | None = None,
        page_size: int = PAGE_SIZE,
        stale_after: timedelta = STALE_CLAIM,
        repeat_gap: timedelta = REPEAT_GAP,
        round_seconds: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = db
        self._clock = clock
        self._locale = locale
        self._worker_id = worker_id
        self._digest: DigestSettings = digest if digest is not None else DigestTiming()
        self._renderer = renderer
        self._page_size = max(1, page_size)
        self._stale_after = stale_after
        self._repeat_gap = repeat_gap
        self._round_seconds = round_seconds
        self._sleep = sleep
        self._pacer = ChannelPacer()
        self._slack = SlackGateway(client, pacer=self._pacer, clock=clock)
        self._round = threading.Lock()
        self.totals = DeliveryReport()

    def deliver_due(self, *, max_items: int = 50) -> DeliveryReport:
        """Deliver due outbox rows (`max_items` per pass) for up to `round_seconds`; return what happened.

        New errors are folded first, all at once; then rows are claimed and delivered. A pass that left a
        channel paced is repeated, after the pace allows, while the round's time lasts.
        """
        with self._round:
            report = DeliveryReport()
            deadline = time.monotonic() + self._round_seconds
            for _ in range(MAX_PASSES):
                _, stop = self._pass(report, max_items)
                wait = self._pacer.next_free(self._clock())
                if stop or wait is None or time.monotonic() + wait > deadline:
                    break
                self._sleep(wait)
            self.totals.add(report)
            return report

    def _pass(self, report: DeliveryReport, max_items: int) -> tuple[int, bool]:
        ctx = Context(
            db=self._db,
            slack=self._slack,
            render=self._renderer or self._default_renderer(),
            locale=self._locale,
            timing=self._digest,
            clock=self._clock,
            page_size=self._page_size,
            repeat_gap=self._repeat_gap,
            report=report,
        )
        now = self._clock()
        with session_scope(self._db) as session:
            fold_new_errors(session, now=now, timing=self._digest, report=report)
        with session_scope(self._db) as session:
            claims = claim_due(
                session,
                now=now,
                stale_before=now - self._stale_after,
                limit=max_items,
                blocked_channels=self._pacer.blocked(now),
                paced_channels=self._pacer.paced(now),
            )
        report.claimed += len(claims)
        for index, claim in enumerate(claims):
            if self._deliver_one(ctx, claim):
                self._release(claims[index + 1 :])
                return len(claims), True
        return len(claims), False

    def _default_renderer(self) -> Renderer:
        self._renderer = default_renderer()
        return self._renderer

    def _deliver_one(self, ctx: Context, claim: Claim) -> bool:
        """Deliver one row; return True when the round must stop (Slack is failing for everyone)."""
        try:
            _HANDLERS[claim.kind](ctx, claim)
            return False
        except Deferred as problem:
            rate_limited = isinstance(problem, RateLimited)
            with session_scope(self._db) as session:
                requeue(
                    session, claim=claim, due_at=problem.until, attempted=rate_limited, reason=problem.reason
                )
            ctx.report.requeued += 1
            return False
        except Unconfirmed as problem:
            # Slack answers (the look-up worked) but did not store the post: post again at the channel's pace.
            now = self._clock()
            due = self._pacer.wait_until(claim.channel, now) or now
            self._retry_later(ctx, claim, str(problem), due_at=due)
            return False
        except Transient as problem:
            backoff = timedelta(seconds=backoff_seconds(self._slack.failed()))
            self._retry_later(ctx, claim, str(problem), due_at=self._clock() + backoff)
            log.warning(
                "%s: Slack failed on notification %s (%s); retrying later", self._worker_id, claim.id, problem
            )
            return True
        except Permanent as problem:
            self._fail(ctx, claim, problem.error)
            log.error("%s: Slack refused notification %s: %s", self._worker_id, claim.id, problem.error)
            return problem.workspace_wide
        except Exception as problem:
            log.exception("%s: delivering notification %s failed", self._worker_id, claim.id)
            due = self._clock() + timedelta(seconds=backoff_seconds(1))
            self._retry_later(ctx, claim, f"{type(problem).__name__}: {problem}", due_at=due)
            return False

    def _retry_later(self, ctx: Context, claim: Claim, reason: str, *, due_at: datetime) -> None:
        with session_scope(self._db) as session:
            requeue(session, claim=claim, due_at=due_at, attempted=True, reason=reason)
        ctx.report.requeued += 1

    def _fail(self, ctx: Context, claim: Claim, error: str) -> None:
        now = self._clock()
        with session_scope(self._db) as session:
            row = get_notification(session, notification_id=claim.id)
            if row is None:
                return
            finish(session, row, status=NotificationStatus.FAILED, now=now, reason=error)
            ctx.report.failed += 1
            if row.kind == NotificationKind.DIGEST:
                ctx.report.failed += _fail_members(session, row, error, now)

    def _release(self, claims: list[Claim]) -> None:
        with session_scope(self._db) as session:
            for claim in claims:
                release(session, claim=claim)


def backoff_seconds(failures: int) -> int:
    """Delay after `failures` 5xx or connection failures in a row: 2 s, then 4 s."""
    return int(min(MAX_BACKOFF_SECONDS, 2 * 2 ** max(0, failures - 1)))


def _fail_members(session: Session, group: Notification, error: str, now: datetime) -> int:
    held = digests.members(session, group, status=NotificationStatus.HELD)
    for member, _ in held:
        finish(session, member, status=NotificationStatus.FAILED, now=now, reason=f"digest failed: {error}")
    return len(held)
