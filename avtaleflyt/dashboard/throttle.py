"""Login throttling, per client address and per account: a few free tries, then an
exponentially growing wait between tries, then a temporary lockout.

An attempt counts as a failure from the moment it starts (a success clears it), so
fifty attempts sent at once are judged one after the other: only the free ones reach
argon2. The state is in this process's memory: the dashboard runs as one process, and
a restart forgets it (the account event log keeps what happened).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    free: int  # failures before any wait
    base_seconds: float  # the first wait; it doubles with each failure after that
    lock_after: int  # failures that lock the key out
    lockout_seconds: float  # how long a lockout lasts; also how long a quiet key remembers its failures


ACCOUNT = Limits(free=5, base_seconds=1.0, lock_after=10, lockout_seconds=15 * 60)
# One office behind one address: more room before the address itself waits.
ADDRESS = Limits(free=20, base_seconds=1.0, lock_after=50, lockout_seconds=15 * 60)
MAX_KEYS = 50_000


@dataclass
class _State:
    failures: int = 0
    not_before: float = 0.0
    last: float = 0.0


@dataclass(frozen=True)
class Decision:
    """`wait` > 0: refused, try again in so many seconds. `events`: (action, key) newly entered: throttled or locked."""

    wait: float
    events: tuple[tuple[str, str], ...] = ()


class LoginThrottle:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[_State, Limits]] = {}

    def begin(self, address: str, username: str) -> Decision:
        """Judge one login attempt; if it may go ahead it is counted as failed until `succeeded`."""
        keys = ((f"address:{address}", ADDRESS), (f"account:{username[:64]}", ACCOUNT))
        now = self._clock()
        with self._lock:
            states = [(key, self._state(key, limits, now), limits) for key, limits in keys]
            wait = max(state.not_before - now for _, state, _ in states)
            if wait > 0:
                return Decision(wait)
            events = []
            for key, state, limits in states:
                state.failures += 1
                state.last = now
                state.not_before = now + self._wait(state.failures, limits)
                if state.failures == limits.lock_after:
                    events.append(("login.locked", key))
                elif state.failures == limits.free:
                    events.append(("login.throttled", key))
            return Decision(0.0, tuple(events))

    def failed(self, address: str, username: str) -> None:
        """The attempt failed: a wait it started runs from now (a slow check does not use it up)."""
        now = self._clock()
        with self._lock:
            for key in (f"address:{address}", f"account:{username[:64]}"):
                entry = self._keys.get(key)
                if entry is not None and entry[0].failures >= entry[1].free:
                    state, limits = entry
                    state.not_before = max(state.not_before, now + self._wait(state.failures, limits))

    @staticmethod
    def _wait(failures: int, limits: Limits) -> float:
        if failures >= limits.lock_after:
            return limits.lockout_seconds
        return limits.base_seconds * 2 ** (failures - limits.free) if failures >= limits.free else 0.0

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._keys.pop(f"account:{username[:64]}", None)
            self._keys.pop(f"address:{address}", None)

    def _state(self, key: str, limits: Limits, now: float) -> _State:
        entry = self._keys.get(key)
        if entry is None or (now - entry[0].last > limits.lockout_seconds and now >= entry[0].not_before):
            if len(self._keys) >= MAX_KEYS:
                self._forget_quiet(now)
            entry = self._keys[key] = (_State(), limits)
        return entry[0]

    def _forget_quiet(self, now: float) -> None:
        quiet = [k for k, (s, limits) in self._keys.items() if now >= s.not_before]
        for k in quiet or list(self._keys)[: len(self._keys) // 2]:
            del self._keys[k]
