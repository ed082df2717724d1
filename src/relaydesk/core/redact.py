"""Secrets out of what RelayDesk prints and logs: URLs with tokens, database URLs with passwords.

A network's handshake puts its secret in the query string (Meta's `hub.verify_token`), and the
HTTP server's access log writes every request line; a database URL carries its password. Both
end up in log files and terminals that more people read than should see the secrets.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"
# A query parameter whose name says it carries a credential. Matched on the decoded, lowercased
# name: `hub.verify_token`, `access_token`, `api_key`, `client_secret`, `password`, `sig`, ...
_SENSITIVE_NAME = re.compile(
    r"token|secret|passw|pwd|api[_.-]?key|^key$|signature|^sig$|^code$|auth|credential"
)
_USERINFO_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):[^@/]*@")


def is_sensitive_param(name: str) -> bool:
    return bool(_SENSITIVE_NAME.search(unquote_plus(name).lower()))


def redact_query(query: str) -> str:
    """The query string with every credential-like parameter's value replaced by ***."""
    if not query:
        return query
    parts = []
    for part in query.split("&"):
        name, sep, _value = part.partition("=")
        parts.append(f"{name}={MASK}" if sep and is_sensitive_param(name) else part)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """A path or URL with credentials removed from its query string (and its user-info part)."""
    head, sep, query = url.partition("?")
    head = _USERINFO_PASSWORD.sub(rf"\1:{MASK}@", head)
    return head + sep + redact_query(query) if sep else head


def mask_database_url(url: str) -> str:
    """A database URL fit to print: the password (in the user-info or the query) masked."""
    try:
        rendered = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        rendered = url
    return redact_url(rendered)


class AccessLogRedactor(logging.Filter):
    """Rewrites the request path in uvicorn's access log records before any handler sees them.

    uvicorn logs `'%s - "%s %s HTTP/%s" %d'` with args (client, method, path+query, version,
    status), so the query string is the third argument.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], redact_url(args[2]), *args[3:])
        return True


def install_access_log_redaction(logger_name: str = "uvicorn.access") -> None:
    """Attach the redactor once; repeated app creation (tests, reloads) does not stack copies."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, AccessLogRedactor) for f in logger.filters):
        logger.addFilter(AccessLogRedactor())
