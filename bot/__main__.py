"""`python -m bot` runs the `sync-errors` command line."""

from bot.cli import main

main()
