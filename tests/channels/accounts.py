"""Channel accounts the channel tests add beside the test organisation's (at the north shop)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Location


def add_account(
    container: Any, key: str, network: str, external_id: str | None, creds: dict[str, Any], **settings: Any
) -> int:
    return add_accounts(container, "", {key: (network, external_id, creds, settings)})[key]


def add_accounts(container: Any, prefix: str, specs: Mapping[str, tuple[Any, ...]]) -> dict[str, int]:
    """`specs`: key -> (network, external_id, credentials[, settings]); account keys get `prefix`."""
    ids: dict[str, int] = {}
    with transaction(container.sessions) as session:
        location = session.scalars(select(Location).where(Location.key == "north-shop")).one()
        for key, (network, external_id, creds, *rest) in specs.items():
            row = ChannelAccount(
                org_id=location.org_id,
                location_id=location.id,
                key=f"{prefix}{key}",
                network=network,
                handle=key,
                external_id=external_id,
                credentials_encrypted=container.box.seal(creds),
                settings=dict(rest[0]) if rest else {},
            )
            session.add(row)
            session.flush()
            ids[key] = row.id
    return ids
