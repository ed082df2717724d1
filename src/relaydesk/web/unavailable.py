"""What a 503 says: which part is away. The sender retries after RETRY_AFTER seconds.

One place for the app's exception handlers (app.py) and the webhook door (channels/door.py), which
answers some webhooks before the app's handlers could.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

RETRY_AFTER = "5"
DATABASE = "the database is unavailable; nothing was stored, please retry"
INTAKE = "the intake queue is not answering; please retry"
BUS = "the message bus is unavailable; please retry"


def answer(detail: str) -> JSONResponse:
    """The 503 the sender retries: nothing it sent is known stored unless a redelivery says so."""
    return JSONResponse(status_code=503, content={"detail": detail}, headers={"Retry-After": RETRY_AFTER})
