"""Resumption tokens: the rest of a list, carried by the harvester rather than kept by the server.

A token holds the list's arguments (verb, metadataPrefix, from, until, set), where the next page
starts (the last harvest_records id sent, a stable order) and how many were sent, and when it expires,
as compact JSON signed with an HMAC of a key derived from the archive's secret. So a token works after
a restart and on any web node sharing the secret, and one that was changed, cut short or has expired
is refused (badResumptionToken) rather than trusted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from archive.interchange.oai.arguments import OAIError

#: Bytes of the HMAC-SHA256 kept in a token: 128 bits, beyond guessing.
SIGNATURE_BYTES = 16
VERSION = 1


@dataclass(frozen=True)
class Position:
    """Where a list stands: its arguments, the last record id sent, how many were sent, its expiry."""
    verb: str
    prefix: str
    start: str | None  #: the from argument as given
    end: str | None  #: the until argument as given
    set_spec: str | None
    after: int  #: the harvest_records id of the last record sent
    cursor: int  #: records sent before the next page
    expires: int  #: seconds since the epoch, UTC


def signing_key(secret: str) -> bytes:
    """A key for tokens only, derived from the archive's secret (which also signs cookies)."""
    return hmac.new(secret.encode("utf-8"), b"crossings oai-pmh resumption token", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(position: Position, key: bytes) -> str:
    body = _b64(json.dumps([VERSION, *asdict(position).values()], separators=(",", ":")).encode("utf-8"))
    signature = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return f"{body}.{_b64(signature)}"


def decode(token: str, key: bytes, *, verb: str, now: datetime) -> Position:
    """The position `token` holds, if it is one this archive signed, for `verb`, not expired."""
    body, dot, signature = token.partition(".")
    try:
        expected = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()[:SIGNATURE_BYTES]
        valid = bool(dot) and hmac.compare_digest(_unb64(signature), expected)
    except (UnicodeEncodeError, ValueError, binascii.Error):
        valid = False
    if not valid:
        raise OAIError("badResumptionToken", "the resumptionToken is not one this repository issued, or was altered")
    try:
        version, *fields = json.loads(_unb64(body))
        position = Position(*fields)
    except (ValueError, TypeError, binascii.Error):
        raise OAIError("badResumptionToken", "the resumptionToken cannot be read") from None
    if version != VERSION:
        raise OAIError("badResumptionToken", "the resumptionToken is of an older kind; start the list again")
    if position.verb != verb:
        raise OAIError("badResumptionToken", f"the resumptionToken continues {position.verb}, not {verb}")
    if now.timestamp() >= position.expires:
        expired = datetime.fromtimestamp(position.expires, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise OAIError("badResumptionToken", f"the resumptionToken expired at {expired}; start the list again")
    return position
