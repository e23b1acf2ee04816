"""What the parts of a synchronization run (Find for Deleted among them) need from the engine running them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Engine

from bot.connectors.models import BusinessApp
from bot.sync.classify import Classification
from bot.sync.fieldmap import MappingSpec
from bot.sync.passes import DirectionPass, PassSettings
from storage.models import Direction, SyncJob, System


class SyncRunner(Protocol):
    """The engine as seen from a part of a run: both apps, the store, the clock and the job bookkeeping."""

    @property
    def db(self) -> Engine:
        """The store."""
        ...

    @property
    def bc(self) -> BusinessApp:
        """Business Central."""
        ...

    @property
    def dataverse(self) -> BusinessApp:
        """Dataverse."""
        ...

    @property
    def clock(self) -> Callable[[], datetime]:
        """Now."""
        ...

    @property
    def page_size(self) -> int:
        """Records per page of work."""
        ...

    @property
    def scan_page_size(self) -> int:
        """Ids per page of an id-only scan."""
        ...

    def store(self, system: System) -> BusinessApp:
        """The connector of one system."""
        ...

    def direction_pass(self, settings: PassSettings, src: BusinessApp, dst: BusinessApp) -> DirectionPass:
        """A pass of one mapping in one direction."""
        ...

    def record_job_failure(
        self, job: SyncJob, spec: MappingSpec, direction: Direction, failure: object
    ) -> Classification:
        """Classify and record the failure that ended a job."""
        ...

    def resolve_synced(
        self, spec: MappingSpec, direction: Direction, source_ids: set[str], *, resolution: str, by: str = ...
    ) -> int:
        """Resolve the live errors of records that now synced."""
        ...
