"""The pure core: models, formats, the transition function and the views.

Nothing in this package performs I/O, reads a clock or draws randomness: time comes
in as ``now`` and fresh ids come in as ``Fresh``, so every rule can be tested exactly.
"""

# These modules add their commands' handlers to the engine's tables on import.
from . import carry, consent, lobby, undo  # noqa: E402,F401
