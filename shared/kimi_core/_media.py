"""Media types from content: for image, video and document data sent without one."""

from __future__ import annotations

import base64
import binascii

__all__ = ["sniff_media_type"]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"%PDF-", "application/pdf"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),
)


def sniff_media_type(data: bytes | str) -> str | None:
    """The media type of ``data`` (raw bytes, or base64 text) from its magic number, or
    None when it is not one Kimi takes (PNG, JPEG, GIF, BMP, WebP, PDF, MP4, MOV, WebM)."""
    if isinstance(data, str):
        head_b64 = data[:64]
        try:
            head = base64.b64decode(head_b64 + "=" * (-len(head_b64) % 4))
        except (binascii.Error, ValueError):
            return None
    else:
        head = data[:48]
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:10] == b"qt" else "video/mp4"
    return None
