"""What a reply may carry (pure): judged by the file's bytes, bounded in size, count and name."""

from __future__ import annotations

import struct
import zlib

import pytest

from relaydesk.conversations.attachments import MAX_FILE_BYTES, Upload, check_files, clean_name
from relaydesk.core.errors import UserError


def _png() -> bytes:
    """A real 2x2 PNG (red), built here so no file is copied into the tests."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32


def test_files_are_typed_by_their_bytes() -> None:
    [png, pdf, jpeg] = check_files(
        [Upload("receipt.png", PNG), Upload("invoice.pdf", PDF), Upload("a", JPEG)]
    )
    assert (png.mime_type, png.kind, png.size) == ("image/png", "image", len(PNG))
    assert (pdf.mime_type, pdf.kind) == ("application/pdf", "file")
    assert jpeg.mime_type == "image/jpeg"
    assert len(png.sha256) == 64


@pytest.mark.parametrize(
    ("uploads", "problem"),
    [
        (
            [Upload("photo.jpg", b"<html><script>alert(1)</script></html>")],
            "not a file type replies may carry",
        ),
        (
            [Upload("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')],
            "not a file type",
        ),
        ([Upload("big.png", PNG + b"\x00" * MAX_FILE_BYTES)], "at most 5 MB per file"),
        ([Upload("empty.png", b"")], "is empty"),
        ([Upload(f"{n}.png", PNG) for n in range(4)], "at most 3 files in one reply, not 4"),
    ],
)
def test_what_a_reply_may_not_carry_is_refused_with_its_reason(uploads: list[Upload], problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        check_files(uploads)


def test_no_file_chosen_is_no_file() -> None:
    assert check_files([Upload("", b"")]) == []


def test_names_lose_folders_and_control_characters() -> None:
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("C:\\Users\\me\\رسید.pdf") == "رسید.pdf"
    assert clean_name("a\u202ecod.exe\r\n") == "acod.exe"
    assert clean_name("...") == "file"
