"""How many refused sign-ins an account name, and an address, may have before the server
refuses to try their sign-ins for a while. The numbers are in `RULES` alone (docs/central.md
repeats them for administrators).

Failures are counted per name typed, whether or not such an account exists, so the answers
never tell the two apart. The state is in the database (`signin_failures`, `signin_blocks`),
so several server processes count together. Runs on the calling thread, inside the caller's
transaction.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from central.db import Conn
from central.sessions import stamp

_KEY_CHARS = 200


@dataclass(frozen=True)
class Rule:
    scope: str                # "account" (the name typed) or "address" (the client's)
    failures: int             # this many refused sign-ins...
    within: dt.timedelta      # ...within this long...
    refuse_for: dt.timedelta  # ...and its sign-ins are refused for this long


# Ten wrong passwords for one name within 15 minutes lock that account for 15 minutes (about
# 1,000 guesses a day at most). One address may get 30 wrong within 15 minutes, over any names,
# before it is refused for 15 minutes.
ACCOUNT = Rule("account", 10, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
ADDRESS = Rule("address", 30, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
RULES = (ACCOUNT, ADDRESS)


@dataclass(frozen=True)
class Blocked:
    rule: Rule
    until: dt.datetime

    def minutes_left(self, now: dt.datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds() / 60))

    def seconds_left(self, now: dt.datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds()))


def _keys(name: str, address: str) -> tuple[tuple[Rule, str], ...]:
    return ((ACCOUNT, name[:_KEY_CHARS]), (ADDRESS, address[:_KEY_CHARS]))


def blocked(conn: Conn, name: str, address: str, now: dt.datetime) -> Blocked | None:
    """Whether sign-ins for this name or from this address are refused now (the later end)."""
    found = []
    for rule, key in _keys(name, address):
        row = conn.one("SELECT until_utc FROM signin_blocks WHERE scope = ? AND name = ? "
                       "AND until_utc > ?", (rule.scope, key, stamp(now)))
        if row is not None:
            found.append(Blocked(rule, dt.datetime.fromisoformat(row[0])))
    return max(found, key=lambda b: b.until, default=None)


def failed(conn: Conn, name: str, address: str, now: dt.datetime) -> list[Rule]:
    """Counts a refused sign-in; returns the rules it tripped (their blocks begin now)."""
    tripped = []
    conn.execute("DELETE FROM signin_blocks WHERE until_utc < ?", (stamp(now),))
    for rule, key in _keys(name, address):
        conn.execute("DELETE FROM signin_failures WHERE scope = ? AND at_utc < ?",
                     (rule.scope, stamp(now - rule.within)))
        conn.execute("INSERT INTO signin_failures (scope, name, at_utc) VALUES (?, ?, ?)",
                     (rule.scope, key, stamp(now)))
        count = conn.value("SELECT COUNT(*) FROM signin_failures WHERE scope = ? AND name = ?",
                           (rule.scope, key))
        if count >= rule.failures:
            # The block replaces the failures that made it: after it, the count starts again.
            conn.execute("DELETE FROM signin_failures WHERE scope = ? AND name = ?",
                         (rule.scope, key))
            conn.execute("INSERT INTO signin_blocks (scope, name, until_utc) VALUES (?, ?, ?) "
                         "ON CONFLICT (scope, name) DO UPDATE SET until_utc = excluded.until_utc",
                         (rule.scope, key, stamp(now + rule.refuse_for)))
            tripped.append(rule)
    return tripped


def succeeded(conn: Conn, name: str) -> None:
    """A right password: the account's count starts again (the address's does not, or one
    account of the guesser's own would clear it)."""
    conn.execute("DELETE FROM signin_failures WHERE scope = ? AND name = ?",
                 (ACCOUNT.scope, name[:_KEY_CHARS]))
