"""The web login throttle's numbers: read by the login check (rag/frontends/web/login.py) and by the counts every
replica shares in PostgreSQL (rag/index/pg/throttle.py)."""

MAX_FAILURES = 5  # wrong passwords in a row for one name from one address before that pair is locked
ADDRESS_MAX_FAILURES = 20  # wrong passwords in a row from one address, any names, before the address is locked
BASE_LOCK_SECONDS = 1.0  # the first lock; each further failure doubles it
MAX_LOCK_SECONDS = 300.0
FLOOD_FAILURES = 500  # counted failures over all addresses within FLOOD_WINDOW pause every login for FLOOD_LOCK
FLOOD_WINDOW = 60.0
FLOOD_LOCK = 30.0
