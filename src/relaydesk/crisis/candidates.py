"""Public posts of the networks' search and media APIs, read as listening candidates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relaydesk.channels import graph
from relaydesk.channels import x as x_channel
from relaydesk.channels.base import ParsedEvent
from relaydesk.core.enums import Network
from relaydesk.crisis.listening import Candidate


def x_post_url(post_id: str, username: str | None) -> str:
    if username:
        return f"https://x.com/{username}/status/{post_id}"
    return f"https://x.com/i/web/status/{post_id}"


def candidates_from_x(body: dict[str, Any]) -> tuple[list[Candidate], list[str]]:
    """Posts of an X API v2 search response (`data` + `includes.users`) and what did not parse."""
    parsed = x_channel.parse_v2_posts(body, None, kind="mention")
    return candidates_from_x_events(parsed.events), list(parsed.errors)


def candidates_from_x_events(events: Sequence[ParsedEvent]) -> list[Candidate]:
    """Listening candidates from X posts already parsed (a search poll's events)."""
    out = []
    for item in events:
        event = item.event
        post_id = str(event.raw.get("id", event.external_id))
        out.append(
            Candidate(
                network=Network.X.value,
                external_id=event.external_id,
                author_id=event.author_id,
                text=event.text,
                author_handle=event.author_handle,
                author_name=event.author_name,
                author_followers=event.author_followers,
                url=x_post_url(post_id, event.author_handle),
                lang=event.lang_hint,
                posted_at=event.sent_at,
                thread_id=event.thread_id,
                raw=event.raw,
            )
        )
    return out


INSTAGRAM_POST_PREFIX = "https://www.instagram.com/"
# Hashtag media do not name their author: the Graph API withholds `username` on them. Each such
# post gets an author of its own ("unknown:<media id>"): one shared id would make every anonymous
# poster one contact, and a converted post would thread into a stranger's conversation.
UNKNOWN_AUTHOR = "unknown"


def candidates_from_instagram(body: dict[str, Any]) -> tuple[list[Candidate], list[str]]:
    """IG Media of a Graph API response and what did not parse.

    Two documented sources share the shape ``{"data": [IG Media], "paging": {...}}``:
    ``GET /{ig-hashtag-id}/recent_media`` (or ``top_media``) for a hashtag, with
    ``fields=id,caption,media_type,permalink,timestamp`` (no author: the API withholds it), and
    ``GET /{ig-user-id}/tags`` for public posts our account is tagged in, which add ``username``.
    """
    out: list[Candidate] = []
    errors: list[str] = []
    for i, media in enumerate(body.get("data") or []):
        if not isinstance(media, dict):
            errors.append(f"data[{i}]: must be an object")
            continue
        media_id = graph.id_str(media.get("id"))
        if media_id is None:
            errors.append(f"data[{i}]: missing id")
            continue
        caption = media.get("caption")
        username = media.get("username")
        username = username.strip() if isinstance(username, str) and username.strip() else None
        permalink = media.get("permalink")
        out.append(
            Candidate(
                network=Network.INSTAGRAM.value,
                external_id=media_id,
                author_id=username or f"{UNKNOWN_AUTHOR}:{media_id}",
                text=caption if isinstance(caption, str) else "",
                author_handle=username,
                author_name=username,
                # Only Instagram's own post links: the URL is shown to agents as a link.
                url=permalink
                if isinstance(permalink, str) and permalink.startswith(INSTAGRAM_POST_PREFIX)
                else None,
                posted_at=graph.to_datetime(media.get("timestamp")),
                raw=media,
            )
        )
    return out, errors
