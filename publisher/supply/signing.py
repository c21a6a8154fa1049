"""HMAC-SHA256 request signatures for pushes and callbacks, with a replay window.

The signature covers `"{timestamp}." + body`, so neither the body nor the time can be changed
without the shared secret; the receiver refuses timestamps outside the window and signatures it
has already seen inside it, so a captured request cannot be played again.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Publisher-Timestamp"
SIGNATURE_HEADER = "X-Publisher-Signature"
SCHEME = "sha256="


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def sign(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The headers a signed request carries."""
    # Microseconds: a retry a moment later is a different request, never mistaken for a replay.
    stamp = f"{time.time() if now is None else now:.6f}"
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(secret, stamp, body)}


class SignatureError(Exception):
    pass


class ReplayGuard:
    """Signatures seen within the window, forgotten once they could no longer pass the time check."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, sig: str, now: float) -> bool:
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - 2 * self.window:
                self._seen.popitem(last=False)
            if sig in self._seen:
                return False
            self._seen[sig] = now
            return True


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    window: float,
    guard: ReplayGuard | None = None,
    now: float | None = None,
) -> None:
    """Raise SignatureError with the reason unless the request is signed, fresh and not a replay."""
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER.lower())
    given = lowered.get(SIGNATURE_HEADER.lower())
    if not stamp or not given:
        raise SignatureError("缺少签名 / missing signature headers")
    try:
        sent = float(stamp)
    except ValueError:
        raise SignatureError("时间戳无效 / bad timestamp") from None
    moment = time.time() if now is None else now
    if abs(moment - sent) > window:
        raise SignatureError("时间戳超出重放窗口 / timestamp outside the replay window")
    if not hmac.compare_digest(signature(secret, stamp, body), given):
        raise SignatureError("签名不符 / signature does not match the body")
    if guard is not None and not guard.first_time(given, moment):
        raise SignatureError("重放的请求 / replayed request")
