"""Files attached to a reply (pure): what may be attached, judged by the bytes, not the name.

The browser's content type and the file's extension are the uploader's word; the type is read
from the file's own signature (the `filetype` library), so a script renamed `photo.jpg` is
refused. Only types every network that takes files accepts are allowed, and none a browser
would run (no HTML, SVG or scripts), since the file is later served back to colleagues.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

import filetype

from relaydesk.core.errors import UserError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 3
MAX_NAME = 120

# MIME type -> the kind of attachment the networks speak of.
ALLOWED: dict[str, str] = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "image/webp": "image",
    "application/pdf": "file",
    "audio/mpeg": "audio",
    "audio/ogg": "audio",
    "video/mp4": "video",
}


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the uploader gave it and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    name: str
    mime_type: str
    kind: str
    size: int
    sha256: str
    data: bytes


def clean_name(name: str) -> str:
    """A file name safe to show and to send in headers: no folders, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    return (kept or "file")[:MAX_NAME]


def check_files(uploads: list[Upload]) -> list[CheckedFile]:
    """The uploads as they will be stored, or UserError saying which one is wrong and why."""
    files = [u for u in uploads if u.data or u.name]
    if len(files) > MAX_FILES:
        raise UserError(f"files: at most {MAX_FILES} files in one reply, not {len(files)}")
    out: list[CheckedFile] = []
    for upload in files:
        name = clean_name(upload.name)
        if not upload.data:
            raise UserError(f"files: {name!r} is empty")
        if len(upload.data) > MAX_FILE_BYTES:
            raise UserError(
                f"files: {name!r} is {len(upload.data) / 1_048_576:.1f} MB; "
                f"at most {MAX_FILE_BYTES // 1_048_576} MB per file"
            )
        guessed = filetype.guess_mime(upload.data)
        if guessed not in ALLOWED:
            allowed = "JPEG, PNG, GIF, WebP, PDF, MP3, OGG, MP4"
            raise UserError(f"files: {name!r} is not a file type replies may carry ({allowed})")
        out.append(
            CheckedFile(
                name=name,
                mime_type=guessed,
                kind=ALLOWED[guessed],
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                data=upload.data,
            )
        )
    return out
