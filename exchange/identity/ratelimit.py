"""Rate limiting and lockout of authentication attempts (per process, in memory)."""

from __future__ import annotations

import threading
import time
from collections import deque


class AttemptLimiter:
    """Counts failed attempts: an account is locked after `max_failures` within the lockout period, and an
    address that fails more than `ip_per_minute` times a minute is turned away until the minute has passed."""

    def __init__(self, *, max_failures: int, lockout_s: float, ip_per_minute: int) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.ip_per_minute = ip_per_minute
        self._lock = threading.Lock()
        self._accounts: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._ips: dict[str, deque[float]] = {}

    def retry_after(self, *, ip: str | None, account: str | None) -> float:
        """Seconds to wait before this address or account may try again (0: go ahead)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            if account is not None:
                wait = max(wait, self._locked_until.get(account, 0.0) - now)
            if ip is not None:
                window = self._window(self._ips, ip, now, 60.0)
                if len(window) >= self.ip_per_minute:
                    wait = max(wait, window[0] + 60.0 - now)
        return max(wait, 0.0)

    def failed(self, *, ip: str | None, account: str | None) -> bool:
        """Count a failure; True when it locked the account."""
        now = time.monotonic()
        locked = False
        with self._lock:
            if ip is not None:
                self._window(self._ips, ip, now, 60.0).append(now)
            if account is not None:
                window = self._window(self._accounts, account, now, self.lockout_s)
                window.append(now)
                if len(window) >= self.max_failures and self._locked_until.get(account, 0.0) <= now:
                    self._locked_until[account] = now + self.lockout_s
                    window.clear()
                    locked = True
            if len(self._ips) > 100_000 or len(self._accounts) > 100_000:
                self._ips.clear()
                self._accounts.clear()
        return locked

    def succeeded(self, *, account: str | None) -> None:
        """Forget the failures of an account that just authenticated."""
        if account is None:
            return
        with self._lock:
            self._accounts.pop(account, None)

    def unlock(self, account: str) -> None:
        """Lift a lockout (an administrator's decision)."""
        with self._lock:
            self._locked_until.pop(account, None)
            self._accounts.pop(account, None)

    def reset(self) -> None:
        """Forget every failure and lockout."""
        with self._lock:
            self._accounts.clear()
            self._locked_until.clear()
            self._ips.clear()

    @staticmethod
    def _window(store: dict[str, deque[float]], key: str, now: float, span: float) -> deque[float]:
        window = store.setdefault(key, deque())
        while window and window[0] <= now - span:
            window.popleft()
        return window
