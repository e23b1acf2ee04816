"""sync-errors: runs the Business Central <-> Dataverse synchronization and brings its errors to Slack."""

__version__ = "0.1.0"
