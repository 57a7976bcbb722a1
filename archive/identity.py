"""The archive's own identity, which bags, PBCore, OAI-PMH and citations carry, and the persistent
identifiers it gives its items.

An item's identifier is minted once, when it is created, and never changes: an export keeps it and a
restore brings it back. With a NAAN configured (`pid_naan`) it is an ARK, ark:/NAAN/<shoulder><blade>,
whose blade is random (no order or count of the archive's items can be read from it) and ends in
the NOID check character; without one it is a urn:uuid.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archive import db
from archive.models import Item

#: NOID's "betanumeric" alphabet: digits and consonants but l, so that no word and no 1/l mix-up forms.
BETANUMERIC = "0123456789bcdfghjkmnpqrstvwxz"
BLADE_LENGTH = 10
NAAN = re.compile(r"^[0-9bcdfghjkmnpqrstvwxz]{5,}$")  # ARK spec: betanumeric, five or more
SHOULDER = re.compile(r"^[0-9bcdfghjkmnpqrstvwxz]*$")


@dataclass(frozen=True)
class Identity:
    name: str
    base_url: str  #: without a trailing slash; "" when not configured
    contact_email: str
    pid_naan: str
    pid_shoulder: str

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Identity:
        return cls(name=settings["archive_name"], base_url=settings["base_url"].rstrip("/"),
                   contact_email=settings["contact_email"], pid_naan=settings["pid_naan"],
                   pid_shoulder=settings["pid_shoulder"])

    @property
    def pid_scheme(self) -> str:
        return f"ARK under NAAN {self.pid_naan}" if self.pid_naan else "urn:uuid"

    def url(self, path: str) -> str:
        """`path` (from the site root, e.g. /items/3) as an absolute URL, or as it is without a base URL."""
        return f"{self.base_url}{path}" if self.base_url else path


def check(settings: dict[str, Any]) -> str | None:
    """Why the identity settings cannot be used, or None."""
    naan, shoulder = settings["pid_naan"], settings["pid_shoulder"]
    if naan and not NAAN.match(naan):
        return f"setting 'pid_naan' is {naan!r}: a NAAN is five or more digits or consonants but l (e.g. 12345)"
    if not SHOULDER.match(shoulder):
        return f"setting 'pid_shoulder' is {shoulder!r}: use only digits and consonants but l"
    if shoulder and not naan:
        return "setting 'pid_shoulder' is set but 'pid_naan' is empty: a shoulder belongs to a NAAN"
    base = settings["base_url"]
    if base and not re.match(r"^https?://[^/\s]+(/\S*)?$", base):
        return f"setting 'base_url' is {base!r}: give an http:// or https:// URL, or leave it empty"
    return None


def noid_check_char(text: str) -> str:
    """NOID's check character over `text` (position-weighted sum of the betanumeric ordinals, mod 29)."""
    total = sum(i * BETANUMERIC.index(c) for i, c in enumerate(text, start=1) if c in BETANUMERIC)
    return BETANUMERIC[total % len(BETANUMERIC)]


def mint(identity: Identity) -> str:
    if not identity.pid_naan:
        return f"urn:uuid:{uuid.uuid4()}"
    blade = "".join(secrets.choice(BETANUMERIC) for _ in range(BLADE_LENGTH))
    base = f"{identity.pid_naan}/{identity.pid_shoulder}{blade}"
    return f"ark:/{base}{noid_check_char(base)}"


def is_valid_ark(pid: str) -> bool:
    """Whether `pid` is an ARK whose NOID check character is right (a mistyped one is not)."""
    match = re.match(r"^ark:/?([0-9bcdfghjkmnpqrstvwxz]+/[0-9bcdfghjkmnpqrstvwxz]+)$", pid)
    return bool(match) and noid_check_char(match[1][:-1]) == match[1][-1]


def give_identifiers(sessions: sessionmaker[Session]) -> None:
    """New items made through `sessions` get the archive's kind of identifier (the Archive calls it)."""
    db.listen_once(sessions, "before_flush", _mint_new)


def _mint_new(session: Session, _context: Any, _instances: Any) -> None:
    archive = session.info.get("archive")
    if archive is None:
        return  # the model's default (urn:uuid) applies
    for obj in session.new:
        if isinstance(obj, Item) and obj.pid is None:
            obj.pid = mint(archive.identity)
