"""What a resident sends with a dispute, sealed at rest.

A dispute's reason, its attachment (a PDF, PNG, JPEG or plain-text file of at most
``DEXIN_DISPUTE_ATTACHMENT_MAX`` bytes) and the answer's note are stored only sealed:
AES-256-GCM under the dispute key, with the dispute's id and the field's name as associated
data, so a sealed value moved to another dispute or field does not open. The dispute key is
derived (HKDF) from the application secret the vault keeps wrapped under the master key
(`dexin.app`), like the gateway's token key: whoever copies the control-plane database
without the master key reads no reason and no attachment.

`parse_attachment` checks the declared media type against the file's first bytes (a file
served back to a provider is never what its name claims but is not): nothing is sniffed
from content the resident did not declare.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance.errors import InvalidRequest, PayloadTooLarge, ServiceUnavailable

__all__ = ["MEDIA_TYPES", "Attachment", "Sealer", "check_attachment", "parse_attachment"]

NAME = re.compile(r"^[\w.\- ()\u4e00-\u9fff]{1,100}$")
MEDIA_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/plain": (),
}


@dataclass(frozen=True)
class Attachment:
    """A file sent with a dispute: its name, declared media type and bytes."""

    name: str
    media_type: str
    content: bytes


def parse_attachment(name: str, media_type: str, content_b64: str, limit: int) -> Attachment:
    """Decode and check an attachment. Raises `PayloadTooLarge` (``attachment_too_large``)
    beyond ``limit`` bytes, `InvalidRequest` (``attachment_invalid``) for a bad name, type,
    encoding or a file whose first bytes are not of its declared type."""
    if len(content_b64) > (limit * 4) // 3 + 4:
        raise PayloadTooLarge("attachment_too_large")
    try:
        content = base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(reason="attachment_invalid") from None
    if len(content) > limit:
        raise PayloadTooLarge("attachment_too_large")
    return check_attachment(Attachment(name, media_type, content))


def check_attachment(attachment: Attachment) -> Attachment:
    """``attachment`` if its name, type and first bytes agree; `InvalidRequest` otherwise."""
    magic = MEDIA_TYPES.get(attachment.media_type)
    if magic is None or not NAME.fullmatch(attachment.name) or not attachment.content:
        raise InvalidRequest(reason="attachment_invalid")
    if magic and not attachment.content.startswith(magic):
        raise InvalidRequest(reason="attachment_invalid")
    if attachment.media_type == "text/plain" and not _utf8(attachment.content):
        raise InvalidRequest(reason="attachment_invalid")
    return attachment


def _utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Sealer:
    """AES-256-GCM sealing of a dispute's fields under the dispute key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, owner: str, field: str, plaintext: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, plaintext, _aad(owner, field))

    def open(self, owner: str, field: str, sealed: bytes) -> bytes:
        """The plaintext; `ServiceUnavailable` if it does not open (another key, or moved)."""
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], _aad(owner, field))
        except (InvalidTag, ValueError):
            raise ServiceUnavailable("sealed_value_unreadable") from None


def _aad(owner: str, field: str) -> bytes:
    return f"dexin.dispute.v1|{owner}|{field}".encode()
