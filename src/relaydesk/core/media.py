"""Which files RelayDesk keeps and shows (pure): read from the bytes, never from a name.

Both the files agents attach and the customers' files fetched from a network go through here,
so a page never serves back anything a browser would run (HTML, SVG, scripts).
"""

from __future__ import annotations

import filetype

# MIME type -> the kind of attachment the networks speak of.
MEDIA_TYPES: dict[str, str] = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "image/webp": "image",
    "application/pdf": "file",
    "audio/mpeg": "audio",
    "audio/ogg": "audio",
    "video/mp4": "video",
}
TYPE_NAMES = "JPEG, PNG, GIF, WebP, PDF, MP3, OGG, MP4"


def media_type(data: bytes) -> str | None:
    """The file's MIME type if it is one RelayDesk keeps, from its signature; else None."""
    guessed = filetype.guess_mime(data)
    return guessed if guessed in MEDIA_TYPES else None
