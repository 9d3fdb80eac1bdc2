"""What stands in front of a console password check: backoff, lockout, bounded hashing.

A console sign-in guesses a secret and costs an scrypt hash (16 MiB, about 30 ms of a core)
in the process that also answers the banks. So:

- `LoginPolicy`: after the k-th consecutive failure the next attempt waits
  ``min(backoff · 2^(k-1), backoff_max)`` seconds; at ``lockout`` consecutive failures an
  account is locked until an admin unlocks it. An attempt counts as a failure from the moment
  it is admitted until it succeeds, so guesses sent in parallel gain nothing.
- `Failures`: counters per client address (an address quiet for ``backoff_max`` starts
  afresh) and per *unknown* user name (which backs off and locks exactly like a real one, so
  a lockout does not reveal that a name exists): in memory with one gateway process (a
  restart forgets them), in the control plane's ``login_failures`` when several processes
  share a PostgreSQL control plane (``sessions``), so N processes do not give an address N
  times the guesses nor an unknown name N times the lockout. A real account's counter is
  kept in the accounts file (`ConsoleAccounts.attempt`): a restart does not reset it.
- `HashingSlots`: at most ``workers`` checks at once, each on a thread of its own (the event
  loop stays free), and at most ``waiting`` more queued; beyond that `LoginBusy` at once.
- `LoginGuard.sign_in` puts them together and reports an account's lockout and unlock as
  `AccountEvent` values for the caller to audit before it answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from governance.config import GatewaySettings
from governance.models import LoginFailure
from governance.upsert import insert_for

if TYPE_CHECKING:
    from governance.accounts import Account, ConsoleAccounts

__all__ = [
    "AccountEvent",
    "AccountLocked",
    "AccountLockedOut",
    "Failures",
    "HashingSlots",
    "LoginBusy",
    "LoginFailed",
    "LoginGuard",
    "LoginPolicy",
    "LoginThrottled",
    "UnlockPending",
]

T = TypeVar("T")
PURGE_EVERY = 60.0  # seconds between two deletions of quiet addresses' rows (shared)


class LoginFailed(Exception):
    """Wrong user name, password or code (one message for all: nothing is revealed)."""


class LoginThrottled(LoginFailed):
    """Refused unchecked: the wait after the last failure (of the account or the address)
    has not passed; ``retry_after`` seconds remain."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class AccountLocked(LoginFailed):
    """Refused unchecked: the account is locked until an admin unlocks it."""


class AccountLockedOut(LoginFailed):
    """A wrong password or code, and this failure locked ``account``."""

    def __init__(self, account: Account) -> None:
        super().__init__()
        self.account = account


class UnlockPending(Exception):
    """An admin asked to unlock ``account`` (``dexin admin unlock-officer``); the unlock takes
    effect once it is audited (`ConsoleAccounts.apply_unlock`)."""

    def __init__(self, account: Account) -> None:
        super().__init__()
        self.account = account


class LoginBusy(Exception):
    """Refused unchecked: as many sign-ins are being checked or waiting as the bound allows."""


@dataclass(frozen=True)
class LoginPolicy:
    lockout: int = 10
    backoff: float = 1.0
    backoff_max: float = 900.0

    @classmethod
    def of(cls, settings: GatewaySettings) -> LoginPolicy:
        return cls(settings.login_lockout, settings.login_backoff, settings.login_backoff_max)

    def delay(self, failures: int) -> float:
        """Seconds the next attempt waits after the ``failures``-th consecutive failure."""
        if failures <= 0:
            return 0.0
        return min(self.backoff * 2.0 ** min(failures - 1, 40), self.backoff_max)

    def admit(self, failures: int, last: float, now: float, *, locks: bool = True) -> None:
        """Raise `AccountLocked` (if ``locks``) or `LoginThrottled` unless an attempt may be
        checked now, ``failures`` failures after the last one at ``last``."""
        if locks and failures >= self.lockout:
            raise AccountLocked()
        wait = min(last, now) + self.delay(failures) - now  # a clock set back waits no longer
        if wait > 0:
            raise LoginThrottled(max(1, math.ceil(wait)))


