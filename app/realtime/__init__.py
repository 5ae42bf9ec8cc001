"""The imperative shell: stores, fan-out, deadline timers and live sockets.

Nothing here decides a rule; it loads state, calls the core, persists, publishes and
schedules. Two small interfaces, ``SessionStore`` and ``Broker``, hide whether the
process runs alone (memory) or beside others (Redis).
"""
