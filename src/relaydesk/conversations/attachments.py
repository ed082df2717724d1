"""Files attached to a reply (pure): what may be attached, judged by the bytes, not the name.

The browser's content type and the file's extension are the uploader's word; the type is read
from the file's own signature (core.media), so a script renamed `photo.jpg` is refused. Only
types every network that takes files accepts are allowed, and none a browser would run.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from relaydesk.core.errors import UserError
from relaydesk.core.media import MEDIA_TYPES, TYPE_NAMES, media_type

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 3
MAX_NAME = 120


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the uploader gave it and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    name: str
    mime_type: str
    data: bytes

    @property
    def kind(self) -> str:
        return MEDIA_TYPES[self.mime_type]

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def clean_name(name: str) -> str:
    """A file name safe to show and to send in headers: no folders, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    return (kept or "file")[:MAX_NAME]


def check_files(uploads: list[Upload]) -> list[CheckedFile]:
    """The uploads as they will be stored, or UserError saying which one is wrong and why."""
    files = [u for u in uploads if u.data or u.name]
    if len(files) > MAX_FILES:
        raise UserError(f"files: at most {MAX_FILES} files in one reply, not {len(files)}").saying(
            "too_many_files", most=MAX_FILES
        )
    out: list[CheckedFile] = []
    for upload in files:
        name = clean_name(upload.name)
        if not upload.data:
            raise UserError(f"files: {name!r} is empty").saying("file_empty", name=name)
        if len(upload.data) > MAX_FILE_BYTES:
            raise UserError(
                f"files: {name!r} is {len(upload.data) / 1_048_576:.1f} MB; "
                f"at most {MAX_FILE_BYTES // 1_048_576} MB per file"
            ).saying("file_too_big", name=name, mb=MAX_FILE_BYTES // 1_048_576)
        guessed = media_type(upload.data)
        if guessed is None:
            raise UserError(f"files: {name!r} is not a file type replies may carry ({TYPE_NAMES})").saying(
                "file_type", name=name, types=TYPE_NAMES
            )
        out.append(CheckedFile(name=name, mime_type=guessed, data=upload.data))
    return out
