"""The baseline server: the same stack (FastAPI + uvicorn, one process) answering the webhook POST
with 202 after reading the body, without any of RelayDesk's work. Usage: python baseline_app.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/webhooks/generic/{account_id}", status_code=202)
async def generic_webhook(account_id: int, request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"accepted": 1, "bytes": len(body), "account": account_id}, status_code=202)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    # The same log level as `relaydesk serve` (access log on), so both pay for the same logging.
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
