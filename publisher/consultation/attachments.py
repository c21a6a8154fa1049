"""What an attached file is, read from its bytes (never from its name or the browser's word)."""

from __future__ import annotations

import io
import zipfile

ALLOWED = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "image/jpeg": ".jpg",
    "image/png": ".png",
}
ALLOWED_LABEL = "PDF、DOCX、JPEG、PNG"


def sniff(data: bytes) -> str | None:
    """The media type by magic number; a DOCX is a ZIP holding word/document.xml. None: not one
    of the accepted kinds."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
    return None


def safe_filename(name: str) -> str:
    """The base name only, without control characters, at most 200 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable()).strip() or "attachment"
    return cleaned[-200:]