class Failures:
    """Consecutive failures by key, in memory (thread-safe, at most ``capacity`` keys: the
    least recently failed are forgotten first), or in ``login_failures`` when ``sessions``
    are given (one row per key, locked while an attempt is admitted; rows of addresses
    quiet for ``backoff_max`` deleted now and then). ``now``: any clock in memory, epoch
    seconds when shared (`clock`)."""

    def __init__(self, policy: LoginPolicy, *, locks: bool, capacity: int = 10_000,
                 sessions: sessionmaker[Session] | None = None) -> None:  # fmt: skip
        self.policy = policy
        self.locks = locks
        self.capacity = capacity
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._sessions = sessions
        self._kind = "name" if locks else "address"
        self._purged = 0.0

    def clock(self) -> float:
        """The ``now`` to pass: the wall clock when shared (every process's), else monotonic."""
        return time.time() if self._sessions is not None else time.monotonic()

    def admit(self, key: str, now: float) -> int:
        """Count an attempt as a failure now, or raise as `LoginPolicy.admit` does; returns
        the count including this attempt."""
        if self._sessions is not None:
            return self._admit_shared(self._sessions, key, now)
        with self._lock:
            failures, last = self._counts.get(key, (0, now))
            failures = self._afresh(failures, last, now)
            self.policy.admit(failures, last, now, locks=self.locks)
            self._counts[key] = (failures + 1, now)
            self._counts.move_to_end(key)
            if len(self._counts) > self.capacity:
                self._counts.popitem(last=False)
            return failures + 1

    def _afresh(self, failures: int, last: float, now: float) -> int:
        if not self.locks and now - last > self.policy.backoff_max:
            return 0  # an address quiet for the longest wait starts afresh
        return failures

    def _admit_shared(self, sessions: sessionmaker[Session], key: str, now: float) -> int:
        """The row is created if absent, then locked (``FOR UPDATE``) while the attempt is
        judged and counted: concurrent attempts in several processes count one by one. A
        refusal rolls back (nothing counted, as in memory)."""
        digest = self._digest(key)
        self._purge(sessions, now)
        with sessions.begin() as s:
            s.execute(insert_for(s, LoginFailure)
                      .values(key=digest, kind=self._kind, failures=0, last=now)
                      .on_conflict_do_nothing(index_elements=[LoginFailure.key]))  # fmt: skip
            row = s.execute(
                select(LoginFailure).where(LoginFailure.key == digest).with_for_update()
            ).scalar_one()
            failures = self._afresh(row.failures, row.last, now)
            self.policy.admit(failures, row.last, now, locks=self.locks)
            row.failures, row.last = failures + 1, now
            return failures + 1

    def _purge(self, sessions: sessionmaker[Session], now: float) -> None:
        if self.locks or time.monotonic() - self._purged < PURGE_EVERY:
            return  # an unknown name's lockout is kept, like a real account's
        self._purged = time.monotonic()
        with sessions.begin() as s:
            s.execute(delete(LoginFailure).where(
                LoginFailure.kind == self._kind,
                LoginFailure.last < now - self.policy.backoff_max))  # fmt: skip

    def _digest(self, key: str) -> str:
        return hashlib.sha256(f"{self._kind}:{key}".encode()).hexdigest()

    def forgive(self, key: str) -> None:
        """Take back an admitted attempt that was never checked."""
        if self._sessions is not None:
            digest = self._digest(key)
            with self._sessions.begin() as s:
                s.execute(update(LoginFailure)
                          .where(LoginFailure.key == digest, LoginFailure.failures > 1)
                          .values(failures=LoginFailure.failures - 1))  # fmt: skip
                s.execute(delete(LoginFailure).where(LoginFailure.key == digest,
                                                     LoginFailure.failures <= 1))  # fmt: skip
            return
        with self._lock:
            failures, last = self._counts.get(key, (0, 0.0))
            if failures > 1:
                self._counts[key] = (failures - 1, last)
            else:
                self._counts.pop(key, None)

    def clear(self, key: str) -> None:
        if self._sessions is not None:
            with self._sessions.begin() as s:
                s.execute(delete(LoginFailure).where(LoginFailure.key == self._digest(key)))
            return
        with self._lock:
            self._counts.pop(key, None)


class HashingSlots:
    """Run a password check on one of ``workers`` threads of its own, with at most
    ``waiting`` more checks queued; `LoginBusy` beyond. The bound holds until a check has
    finished, even if its caller stopped waiting (a flood of abandoned requests cannot pile
    up work), and it works from any event loop."""

    def __init__(self, workers: int, waiting: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dexin-login")
        self._bound = workers + waiting
        self._admitted = 0
        self._lock = threading.Lock()

    async def run(self, check: Callable[..., T], *args: object) -> T:
        with self._lock:
            if self._admitted >= self._bound:
                raise LoginBusy()
            self._admitted += 1
        try:
            future = self._pool.submit(check, *args)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(lambda _: self._release())
        return await asyncio.wrap_future(future)

    def _release(self) -> None:
        with self._lock:
            self._admitted -= 1


@dataclass(frozen=True)
class AccountEvent:
    """A change of an account's state the audit log records (the actor is the account)."""

    account: Account
    action: Literal["console_account_locked", "console_account_unlocked"]
    decision: Literal["allow", "deny"]
    reason: str


Record = Callable[[AccountEvent], Awaitable[None]]


class LoginGuard:
    """Console sign-in: the address's backoff, then the account's backoff and lockout and the
    password and TOTP check in a bounded worker (`ConsoleAccounts.attempt`)."""

    def __init__(self, accounts: ConsoleAccounts, slots: HashingSlots,
                 sessions: sessionmaker[Session] | None = None) -> None:  # fmt: skip
        self.accounts = accounts
        self.slots = slots
        self.addresses = Failures(accounts.policy, locks=False, sessions=sessions)

    @classmethod
    def of(cls, accounts: ConsoleAccounts, settings: GatewaySettings,
           sessions: sessionmaker[Session] | None = None) -> LoginGuard:  # fmt: skip
        """``sessions``: the control plane, when several processes share it (`Failures`)."""
        return cls(accounts, HashingSlots(settings.login_hashers, settings.login_queue),
                   sessions)  # fmt: skip

    async def sign_in(
        self, username: str, password: str, code: str, address: str, record: Record
    ) -> Account:
        """The account, or raises: `LoginThrottled`, `AccountLocked`, `AccountLockedOut`
        (after ``record`` was awaited with the lockout), `LoginFailed`, `LoginBusy`, or what
        ``record`` raises (an unlock is applied only after ``record`` returned)."""
        self.addresses.admit(address, self.addresses.clock())
        try:
            account = await self._check(username, password, code, record)
        except LoginBusy:
            self.addresses.forgive(address)
            raise
        self.addresses.clear(address)
        return account

    async def _check(self, username: str, password: str, code: str, record: Record) -> Account:
        try:
            return await self.slots.run(self.accounts.attempt, username, password, code)
        except UnlockPending as pending:
            await record(AccountEvent(pending.account, "console_account_unlocked", "allow",
                                      "admin_unlock"))  # fmt: skip
            await asyncio.to_thread(self.accounts.apply_unlock, username)
            return await self._check(username, password, code, record)
        except AccountLockedOut as locked:
            await record(AccountEvent(locked.account, "console_account_locked", "deny",
                                      "too_many_failures"))  # fmt: skip
            raise
