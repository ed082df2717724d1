from __future__ import annotations

import pytest

from relaydesk.notifications import listeners


@pytest.fixture(autouse=True)
def _listeners_installed() -> None:
    """What building the container does once per process; these tests queue without one."""
    listeners.install()
