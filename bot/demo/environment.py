"""The lines that point a second terminal at a running sandbox (and the demo's store), and where they go."""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT, SandboxServer

ENV_FILE = Path("sync-errors-demo.env")


def sandbox_variables(server: SandboxServer, *, database_url: str | None = None) -> dict[str, str]:
    """The settings that make `sync-errors` talk to this sandbox (and, given, to this store)."""
    variables = {"DATABASE_URL": database_url} if database_url else {}
    variables.update(
        BC_API_URL=server.bc_api_url,
        BC_COMPANY_ID=server.company_id,
        BC_WEB_URL=server.bc_web_url,
        DATAVERSE_URL=server.dataverse_url,
        AUTH_TOKEN_URL=server.token_url,
        AZURE_TENANT_ID=SANDBOX_TENANT,
        AZURE_CLIENT_ID=SANDBOX_CLIENT_ID,
        AZURE_CLIENT_SECRET=SANDBOX_CLIENT_SECRET,
    )
    return variables


def export_lines(variables: Mapping[str, str]) -> list[str]:
    """`export NAME=value` lines a POSIX shell accepts as pasted."""
    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]


def write_env_file(path: Path, variables: Mapping[str, str]) -> Path:
    """Write NAME=value lines (for `set -a; . FILE; set +a`, or a .env); return the absolute path."""
    path = path.resolve()
    lines = ["# sync-errors demo: load with  set -a; . " + shlex.quote(str(path)) + "; set +a"]
    lines += [f"{name}={shlex.quote(value)}" for name, value in variables.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def command_path() -> str:
    """How to call this very installation's `sync-errors` from any shell: the venv's absolute script path."""
    found = shutil.which("sync-errors", path=str(Path(sys.executable).parent))
    if found:
        return shlex.quote(str(Path(found).absolute()))
    return f"{shlex.quote(sys.executable)} -m bot"
