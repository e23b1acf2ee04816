"""The stand-in Business Central + Dataverse + Microsoft Entra token endpoint, served on one local port.

It imports nothing of the bot: it stands for the outside world.
"""

from bot.sandbox.constants import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_ENVIRONMENT,
    SANDBOX_TENANT,
)
from bot.sandbox.faults import FAULT_NAMES, UnknownFault
from bot.sandbox.latency import BadLatency, LatencyModel
from bot.sandbox.limits import ProtectionLimits
from bot.sandbox.server import SandboxServer, serve_forever
from bot.sandbox.state import SandboxState

__all__ = [
    "FAULT_NAMES",
    "BadLatency",
    "LatencyModel",
    "ProtectionLimits",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_ENVIRONMENT",
    "SANDBOX_TENANT",
    "SandboxServer",
    "SandboxState",
    "UnknownFault",
    "serve_forever",
]
