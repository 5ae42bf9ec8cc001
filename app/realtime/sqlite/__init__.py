"""The SQLite implementations, for what outlives a process in the embedded default."""
