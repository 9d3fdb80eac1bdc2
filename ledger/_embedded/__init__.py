"""The embedded backend: an in-process py-evm chain whose state lives in SQLite."""
