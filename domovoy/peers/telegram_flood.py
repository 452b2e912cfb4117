"""Telegram-like flood control for the Bot API emulator.

Telegram publishes only rules of thumb ("about 1 message per second in a chat, 20 messages per
minute in a group, about 30 messages per second overall") and answers excess with
429 + ``retry_after``. The emulator enforces exactly those rules of thumb so the bot's sender is
built to stay under them; the numbers are fields so tests can shrink the windows instead of
sleeping for a minute.

A group's pace (one message a second, beside its 20 a minute) is kept here too, not only in
the tests' emulator: the demo's bot met it nowhere, and a bot that relied on bursts to a group
would have met 429s only from the real server.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class FloodLimits:
    """Per-bot limits; change them on a running emulator, they apply to the next send."""

    private_burst: int = 3
    """Messages a private chat may receive back to back before the 1/s rate applies."""
    private_per_second: float = 1.0
    """Sustained messages per second to one private chat."""
    group_max: int = 20
    """Messages per ``group_window`` seconds to one group or supergroup."""
    group_window: float = 60.0
    group_interval: float | None = None
    """Least seconds between two messages to one group. Telegram asks for about one message a
    second in any chat, groups included; it "may allow short bursts", never saying how short,
    so none are allowed. None: 1/60 of ``group_window`` (Telegram's 1 s of its 60 s), so a
    shrunk window shrinks the pace with it; 0 turns the pace off."""
    global_max: int = 30
    """Messages per ``global_window`` seconds across all chats of one bot."""
    global_window: float = 1.0

    def group_pace(self) -> float:
        """The least time between two messages to one group, in seconds."""
        return self.group_window / 60 if self.group_interval is None else self.group_interval


@dataclass
class FloodHit:
    """One 429 answered by flood control (not by an injected failure)."""

    method: str
    chat_id: int
    retry_after: int
    scope: str  # "private", "group" or "global"
    at: float


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class FloodController:
    """Sliding windows for groups and overall, a token bucket for private chats, and a
    group's pace (:attr:`FloodLimits.group_interval`)."""

    limits: FloodLimits = field(default_factory=FloodLimits)
    _private: dict[int, _Bucket] = field(default_factory=dict)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _group_last: dict[int, float] = field(default_factory=dict)
    _global: deque[float] = field(default_factory=deque)

    def check(self, chat_id: int, is_private: bool, now: float, count: int = 1) -> tuple[str, int]:
        """Return ("", 0) when ``count`` messages may be sent now, else (scope, retry_after)."""
        lim = self.limits
        window = self._trim(self._global, now, lim.global_window)
        if len(window) + count > lim.global_max:
            wait = self._window_wait(window, now, lim.global_window, lim.global_max, count)
            return "global", wait
        if is_private:
            bucket = self._refill(chat_id, now)
            if bucket.tokens + 1e-9 < count:
                missing = count - bucket.tokens
                return "private", max(1, math.ceil(missing / lim.private_per_second))
        else:
            group = self._trim(self._groups.setdefault(chat_id, deque()), now, lim.group_window)
            if len(group) + count > lim.group_max:
                wait = self._window_wait(group, now, lim.group_window, lim.group_max, count)
                return "group", wait
            last, pace = self._group_last.get(chat_id), lim.group_pace()
            # A hair of slack for the float arithmetic of two clocks reading the same one.
            if last is not None and pace > 0 and now - last < pace - 1e-4:
                return "group", max(1, math.ceil(last + pace - now))
        return "", 0

    def record(self, chat_id: int, is_private: bool, now: float, count: int = 1) -> None:
        """Account for ``count`` performed sends (call only after :meth:`check` allowed them)."""
        for _ in range(count):
            self._global.append(now)
        if is_private:
            self._refill(chat_id, now).tokens -= count
        else:
            group = self._groups.setdefault(chat_id, deque())
            for _ in range(count):
                group.append(now)
            self._group_last[chat_id] = now

    def _refill(self, chat_id: int, now: float) -> _Bucket:
        lim = self.limits
        bucket = self._private.get(chat_id)
        if bucket is None:
            bucket = self._private[chat_id] = _Bucket(float(lim.private_burst), now)
        elapsed = max(0.0, now - bucket.updated)
        refilled = bucket.tokens + elapsed * lim.private_per_second
        bucket.tokens = min(float(lim.private_burst), refilled)
        bucket.updated = now
        return bucket

    @staticmethod
    def _trim(window: deque[float], now: float, span: float) -> deque[float]:
        while window and window[0] <= now - span:
            window.popleft()
        return window

    @staticmethod
    def _window_wait(window: deque[float], now: float, span: float, cap: int, count: int) -> int:
        # The request fits once enough of the oldest sends have left the window.
        must_leave = len(window) + count - cap
        if must_leave > len(window) or must_leave <= 0:
            return max(1, math.ceil(span))
        frees_at = window[must_leave - 1] + span
        return max(1, math.ceil(frees_at - now))
