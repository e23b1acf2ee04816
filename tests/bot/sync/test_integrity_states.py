"""Stateful property test: whatever people do in both apps and however runs are interrupted, the engine never
creates a record twice, never couples outside a mapping's filter, and converges.

The engine runs with the real connectors against the sandbox over HTTP. Hypothesis drives random sequences of
creates, edits and deletes made "as a person" in both apps, same-name records, accounts of other relationship
types, uncouple and couple, a Dataverse `$batch` committed but answered too late (the answer is lost), and
first, incremental and full runs in between. After every step the records are counted on both sides.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlmodel import Session, select

from bot.connectors import BusinessCentralClient, DataverseClient, RetryPolicy, TokenProvider
from bot.connectors.errors import Timeout
from bot.connectors.models import BatchOperation, BatchResult
from bot.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxServer
from bot.sync.actions import SyncActions
from bot.sync.engine import SyncEngine
from bot.sync.mappings import CUSTOMER
from bot.sync.project import differences
from storage.db import make_engine
from storage.models import (
    Category,
    Coupling,
    Direction,
    ErrorStatus,
    Mapping,
    SyncError,
    UpdateConflictResolution,
)
from storage.schema import upgrade

NAMES = ("Adatum", "Fabrikam", "Litware", "Northwind")  # few names: same-name records happen often
ACCOUNT_TYPES = (3, 3, 11, 1)  # Customer, Customer, Vendor, Competitor
CUSTOMER_TYPE = 3


class LosesBatchAnswers:
    """A Dataverse client whose next `$batch` is committed by the service but answered too late."""

    def __init__(self, inner: DataverseClient) -> None:
        self._inner = inner
        self.lose_next = False

    def batch(self, operations: list[BatchOperation]) -> list[BatchResult]:
        """Send the batch; when armed, the service commits it and the answer never arrives."""
        results = self._inner.batch(operations)
        if self.lose_next:
            self.lose_next = False
            raise Timeout(message="The read operation timed out", status=None, system="dataverse")
        return results

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class SyncIntegrity(RuleBasedStateMachine):
    """People change both apps; the bot syncs; nothing is ever duplicated."""

    def __init__(self) -> None:
        super().__init__()
        self.server = SandboxServer(port=0, records=4, seed=11).start()
        self.folder = Path(f"/tmp/integrity-{uuid.uuid4().hex}")
        self.folder.mkdir()
        self.db = make_engine(f"sqlite:///{self.folder / 'store.db'}")
        upgrade(self.db)
        self.http = httpx.Client(timeout=10.0)
        retry = RetryPolicy(max_attempts=2, base_delay=0.0, max_retry_after=1.0, sleep=lambda _s: None)
        self.tokens = TokenProvider(self.server.token_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
        bc = BusinessCentralClient(
            self.http,
            api_url=self.server.bc_api_url,
            tokens=self.tokens,
            company_id=self.server.company_id,
            web_url=self.server.bc_web_url,
            retry=retry,
        )
        self.dv = LosesBatchAnswers(
            DataverseClient(
                self.http, environment_url=self.server.dataverse_url, tokens=self.tokens, retry=retry
            )
        )
        self.engine = SyncEngine(db=self.db, bc=bc, dataverse=self.dv, channel=None, page_size=3)  # type: ignore[arg-type]
        self.actions = SyncActions(self.engine)
        self.engine.run(["SALESPEOPLE", "CURRENCY"])
        self.ran = False
        self.uncoupled_numbers: set[str] = set()

    def teardown(self) -> None:
        """Stop the sandbox and drop the store."""
        self.tokens.close()
        self.http.close()
        self.db.dispose()
        self.server.stop()

    # ---- what people do ----------------------------------------------------------------------

    @rule(name=st.sampled_from(NAMES))
    def person_creates_customer(self, name: str) -> None:
        """Someone creates a customer in Business Central."""
        number = f"N{uuid.uuid4().hex[:6].upper()}"
        self.server.state.bc_create("customers", {"number": number, "displayName": name, "city": "Praha"})

    @rule(name=st.sampled_from(NAMES), kind=st.sampled_from(ACCOUNT_TYPES))
    def person_creates_account(self, name: str, kind: int) -> None:
        """Someone creates an account in Sales (a customer, a vendor or a competitor)."""
        self.server.state.dv_create(
            "accounts", {"name": name, "customertypecode": kind, "address1_city": "Brno"}
        )

    @rule(index=st.integers(0, 50), city=st.sampled_from(("Praha", "Brno", "Delft")))
    def person_edits_customer(self, index: int, city: str) -> None:
        """Someone edits a customer in Business Central."""
        rows = self.server.state.bc_rows("customers")
        if rows:
            self.server.state.bc_update("customers", str(rows[index % len(rows)]["id"]), {"city": city})

    @rule(index=st.integers(0, 50), city=st.sampled_from(("Praha", "Brno", "Delft")))
    def person_edits_account(self, index: int, city: str) -> None:
        """Someone edits an account in Sales."""
        rows = self.server.state.dv_rows("accounts")
        if rows:
            row = rows[index % len(rows)]
            self.server.state.dv_update("accounts", str(row["accountid"]), {"address1_city": city})

    @rule(index=st.integers(0, 50))
    def person_deletes_account(self, index: int) -> None:
        """Someone deletes an account in Sales (coupled or not)."""
        rows = self.server.state.dv_rows("accounts")
        if rows:
            self.server.state.dv_delete("accounts", str(rows[index % len(rows)]["accountid"]))

    @precondition(lambda self: self.ran)
    @rule(index=st.integers(0, 50))
    def person_uncouples(self, index: int) -> None:
        """Someone removes a coupling (both records stay)."""
        with Session(self.db) as session:
            couplings = list(session.exec(select(Coupling).where(Coupling.mapping == "CUSTOMER")).all())
        if couplings:
            coupling = couplings[index % len(couplings)]
            outcome = self.actions.uncouple(f"customer:{coupling.bc_key}", actor="U1")
            if outcome.ok and coupling.bc_key:
                self.uncoupled_numbers.add(coupling.bc_key)

    @rule(only_coupled=st.booleans())
    def admin_sets_sync_only_coupled(self, only_coupled: bool) -> None:
        """An admin switches CUSTOMER's "Synch. Only Coupled Records"."""
        with Session(self.db) as session:
            row = session.exec(select(Mapping).where(Mapping.name == "CUSTOMER")).one()
            row.sync_only_coupled = only_coupled
            row.update_conflict = UpdateConflictResolution.BUSINESS_CENTRAL_WINS
            session.add(row)
            session.commit()

    # ---- what the bot does --------------------------------------------------------------------

    @rule(full=st.booleans(), lose_answer=st.booleans())
    def bot_syncs(self, full: bool, lose_answer: bool) -> None:
        """A run of CUSTOMER; sometimes Dataverse commits a batch and its answer is lost."""
        self.dv.lose_next = lose_answer
        self.engine.run(["CUSTOMER"], full=full)
        self.dv.lose_next = False
        self.ran = True

    @precondition(lambda self: self.ran)
    @rule()
    def bot_settles(self) -> None:
        """Two runs without faults: every coupled pair inside the filters agrees."""
        self.engine.run(["CUSTOMER"])
        self.engine.run(["CUSTOMER"])
        accounts = {str(a["accountid"]): a for a in self.server.state.dv_rows("accounts")}
        customers = {str(c["id"]): c for c in self.server.state.bc_rows("customers")}
        with Session(self.db) as session:
            couplings = list(session.exec(select(Coupling).where(Coupling.mapping == "CUSTOMER")).all())
            conflicts = {
                e.source_id
                for e in session.exec(
                    select(SyncError).where(
                        SyncError.status == ErrorStatus.OPEN, SyncError.category == Category.UPDATE_CONFLICT
                    )
                ).all()
            }
        for coupling in couplings:
            account, customer = accounts.get(coupling.dataverse_id), customers.get(coupling.bc_id)
            if account is None or customer is None or coupling.pending or coupling.bc_id in conflicts:
                continue
            if account.get("statecode") not in (None, 0):
                continue
            bc_fields = dict(customer)
            differing = differences(
                CUSTOMER, Direction.TO_DATAVERSE, bc_fields, [], account, bidirectional_only=True
            )
            assert differing == [], coupling.bc_key

    # ---- invariants ---------------------------------------------------------------------------

    @invariant()
    def no_record_created_twice(self) -> None:
        """Per Business Central customer number, at most one account the bot created; and vice versa."""
        integration = self.server.integration_user_id
        created = [
            a for a in self.server.state.dv_rows("accounts") if a.get("_createdby_value") == integration
        ]
        numbers = Counter(str(a.get("accountnumber") or "") for a in created)
        assert all(n <= 1 for key, n in numbers.items() if key), numbers
        with Session(self.db) as session:
            couplings = list(session.exec(select(Coupling).where(Coupling.mapping == "CUSTOMER")).all())
        coupled_accounts = {c.dataverse_id for c in couplings}
        orphans = [a for a in created if str(a["accountid"]) not in coupled_accounts]
        # A bot-created account is coupled, or a person uncoupled it: never an unaccounted second copy.
        assert all(str(a.get("accountnumber") or "") in self.uncoupled_numbers for a in orphans), orphans

    @invariant()
    def couplings_stay_inside_the_filters(self) -> None:
        """No coupling joins a vendor's or competitor's account to a customer."""
        accounts = {str(a["accountid"]): a for a in self.server.state.dv_rows("accounts")}
        with Session(self.db) as session:
            couplings = list(session.exec(select(Coupling).where(Coupling.mapping == "CUSTOMER")).all())
        for coupling in couplings:
            account = accounts.get(coupling.dataverse_id)
            if account is not None:
                assert account.get("customertypecode") in (None, CUSTOMER_TYPE), account

    @invariant()
    def deleted_means_deleted(self) -> None:
        """An open deleted-record error never names a record that exists."""
        with Session(self.db) as session:
            open_deleted = session.exec(
                select(SyncError).where(
                    SyncError.status == ErrorStatus.OPEN, SyncError.category == Category.DELETED_RECORD
                )
            ).all()
        accounts = {str(a["accountid"]) for a in self.server.state.dv_rows("accounts")}
        customers = {str(c["id"]) for c in self.server.state.bc_rows("customers")}
        for error in open_deleted:
            deleted = str((error.facts or {}).get("deleted_id") or "")
            assert deleted not in accounts and deleted not in customers, error.message


SyncIntegrity.TestCase.settings = settings(
    max_examples=10,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_sync_integrity = pytest.mark.timeout(1200)(pytest.mark.slow(SyncIntegrity.TestCase))
