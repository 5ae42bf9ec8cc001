"""The live sockets: the handshake and receive loop they share, and their two dialects (JSON and htmx)."""
