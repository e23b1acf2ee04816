"""Names Slack sends back to us: action_ids, modal callback_ids, block_ids, the command name.

The values of `ActionId` are part of CONTRACT.md: messages posted weeks ago still carry these buttons,
so a value, once shipped, never changes; add new members instead.
"""

from __future__ import annotations

from enum import StrEnum

COMMAND = "/sync-errors"


class ActionId(StrEnum):
    """action_id of every interactive element the bot posts."""

    # CONTRACT.md: button value is the error id unless noted.
    RESYNC = "resync"
    COUPLE = "couple"
    UNCOUPLE = "uncouple"
    RESTORE_RECORD = "restore_record"
    DELETE_RECORD = "delete_record"
    DELETE_ERROR = "delete_error"
    SNOOZE = "snooze"
    SHOW_DETAILS = "show_details"
    PURGE_OLDER_THAN = "purge_older_than"  # value: days
    PURGE_ALL = "purge_all"  # value: "all"
    # Extras (same rule: never renamed once shipped).
    KEEP_BC = "keep_bc"  # update conflict: Business Central's values win
    KEEP_DATAVERSE = "keep_dataverse"  # update conflict: Sales' values win
    COUPLE_DEPENDENCY = "couple_dependency"
    COUPLE_CREATE = "couple_create"  # several matches, none the right one: create a new partner (Create New)
    COUPLE_CANDIDATE = "couple_candidate"  # several matches: couple to this one (value: "<error id>:<index>")
    LIST_MORE = "list_more"  # value: a list cursor (see bot.blocks.listing)
    OPEN_RECORD = "open_record"  # link button; Slack still sends an action, which is only acked
    HOME_REFRESH = "home_refresh"
    SNOOZE_DURATION = "snooze_duration"  # select inside the snooze modal
    COUPLE_REFERENCE = "couple_reference"  # text input inside the couple modal
    COUPLE_SYNC = "couple_sync"  # select inside the couple modal


class ActionKey(StrEnum):
    """What a person can do: its catalogue entry's key (bot.operations.kinds), work kind and audit action.

    The values are stored in the work queue and the audit log, so they never change; add new members instead.
    """

    RESYNC = "resync"
    RESYNC_FAILED = "resync_failed"
    COUPLE = "couple"
    COUPLE_MATCH = "couple_match"
    COUPLE_CREATE = "couple_create"
    COUPLE_DEPENDENCY = "couple_dependency"
    UNCOUPLE = "uncouple"
    RESTORE_RECORD = "restore_record"
    DELETE_RECORD = "delete_record"
    KEEP_BC = "keep_bc"
    KEEP_DATAVERSE = "keep_dataverse"
    SYNC = "sync"  # named mappings, or everything
    RUN = "run"  # one scheduled mapping now
    SNOOZE = "snooze"
    DELETE_ERROR = "delete_error"
    PURGE_OLDER_THAN = "purge_older_than"
    PURGE_ALL = "purge_all"
    SCHEDULE = "schedule"
    PAUSE = "pause"
    RESUME = "resume"
    MAPPING_SET = "mapping_set"  # one setting of one mapping


class CallbackId(StrEnum):
    """callback_id of the modals; private_metadata carries the error id or the purge scope."""

    COUPLE = "couple_modal"
    SNOOZE = "snooze_modal"
    PURGE_CONFIRM = "purge_confirm_modal"


class BlockId(StrEnum):
    """block_id of input blocks whose values a view submission reads."""

    SNOOZE_DURATION = "snooze_duration_block"
    COUPLE_REFERENCE = "couple_reference_block"
    COUPLE_SYNC = "couple_sync_block"
    ACTIONS = "actions"


class SnoozeOption(StrEnum):
    """The snooze durations offered in the modal (values are `parse_duration` words)."""

    ONE_HOUR = "1h"
    FOUR_HOURS = "4h"
    ONE_DAY = "24h"
    ONE_WEEK = "7d"
