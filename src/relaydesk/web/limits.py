"""Request size limits: a body over the limit is refused with 413 before it is parsed."""

from __future__ import annotations

from fastapi import HTTPException, Request


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPException(status_code=413, detail=f"payload larger than {limit} bytes")
        except ValueError as exc:
            raise HTTPException(status_code=400, detail="Content-Length is not a number") from exc
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status_code=413, detail=f"payload larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
