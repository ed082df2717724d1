"""What an alert's messages are about: its topics (crisis/topics.py) from the messages the caller
may read, embedded with the triage model in the shared cross-language space.

Computed when the alert is looked at, not when it is raised (the watch runs without the model),
and kept for the same alert and the same messages, so the page and the API ask the model once.
With the keyword triager there is no embedding: the alert has no topics, and the page says so.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from threading import Lock

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.crisis import alert_repository as repo
from relaydesk.crisis.alert_service import MAX_RECENT, alert_service
from relaydesk.crisis.topics import Topic, group, label
from relaydesk.guidelines.faq_service import current_embedder
from relaydesk.triage.language_means import centred
from relaydesk.triage.normalize import thai_words

log = logging.getLogger(__name__)
_CACHE: OrderedDict[tuple[int, int, tuple[int, ...]], list[Topic]] = OrderedDict()
_CACHE_SIZE = 256
_lock = Lock()


def alert_topics(session: Session, scope: Scope, alert_id: int) -> tuple[list[Topic], list[int]] | None:
    """The topics of the alert's messages the caller may read, and those messages' ids (a topic's
    members index them); None when no model is loaded to read meaning."""
    alert_service.get(session, scope, alert_id)  # NotFound / Forbidden as for the alert itself
    row = repo.alert(session, scope, alert_id)
    assert row is not None
    rows = list(repo.messages(session, scope, [int(i) for i in (row.message_ids or [])][:MAX_RECENT]))
    rows.reverse()  # oldest first: a storm's first messages lead its groups
    ids = [int(r.id) for r in rows]
    embedder = current_embedder()
    if embedder is None:
        return None
    key = (scope.org_id, alert_id, tuple(ids))
    with _lock:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key], ids
    if not rows:
        return [], ids
    languages = [r.language if r.language not in (None, "und") else "en" for r in rows]
    texts = [r.text or "" for r in rows]
    try:
        vectors = centred(embedder.embed_queries(texts), list(languages))
    except Exception:
        log.warning("alert topics: embedding failed", exc_info=True)
        return None
    topics = label(group(vectors), texts, languages, thai_words)
    with _lock:
        _CACHE[key] = topics
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return topics, ids
