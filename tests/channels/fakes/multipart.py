"""Reading a multipart/form-data body, as the networks' file uploads arrive at the fakes."""

from __future__ import annotations

import email.parser
import email.policy
from typing import Any

import httpx


def is_multipart(request: httpx.Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


def form_of(request: httpx.Request) -> dict[str, Any]:
    """Text fields as strings, files as ``{"filename", "content_type", "data"}``."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + request.content)
    out: dict[str, Any] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            out[str(name)] = data.decode()
        else:
            out[str(name)] = {"filename": filename, "content_type": part.get_content_type(), "data": data}
    return out
