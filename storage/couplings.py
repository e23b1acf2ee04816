"""Queries on couplings (CRM Integration Records): find by either side, couple, uncouple, skipped, failed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_
from sqlmodel import Session, col, select

from storage.models import Coupling, Direction, SyncResult, System, UncoupledRecord
from storage.types import utcnow

IN_CHUNK = 500
ETAG_LENGTH = 100  # Coupling.bc_etag / dataverse_etag; a longer ETag is not kept (modified-on decides)


@dataclass(frozen=True, slots=True)
class PendingCoupling:
    """A coupling to reserve before its Dataverse create is sent (the id chosen for the new row)."""

    mapping: str
    bc_table: str
    bc_id: str
    dataverse_table: str
    dataverse_id: str
    bc_key: str | None = None
    name: str | None = None


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    unique = sorted(set(values))
    for start in range(0, len(unique), IN_CHUNK):
        yield unique[start : start + IN_CHUNK]


def get_by_bc(session: Session, *, table: str, record_id: str) -> Coupling | None:
    """Return the coupling of a Business Central record, or None."""
    return session.exec(
        select(Coupling).where(Coupling.bc_table == table, Coupling.bc_id == record_id)
    ).first()


def get_by_dataverse(session: Session, *, table: str, record_id: str) -> Coupling | None:
    """Return the coupling of a Dataverse row, or None."""
    return session.exec(
        select(Coupling).where(Coupling.dataverse_table == table, Coupling.dataverse_id == record_id)
    ).first()


def get_by_bc_key(session: Session, *, mapping: str, key: str) -> Coupling | None:
    """Return the coupling whose Business Central record has this human key (number, code), or None."""
    return session.exec(select(Coupling).where(Coupling.mapping == mapping, Coupling.bc_key == key)).first()


def find_by_record_id(session: Session, *, record_id: str) -> list[Coupling]:
    """Return every coupling with this id on either side (a bare GUID lookup)."""
    wanted = sorted({record_id, record_id.lower()})
    return list(
        session.exec(
            select(Coupling).where(
                or_(col(Coupling.bc_id).in_(wanted), col(Coupling.dataverse_id).in_(wanted))
            )
        ).all()
    )


def by_bc_ids(session: Session, *, table: str, ids: Iterable[str]) -> dict[str, Coupling]:
    """Return the couplings of these Business Central records, by BC id."""
    found: dict[str, Coupling] = {}
    for chunk in _chunks(ids):
        query = select(Coupling).where(Coupling.bc_table == table, col(Coupling.bc_id).in_(chunk))
        found.update((c.bc_id, c) for c in session.exec(query).all())
    return found


def by_dataverse_ids(session: Session, *, table: str, ids: Iterable[str]) -> dict[str, Coupling]:
    """Return the couplings of these Dataverse rows, by Dataverse id."""
    found: dict[str, Coupling] = {}
    for chunk in _chunks(ids):
        query = select(Coupling).where(
            Coupling.dataverse_table == table, col(Coupling.dataverse_id).in_(chunk)
        )
        found.update((c.dataverse_id, c) for c in session.exec(query).all())
    return found


def by_bc_keys(session: Session, *, mapping: str, keys: Iterable[str]) -> dict[str, Coupling]:
    """Return the couplings of a mapping whose Business Central records have these human keys, by key."""
    found: dict[str, Coupling] = {}
    for chunk in _chunks(keys):
        query = select(Coupling).where(Coupling.mapping == mapping, col(Coupling.bc_key).in_(chunk))
        found.update((c.bc_key or "", c) for c in session.exec(query).all())
    return found


def coupled_ids(session: Session, *, mapping: str) -> tuple[set[str], set[str]]:
    """The Business Central ids and the Dataverse ids a mapping's couplings hold (no model objects)."""
    rows = session.exec(select(Coupling.bc_id, Coupling.dataverse_id).where(Coupling.mapping == mapping))
    bc_ids: set[str] = set()
    dataverse_ids: set[str] = set()
    for bc_id, dataverse_id in rows:
        bc_ids.add(bc_id)
        dataverse_ids.add(dataverse_id)
    return bc_ids, dataverse_ids


