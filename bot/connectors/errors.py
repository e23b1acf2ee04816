"""Typed errors of the business-app connectors.

ConnectorError                 anything the API or the network refused
├── AuthenticationFailed       the token endpoint refused (AADSTS code) or the API answered 401
├── PermissionDenied           403; privilege and entity parsed from "is missing prv… privilege"
├── NotFound                   404 / BadRequest_NotFound / Internal_RecordNotFound: the record itself is gone
├── ConcurrencyConflict        412 / Request_EntityChanged: the ETag is stale
├── Throttled                  429 with retry_after seconds
├── ServerError                5xx
├── Timeout                    the request timed out
├── ConnectionFailed           the host could not be reached
└── InvalidData                400 and other refusals of the data itself
    └── MissingReference       a record the written data refers to (a lookup, a related table) does not exist
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ConnectorError(Exception):
    """Base of every connector error; carries the HTTP status, the API's code and its own message."""

    message: str
    status: int | None = None
    code: str | None = None
    system: str | None = None  # "business_central", "dataverse" or "auth"
    method: str | None = None
    url: str | None = None
    body: dict[str, Any] | None = field(default=None, repr=False)
    # The request reached the service but its answer was lost (read timeout, dropped connection, 5xx): it may
    # have been applied. A create with a lost answer is never repeated blindly; the caller looks it up.
    answer_lost: bool = False

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass
class AuthenticationFailed(ConnectorError):
    """Sign-in refused: `aadsts` is the Microsoft Entra code (e.g. "AADSTS50055") when there is one."""

    aadsts: str | None = None


@dataclass
class PermissionDenied(ConnectorError):
    """The integration user lacks a privilege (Dataverse 0x80040220) or a permission (BC Authorization_*)."""

    privilege: str | None = None
    entity: str | None = None


@dataclass
class NotFound(ConnectorError):
    """The record (or resource) does not exist."""


@dataclass
class ConcurrencyConflict(ConnectorError):
    """The record changed since it was read (stale ETag)."""


@dataclass
class Throttled(ConnectorError):
    """Service protection limit hit; `retry_after` is in seconds."""

    retry_after: float | None = None


@dataclass
class ServerError(ConnectorError):
    """The service failed (5xx)."""


@dataclass
class Timeout(ConnectorError):
    """The request timed out."""


@dataclass
class ConnectionFailed(ConnectorError):
    """The service could not be reached."""


@dataclass
class InvalidData(ConnectorError):
    """The service refused the data (validation, missing related record, bad request)."""


@dataclass
class MissingReference(InvalidData):
    """The data points at a record that does not exist: Dataverse's "<table> With Id = … Does Not Exist"
    for a lookup, Business Central's "…cannot be found in the related table (<Table>)".

    Not a NotFound: the record written to is there; `table` and `record_id` (a GUID) or `key` (a code or
    number) name the missing one, `field` the field that refers to it when the app says so.
    """

    table: str | None = None
    record_id: str | None = None
    key: str | None = None
    field: str | None = None
