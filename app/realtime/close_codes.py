"""Every close code a live socket may end with, in one place (docs/live-socket.md lists them).

The 44xx codes mirror HTTP statuses so a client can treat them alike. htmx's socket
extension reconnects by itself only after 1006, 1012 and 1013, so those are used for
"come back", and the 44xx codes for "don't".
"""

POLICY = 1008  # kept flooding after a rate_limited error frame
RESTARTING = 1012  # the server is restarting: reconnect, the state is kept
TRY_AGAIN = 1013  # fell too far behind, or the server is at capacity: reconnect shortly
BAD_TOKEN = 4401  # not a token of this session, or the participant was removed
FORBIDDEN_ORIGIN = 4403  # a page of another site opened the socket
GONE = 4404  # no session with that code, or it was erased: exactly as if it had never existed

# Why the server closes sockets it holds, as (close code, reason). The hub closes a removed
# participant's and an ended seat's sockets at the state that ends them; an erased session's
# and a restarting server's close every socket of theirs.
REMOVED_FROM_SESSION = (BAD_TOKEN, "removed from the session")
NO_LONGER_FACILITATING = (BAD_TOKEN, "no longer facilitating this session")  # revoked, handed back, or its grant ended
ERASED = (GONE, "the session was erased")
SERVER_RESTARTING = (RESTARTING, "server restarting")

# A refusal's reason the pages' scripts act on (errors.py): the participant's token stopped
# working because the facilitator removed them, not because the link is wrong.
REMOVED = "removed"
# The door's reasons (facilitation/knocks.py): joining a locked, full or closed session, and
# knocking at a door that is open (join instead).
SESSION_LOCKED, SESSION_FULL, SESSION_CLOSED, ROOM_OPEN = "session_locked", "session_full", "session_closed", "room_open"

# What the pages' scripts need of the above, given to them once (base.html, #script-codes):
# a script compares with these, never with a number or an English word of its own.
FOR_SCRIPTS = {"close": {"bad_token": BAD_TOKEN, "gone": GONE, "forbidden_origin": FORBIDDEN_ORIGIN,
                         "policy": POLICY, "restarting": RESTARTING, "try_again": TRY_AGAIN},
               "reasons": {"removed": REMOVED, "session_locked": SESSION_LOCKED, "session_full": SESSION_FULL,
                           "session_closed": SESSION_CLOSED, "room_open": ROOM_OPEN}}
