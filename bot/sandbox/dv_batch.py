"""Dataverse's multipart `$batch`: change sets are atomic, Content-ID references, continue-on-error."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from bot.sandbox.api_error import ApiError, dataverse_error
from bot.sandbox.constants import DATAVERSE_BATCH_LIMIT
from bot.sandbox.http_types import Request, Response, parse_query
from bot.sandbox.latency import pace
from bot.sandbox.multipart import (
    EmbeddedRequest,
    MultipartError,
    Part,
    boundary_of,
    read_request,
    split_parts,
    write_multipart,
    write_response,
)
from bot.sandbox.store import DataStore

Route = Callable[[Request], Response]
_REFERENCE = re.compile(r"^\$(?P<id>[\w-]+)(?P<rest>.*)$")


def _bad(message: str) -> ApiError:
    return ApiError(400, "0x80060888", message)


def _to_request(embedded: EmbeddedRequest, references: dict[str, str]) -> Request:
    target = embedded.target
    if "/api/data/v9.2/" in target:
        target = target.split("/api/data/v9.2/", 1)[1]
    target = target.lstrip("/")
    match = _REFERENCE.match(target)
    if match is not None:
        if match.group("id") not in references:
            raise _bad(f"Content-ID reference '${match.group('id')}' does not match any earlier request.")
        target = references[match.group("id")] + match.group("rest")
    path, _, query_string = target.partition("?")
    body = _resolve_binds(embedded.body, references)
    return Request(embedded.method, path, parse_query(query_string), embedded.headers, body)


def _resolve_binds(body: bytes, references: dict[str, str]) -> bytes:
    """`"parentcustomerid_account@odata.bind": "$1"` points at the row an earlier request created."""
    if not references or b"$" not in body:
        return body
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if not isinstance(payload, dict):
        return body
    for name, value in payload.items():
        if name.endswith("@odata.bind") and isinstance(value, str) and value.startswith("$"):
            reference = references.get(value[1:])
            if reference is not None:
                payload[name] = "/" + reference
    return json.dumps(payload).encode()


def _count(parts: list[Part]) -> int:
    total = 0
    for part in parts:
        inner = boundary_of(part.content_type)
        total += len(split_parts(part.body, inner)) if inner else 1
    return total


def run_batch(request: Request, route: Route, store: DataStore, api_url: str) -> Response:
    """Execute a `$batch` body with `route` for each request; returns the multipart response."""
    boundary = boundary_of(request.header("content-type"))
    if boundary is None:
        return dataverse_error(
            _bad("The batch request must have a Content-Type of multipart/mixed with a boundary.")
        )
    continue_on_error = "odata.continue-on-error" in (request.header("prefer") or "")
    try:
        parts = split_parts(request.body, boundary)
        if _count(parts) > DATAVERSE_BATCH_LIMIT:
            raise _bad(
                f"The current change set contains too many operations. A maximum number of "
                f"'{DATAVERSE_BATCH_LIMIT}' operations are allowed in a change set."
            )
        batch = _Batch(route, store, api_url, continue_on_error)
        answer = batch.run(parts)
    except MultipartError as error:
        return dataverse_error(_bad(str(error)))
    except ApiError as error:
        return dataverse_error(error)
    response_boundary = f"batchresponse_{uuid.uuid4()}"
    return Response(
        200,
        [("Content-Type", f"multipart/mixed; boundary={response_boundary}"), ("OData-Version", "4.0")],
        write_multipart(response_boundary, answer),
        operations=batch.executed,
    )


class _Batch:
    """One batch run: the parts answered so far and the Content-ID references."""

    def __init__(self, route: Route, store: DataStore, api_url: str, continue_on_error: bool) -> None:
        self.route = route
        self.store = store
        self.api_url = api_url
        self.continue_on_error = continue_on_error
        self.references: dict[str, str] = {}
        self.executed = 0

    def run(self, parts: list[Part]) -> list[bytes]:
        answer: list[bytes] = []
        for part in parts:
            inner = boundary_of(part.content_type)
            done = self.executed
            with self.store.journal():  # a change set commits as one; other requests run in between parts
                if inner is not None:
                    ok, encoded = self._change_set(split_parts(part.body, inner))
                else:
                    response = self._execute(read_request(part), in_change_set=False)
                    ok = response.status < 400
                    encoded = write_response(response, part.headers.get("content-id"))
            pace(self.executed - done)
            answer.append(encoded)
            if not ok and not self.continue_on_error:
                break
        return answer

    def _execute(self, embedded: EmbeddedRequest, *, in_change_set: bool) -> Response:
        self.executed += 1
        try:
            if embedded.method == "GET" and in_change_set:
                raise _bad("A change set must not contain a GET request.")
            return self.route(_to_request(embedded, self.references))
        except ApiError as error:
            return dataverse_error(error)

    def _change_set(self, parts: list[Part]) -> tuple[bool, bytes]:
        """All or nothing: on the first failure undo the set and answer with that failure alone."""
        mark = self.store.mark()
        answered: list[bytes] = []
        for part in parts:
            embedded = read_request(part)
            content_id = part.headers.get("content-id") or embedded.content_id
            response = self._execute(embedded, in_change_set=True)
            if response.status >= 400:
                self.store.rollback_to(mark)
                return False, write_response(response, content_id)
            entity_url = response.header("OData-EntityId")
            if content_id is not None and entity_url is not None:
                self.references[content_id] = entity_url.split("/api/data/v9.2/", 1)[-1]
            answered.append(write_response(response, content_id))
        boundary = f"changesetresponse_{uuid.uuid4()}"
        head = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode()
        return True, head + write_multipart(boundary, answered)
