"""Name and link the records an error refers to: a lookup's code for its GUID, read once from the app."""

from __future__ import annotations

from bot.connectors.errors import ConnectorError
from bot.connectors.models import BusinessApp
from bot.sync.mappings import spec_for_table
from storage.models import System


class AppReferences:
    """Reads referenced records through the connectors (cached per instance, i.e. per pass or action)."""

    def __init__(self, *, bc: BusinessApp, dataverse: BusinessApp) -> None:
        self.stores = {System.BUSINESS_CENTRAL.value: bc, System.DATAVERSE.value: dataverse}
        self._keys: dict[tuple[str, str, str], str | None] = {}

    def key_of(self, system: str, table: str, record_id: str) -> str | None:
        """The record's code or number (the mapping's key field), None when it cannot be read."""
        spec = spec_for_table(System(system), table)
        store = self.stores.get(system)
        if spec is None or store is None:
            return None
        side = spec.side(System(system))
        cache_key = (system, side.entity_set, record_id.lower())
        if cache_key not in self._keys:
            try:
                record = store.get(side.entity_set, record_id)
            except ConnectorError:
                self._keys[cache_key] = None
            else:
                self._keys[cache_key] = side.key_of(record.fields) or side.name_of(record.fields)
        return self._keys[cache_key]

    def url_of(self, system: str, table: str, record_id: str | None, key: str | None) -> str | None:
        """A link to the record: Dataverse by GUID, Business Central by its code."""
        spec = spec_for_table(System(system), table)
        store = self.stores.get(system)
        if store is None:
            return None
        entity_set = spec.side(System(system)).entity_set if spec else table
        return store.record_url(entity_set, record_id=record_id, key=key)
