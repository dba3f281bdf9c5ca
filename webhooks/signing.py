"""
Signing webhook deliveries, and the reference check a receiver makes (see
docs/webhooks.md, "Verifying the signature").
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-SmartMaintenance-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300


def _signature(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={_signature(secret, timestamp, body)}"


def signature_verify(
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """
    Whether ``header`` signs ``body`` with ``secret`` within ``tolerance``
    seconds of now, either way: an old timestamp may be a replayed capture,
    a future one a forged clock. The reference implementation for receivers
    (docs/webhooks.md); ``v1`` may appear more than once.
    """
    timestamp, signatures = None, []
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    if isinstance(body, str):
        body = body.encode()
    expected = _signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
