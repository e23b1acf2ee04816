"""The scheduled jobs: thin functions the scheduler calls (syncs, cleanup, summary, health, snoozes)."""
