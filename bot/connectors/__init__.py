"""Connectors to Business Central and Dataverse: typed records, typed errors, tokens, deep links."""

from bot.connectors.auth import BUSINESS_CENTRAL_SCOPE, TokenProvider, dataverse_scope
from bot.connectors.business_central import BusinessCentralClient
from bot.connectors.dataverse import DataverseClient
from bot.connectors.errors import (
    AuthenticationFailed,
    ConcurrencyConflict,
    ConnectionFailed,
    ConnectorError,
    InvalidData,
    MissingReference,
    NotFound,
    PermissionDenied,
    ServerError,
    Throttled,
    Timeout,
)
from bot.connectors.links import (
    business_central_record_url,
    business_central_web_url_from_api,
    dataverse_record_url,
)
from bot.connectors.models import (
    BatchOperation,
    BatchResult,
    BusinessApp,
    KeyedBusinessApp,
    Record,
    SystemName,
    SystemUser,
    WhoAmI,
)
from bot.connectors.retry import RetryPolicy

__all__ = [
    "BUSINESS_CENTRAL_SCOPE",
    "AuthenticationFailed",
    "BatchOperation",
    "BatchResult",
    "BusinessCentralClient",
    "ConcurrencyConflict",
    "ConnectionFailed",
    "ConnectorError",
    "DataverseClient",
    "InvalidData",
    "MissingReference",
    "KeyedBusinessApp",
    "NotFound",
    "PermissionDenied",
    "Record",
    "BusinessApp",
    "RetryPolicy",
    "ServerError",
    "SystemName",
    "SystemUser",
    "Throttled",
    "Timeout",
    "TokenProvider",
    "WhoAmI",
    "business_central_record_url",
    "business_central_web_url_from_api",
    "dataverse_record_url",
    "dataverse_scope",
]