def for_mapping(session: Session, *, mapping: str) -> list[Coupling]:
    """Return every coupling of a mapping."""
    return list(
        session.exec(select(Coupling).where(Coupling.mapping == mapping).order_by(col(Coupling.id))).all()
    )


def of_table_or_mapping(session: Session, *, bc_table: str, mapping: str) -> list[Coupling]:
    """Return the couplings of a Business Central table or of a mapping, by id."""
    query = select(Coupling).where(or_(col(Coupling.bc_table) == bc_table, col(Coupling.mapping) == mapping))
    return list(session.exec(query.order_by(col(Coupling.id))).all())


def add_coupling(
    session: Session,
    *,
    mapping: str,
    bc_table: str,
    bc_id: str,
    dataverse_table: str,
    dataverse_id: str,
    bc_key: str | None = None,
    name: str | None = None,
    pending: bool = False,
) -> Coupling:
    """Add a coupling of two records known to be uncoupled (no look-up, flushed with the transaction)."""
    coupling = Coupling(
        mapping=mapping,
        bc_table=bc_table,
        bc_id=bc_id,
        dataverse_table=dataverse_table,
        dataverse_id=dataverse_id,
        bc_key=bc_key,
        name=(name or "")[:250] or None,
        pending=pending,
    )
    session.add(coupling)
    return coupling


