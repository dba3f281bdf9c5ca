"""
What a file must be to be attached: at most 10 MB, and of an allowed type,
decided by its name *and* its bytes. See docs/requests.md, "Attachments".
"""

import unicodedata
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

# A constant, not a setting: the limit is part of the product and is stated
# in docs/requests.md and in the error message.
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024  # 10 MB

# Extension -> the content type the file's bytes must show. The client's
# Content-Type header is never trusted: it is whatever the browser (or an
# attacker) says.
ALLOWED_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
}
ALLOWED_DESCRIPTION = "JPEG, PNG, GIF, WebP, PDF, plain text (.txt) or CSV (.csv)"

# Text types have no magic bytes; their content is "valid UTF-8 that no
# browser would take for markup" instead.
TEXT_TYPES = frozenset({"text/plain", "text/csv"})

# Markup that makes a browser (or an old one's sniffer) treat a file as HTML,
# SVG or XML. Downloads are served as attachments with nosniff anyway; this
# keeps such files out of storage altogether.
MARKUP_MARKERS = (
    b"<!doctype",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
    b"<svg",
    b"<?xml",
    b"<object",
    b"<embed",
    b"<meta",
    b"<style",
)


def _sniff_binary(head: bytes) -> str | None:
    """The image or PDF type the leading bytes show, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _is_harmless_text(content: bytes) -> bool:
    """True for UTF-8 text without NUL bytes and without HTML/SVG/XML markup."""
    if b"\x00" in content:
        return False
    try:
        content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    lowered = content.lower()
    if lowered.lstrip(b"\xef\xbb\xbf \t\r\n\f").startswith(b"<"):
        return False
    return not any(marker in lowered for marker in MARKUP_MARKERS)


def _read_all(file) -> bytes:
    """The whole upload (size is already capped), leaving the file at position 0."""
    file.seek(0)
    content = b"".join(file.chunks()) if hasattr(file, "chunks") else file.read()
    file.seek(0)
    return content


def attachment_clean_name(name: str) -> str:
    """
    The uploader's file name made safe to keep and to send back in
    Content-Disposition: last path component only, no control characters,
    at most 255 characters (keeping the extension).
    """
    name = PurePosixPath((name or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(name) > 255:
        suffix = PurePosixPath(name).suffix[:20]
        name = name[: 255 - len(suffix)] + suffix
    return name


def attachment_validate_file(file) -> tuple[str, str]:
    """
    Check an uploaded file against the size limit and the type allow-list.

    The type is decided by the file's extension *and* its content: the
    extension must be on the list and the bytes must be what the extension
    claims (magic bytes for images and PDF; harmless UTF-8 for text and CSV).
    Return ``(clean original name, content type)``; raise ``ValidationError``
    (codes ``file_empty``, ``file_too_large``, ``file_name_missing``,
    ``file_type_not_allowed``, ``file_type_mismatch``) otherwise.
    """
    size = file.size
    if not size:
        raise ValidationError(_("The file is empty."), code="file_empty")
    if size > MAX_ATTACHMENT_SIZE:
        raise ValidationError(
            _("The file is %(size)s; attachments may be at most %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(MAX_ATTACHMENT_SIZE)},
            code="file_too_large",
        )
    name = attachment_clean_name(getattr(file, "name", ""))
    if not name:
        raise ValidationError(_("The file has no name."), code="file_name_missing")
    expected = ALLOWED_TYPES.get(PurePosixPath(name).suffix.lower())
    if expected is None:
        raise ValidationError(
            _("Files of this type cannot be attached. Allowed: %(allowed)s.")
            % {"allowed": ALLOWED_DESCRIPTION},
            code="file_type_not_allowed",
        )
    content = _read_all(file)
    if len(content) != size:
        # The reported size is what the limit was checked against; never
        # store more than that.
        raise ValidationError(_("The upload is incomplete."), code="file_incomplete")
    sniffed = _sniff_binary(content[:16])
    if expected in TEXT_TYPES:
        matches = sniffed is None and _is_harmless_text(content)
    else:
        matches = sniffed == expected
    if not matches:
        raise ValidationError(
            _("The file's content is not what its name says (%(name)s). Allowed: %(allowed)s.")
            % {"name": name, "allowed": ALLOWED_DESCRIPTION},
            code="file_type_mismatch",
        )
    return name, expected
