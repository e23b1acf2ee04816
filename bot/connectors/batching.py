"""Splitting writes into `$batch` requests sent several at once, one result per operation, in order.

Ordering: the sync engine hands over one page in which each record appears once, so operations of
different sub-batches never touch the same record and may run in any order; results are put back in
the operations' order. A caller that needs two writes to one record in sequence sends two pages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

from bot.connectors.errors import ConnectorError
from bot.connectors.models import BatchOperation, BatchResult

RunChunk = Callable[[list[BatchOperation]], list[BatchResult]]


def failed(operation: BatchOperation, error: ConnectorError, *, unknown: bool = False) -> BatchResult:
    """The result of an operation that failed with `error` (`unknown`: it may have been applied)."""
    return BatchResult(ref=operation.ref, status=error.status or 0, error=error, unknown=unknown)


def not_answered(operation: BatchOperation, *, system: str, url: str) -> BatchResult:
    """The result of an operation the `$batch` answer said nothing about (the service stopped before it)."""
    error = ConnectorError(
        message="The service did not run this operation of the batch.",
        system=system,
        method=operation.method,
        url=url,
    )
    return failed(operation, error)


MIN_SUB_BATCH = 10  # smaller sub-batches would spend the 5-minute request budget for little gain


def split(operations: list[BatchOperation], size: int, *, parallel: int = 1) -> list[list[BatchOperation]]:
    """Consecutive sub-batches of at most `size` operations.

    With `parallel` batches in flight they are as even as possible and their count is rounded up to a
    multiple of it (sub-batches of at least MIN_SUB_BATCH), so that the last wave is not a lone straggler:
    1,000 operations by 8 are 16 × 63, two full waves, rather than 10 × 100, a full wave and a wave of two.
    """
    size = max(1, size)
    if parallel <= 1 or not operations:
        return [operations[start : start + size] for start in range(0, len(operations), size)]
    count = -(-len(operations) // size)
    waves = -(-count // parallel)
    count = max(count, min(waves * parallel, -(-len(operations) // MIN_SUB_BATCH)))
    even = -(-len(operations) // count)
    return [operations[start : start + even] for start in range(0, len(operations), even)]


def run_in_chunks(operations: list[BatchOperation], limit: int, run_chunk: RunChunk) -> list[BatchResult]:
    """Run `operations` `limit` at a time, one request after the other, in order (see `BatchRunner`)."""
    return BatchRunner(workers=1).run(operations, limit, run_chunk)


class BatchRunner:
    """Sends sub-batches on a bounded thread pool (the session's Pacer decides how many are in flight).

    When a whole `$batch` request fails (after the retries), the sub-batches not yet started are not sent:
    they get that error as their result (refused: certainly not applied), the failed one gets it as well
    (unknown when its answer was lost after sending), and the ones already running finish normally, so
    the caller still sees one result per operation and no record that was written is lost.
    """

    def __init__(self, *, workers: int, name: str = "batch") -> None:
        self.workers = max(1, workers)
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(self, operations: list[BatchOperation], size: int, run_chunk: RunChunk) -> list[BatchResult]:
        """One result per operation, in the operations' order."""
        chunks = split(operations, size, parallel=self.workers)
        if self.workers == 1 or len(chunks) <= 1:
            return self._one_after_another(chunks, run_chunk)
        pool = self._executor()
        stop = threading.Event()

        def guarded(chunk: list[BatchOperation]) -> list[BatchResult]:
            if stop.is_set():
                raise _Skipped
            try:
                return run_chunk(chunk)
            except ConnectorError:
                stop.set()
                raise

        futures = [pool.submit(guarded, chunk) for chunk in chunks]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        if pending:
            for future in pending:
                future.cancel()
            wait(pending)
        first_error = _first_error(futures)
        results: list[BatchResult] = []
        for chunk, future in zip(chunks, futures, strict=True):
            results += _results_of(chunk, future, first_error)
        return results

    def close(self) -> None:
        """Stop the pool's threads."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _one_after_another(
        self, chunks: list[list[BatchOperation]], run_chunk: RunChunk
    ) -> list[BatchResult]:
        results: list[BatchResult] = []
        for index, chunk in enumerate(chunks):
            try:
                results += run_chunk(chunk)
            except ConnectorError as error:
                results += [failed(operation, error, unknown=error.answer_lost) for operation in chunk]
                for later in chunks[index + 1 :]:
                    results += [failed(operation, error) for operation in later]
                break
        return results

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self._name)
            return self._pool


class _Skipped(Exception):
    """A sub-batch not sent because an earlier one failed as a whole."""


def _first_error(futures: list[Future[list[BatchResult]]]) -> ConnectorError | None:
    for future in futures:
        if future.cancelled():
            continue
        error = future.exception()
        if isinstance(error, ConnectorError):
            return error
    return None


def _results_of(
    chunk: list[BatchOperation], future: Future[list[BatchResult]], first_error: ConnectorError | None
) -> list[BatchResult]:
    if not future.cancelled():
        error = future.exception()
        if error is None:
            return future.result()
        if isinstance(error, ConnectorError):
            return [failed(operation, error, unknown=error.answer_lost) for operation in chunk]
        if not isinstance(error, _Skipped):
            raise error
    assert first_error is not None
    return [failed(operation, first_error) for operation in chunk]


def has_create(operations: list[BatchOperation]) -> bool:
    """True when a chunk holds a create, which makes the `$batch` request unsafe to repeat blindly."""
    return any(operation.method == "POST" for operation in operations)