def add_pending_couplings(session: Session, rows: Iterable[PendingCoupling]) -> list[Coupling]:
    """Insert the pending couplings of a page's creates in one statement; the couplings, in order.

    One multi-row INSERT … RETURNING instead of a model object and a flush per record: the rows are new
    (the records are known to be uncoupled), and the couplings come back loaded into the session.
    """
    now = utcnow()
    values = [
        {
            "mapping": row.mapping,
            "bc_table": row.bc_table,
            "bc_id": row.bc_id,
            "dataverse_table": row.dataverse_table,
            "dataverse_id": row.dataverse_id,
            "bc_key": row.bc_key,
            "name": (row.name or "")[:250] or None,
            "last_result_to_dataverse": SyncResult.NONE,
            "last_result_from_dataverse": SyncResult.NONE,
            "skipped": False,
            "failure_count": 0,
            "pending": True,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
    ]
    if not values:
        return []
    statement = insert(Coupling).returning(Coupling, sort_by_parameter_order=True)
    return list(session.scalars(statement, values).all())


def upsert_coupling(
    session: Session,
    *,
    mapping: str,
    bc_table: str,
    bc_id: str,
    dataverse_table: str,
    dataverse_id: str,
    bc_key: str | None = None,
    name: str | None = None,
) -> Coupling:
    """Couple two records; re-pointing the BC record's existing coupling resets its sync state and Skipped."""
    coupling = get_by_bc(session, table=bc_table, record_id=bc_id)
    if coupling is None:
        coupling = Coupling(
            mapping=mapping,
            bc_table=bc_table,
            bc_id=bc_id,
            dataverse_table=dataverse_table,
            dataverse_id=dataverse_id,
        )
    elif (coupling.dataverse_table, coupling.dataverse_id) != (dataverse_table, dataverse_id):
        coupling.dataverse_table = dataverse_table
        coupling.dataverse_id = dataverse_id
        reset_sync_state(coupling)
    coupling.mapping = mapping
    coupling.pending = False
    forget_uncoupled(session, system=System.BUSINESS_CENTRAL, table=bc_table, record_id=bc_id)
    forget_uncoupled(session, system=System.DATAVERSE, table=dataverse_table, record_id=dataverse_id)
    coupling.bc_key = bc_key if bc_key is not None else coupling.bc_key
    coupling.name = (name or coupling.name or "")[:250] or None
    coupling.updated_at = utcnow()
    session.add(coupling)
    session.flush()
    return coupling


def assign(coupling: Coupling, **values: object) -> None:
    """Set the columns whose value changes (setting a model attribute costs; most already hold the value)."""
    for name, value in values.items():
        if getattr(coupling, name) != value:
            setattr(coupling, name, value)


def reset_sync_state(coupling: Coupling) -> None:
    """Forget the last-sync times, results, failures and Skipped (as when a coupling is re-pointed)."""
    assign(
        coupling,
        last_synced_bc_modified_at=None,
        last_synced_dataverse_modified_at=None,
        bc_etag=None,
        dataverse_etag=None,
        last_result_to_dataverse=SyncResult.NONE,
        last_result_from_dataverse=SyncResult.NONE,
        skipped=False,
        failure_fingerprint=None,
        failure_count=0,
    )


def uncouple(session: Session, *, coupling: Coupling, by: str | None = None) -> None:
    """Remove a coupling; the records stay, and stop syncing.

    With `by` (a person or the mapping's Delete coupling resolution) both records are remembered as
    uncoupled, so no run syncs them or creates a new partner for them until someone couples them again.
    """
    if by is not None:
        for system, table, record_id in (
            (System.BUSINESS_CENTRAL, coupling.bc_table, coupling.bc_id),
            (System.DATAVERSE, coupling.dataverse_table, coupling.dataverse_id),
        ):
            if not is_uncoupled(session, system=system, table=table, record_id=record_id):
                session.add(
                    UncoupledRecord(
                        mapping=coupling.mapping,
                        system=system,
                        table_name=table,
                        record_id=record_id,
                        by=by[:100],
                    )
                )
    session.delete(coupling)
    session.flush()


def is_uncoupled(session: Session, *, system: System, table: str, record_id: str) -> bool:
    """True when a person uncoupled this record and nobody coupled it since."""
    query = select(UncoupledRecord.id).where(
        UncoupledRecord.system == system,
        UncoupledRecord.table_name == table,
        UncoupledRecord.record_id == record_id,
    )
    return session.exec(query).first() is not None


def uncoupled_ids(session: Session, *, system: System, table: str, ids: Iterable[str]) -> set[str]:
    """Which of these records were uncoupled by a person (and not coupled since)."""
    found: set[str] = set()
    for chunk in _chunks(ids):
        query = select(UncoupledRecord.record_id).where(
            UncoupledRecord.system == system,
            UncoupledRecord.table_name == table,
            col(UncoupledRecord.record_id).in_(chunk),
        )
        found.update(session.exec(query).all())
    return found


def forget_uncoupled(session: Session, *, system: System, table: str, record_id: str) -> None:
    """The record is coupled again: it syncs like any other."""
    query = select(UncoupledRecord).where(
        UncoupledRecord.system == system,
        UncoupledRecord.table_name == table,
        UncoupledRecord.record_id == record_id,
    )
    for row in session.exec(query).all():
        session.delete(row)


def pending_couplings(session: Session, *, mapping: str) -> list[Coupling]:
    """A mapping's couplings whose create was sent but never confirmed (answer lost, process killed)."""
    query = select(Coupling).where(Coupling.mapping == mapping, col(Coupling.pending).is_(True))
    return list(session.exec(query.order_by(col(Coupling.id))).all())


def list_skipped(
    session: Session, *, mapping: str | None = None, limit: int = 100, after_id: int | None = None
) -> list[Coupling]:
    """Return skipped couplings by id, `limit` at a time (Business Central loads 100 at a time)."""
    query = select(Coupling).where(col(Coupling.skipped).is_(True))
    if mapping is not None:
        query = query.where(Coupling.mapping == mapping)
    if after_id is not None:
        query = query.where(col(Coupling.id) > after_id)
    return list(session.exec(query.order_by(col(Coupling.id)).limit(limit)).all())


def failed_not_skipped(session: Session, *, mapping: str, direction: Direction) -> list[Coupling]:
    """Return a mapping's couplings whose last sync in a one-way direction failed and that are not skipped."""
    result = (
        Coupling.last_result_to_dataverse
        if direction is Direction.TO_DATAVERSE
        else Coupling.last_result_from_dataverse
    )
    query = select(Coupling).where(
        Coupling.mapping == mapping, col(result) == SyncResult.FAILURE, col(Coupling.skipped).is_(False)
    )
    return list(session.exec(query.order_by(col(Coupling.id))).all())


def clear_skipped(
    session: Session, *, mapping: str | None = None, coupling_ids: Iterable[int] | None = None
) -> int:
    """Clear Skipped (Retry / Retry All) on a mapping's or the given couplings; return how many changed."""
    query = select(Coupling).where(col(Coupling.skipped).is_(True))
    if mapping is not None:
        query = query.where(Coupling.mapping == mapping)
    if coupling_ids is not None:
        query = query.where(col(Coupling.id).in_(list(coupling_ids)))
    rows = session.exec(query).all()
    for coupling in rows:
        coupling.skipped = False
        coupling.failure_count = 0
        coupling.failure_fingerprint = None
        coupling.updated_at = utcnow()
        session.add(coupling)
    session.flush()
    return len(rows)


def note_version(coupling: Coupling, *, system: System, modified_at: datetime, etag: str | None) -> None:
    """Remember one side's record as synced: its modified-on and ETag (None when unknown or too long)."""
    kept = etag if etag and len(etag) <= ETAG_LENGTH else None
    if system is System.BUSINESS_CENTRAL:
        assign(coupling, last_synced_bc_modified_at=modified_at, bc_etag=kept)
    else:
        assign(coupling, last_synced_dataverse_modified_at=modified_at, dataverse_etag=kept)


def mark_synced(
    session: Session,
    *,
    coupling: Coupling,
    direction: Direction,
    job_id: str | None,
    bc_modified_at: datetime | None,
    dataverse_modified_at: datetime | None,
    bc_etag: str | None = None,
    dataverse_etag: str | None = None,
) -> Coupling:
    """Record a successful one-way sync with both sides' modified-on and ETag (a side without one is kept)."""
    if bc_modified_at is not None:
        note_version(coupling, system=System.BUSINESS_CENTRAL, modified_at=bc_modified_at, etag=bc_etag)
    if dataverse_modified_at is not None:
        note_version(
            coupling, system=System.DATAVERSE, modified_at=dataverse_modified_at, etag=dataverse_etag
        )
    if direction is Direction.TO_DATAVERSE:
        assign(coupling, last_result_to_dataverse=SyncResult.SUCCESS, last_job_to_dataverse=job_id)
    else:
        assign(coupling, last_result_from_dataverse=SyncResult.SUCCESS, last_job_from_dataverse=job_id)
    assign(coupling, failure_fingerprint=None, failure_count=0, skipped=False, pending=False)
    coupling.updated_at = utcnow()
    session.add(coupling)
    return coupling


def has_couplings(session: Session, *, mapping: str) -> bool:
    """True when a mapping has at least one coupling."""
    return session.exec(select(Coupling.id).where(Coupling.mapping == mapping).limit(1)).first() is not None


def coupling_id_rows(session: Session, *, mapping: str) -> list[tuple[int, str, str]]:
    """(coupling id, bc_id, dataverse_id) of every coupling of a mapping, oldest first (no whole rows)."""
    query = (
        select(Coupling.id, Coupling.bc_id, Coupling.dataverse_id)
        .where(Coupling.mapping == mapping)
        .order_by(col(Coupling.id))
    )
    return [(int(cid or 0), bc_id, dv_id) for cid, bc_id, dv_id in session.exec(query).all()]


def by_coupling_ids(session: Session, *, ids: Iterable[int]) -> list[Coupling]:
    """The couplings with these row ids that still exist."""
    wanted = sorted(set(ids))
    found: list[Coupling] = []
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        found.extend(session.exec(select(Coupling).where(col(Coupling.id).in_(chunk))).all())
    return found
