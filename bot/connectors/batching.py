"""Splitting writes into `$batch` requests of at most the API's limit, one result per operation."""

from __future__ import annotations

from collections.abc import Callable

from bot.connectors.errors import ConnectorError
from bot.connectors.models import BatchOperation, BatchResult


def failed(operation: BatchOperation, error: ConnectorError) -> BatchResult:
    """The result of an operation that failed with `error`."""
    return BatchResult(ref=operation.ref, status=error.status or 0, error=error)


def not_answered(operation: BatchOperation, *, system: str, url: str) -> BatchResult:
    """The result of an operation the `$batch` answer said nothing about (the service stopped before it)."""
    error = ConnectorError(
        message="The service did not run this operation of the batch.",
        system=system,
        method=operation.method,
        url=url,
    )
    return failed(operation, error)


def run_in_chunks(
    operations: list[BatchOperation],
    limit: int,
    run_chunk: Callable[[list[BatchOperation]], list[BatchResult]],
) -> list[BatchResult]:
    """Run `operations` `limit` at a time, in order.

    When a whole `$batch` request fails (after the retries), that chunk and every later one get its
    error as their result without being sent: the caller still sees one result per operation, and earlier
    chunks' results (records that were written) are not lost.
    """
    results: list[BatchResult] = []
    for start in range(0, len(operations), limit):
        chunk = operations[start : start + limit]
        try:
            results += run_chunk(chunk)
        except ConnectorError as error:
            results += [failed(operation, error) for operation in operations[start:]]
            break
    return results


def has_create(operations: list[BatchOperation]) -> bool:
    """True when a chunk holds a create, which makes the `$batch` request unsafe to repeat blindly."""
    return any(operation.method == "POST" for operation in operations)
