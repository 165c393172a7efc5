"""The transaction journal: one append-only SQLite file, written before the patron sees a result."""

from kiosk.journal.store import IntentNotOpen, Journal, JournalStats, Row

__all__ = ["IntentNotOpen", "Journal", "JournalStats", "Row"]
