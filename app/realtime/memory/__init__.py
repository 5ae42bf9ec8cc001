"""The embedded default's implementations: everything in this process's memory."""
