"""The bot's store: SQLModel tables, query functions, engine and migrations."""
