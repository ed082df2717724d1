"""One Channel per network, in its own module: the rest of channels/ knows no network by name."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from relaydesk.channels import registry
from relaydesk.channels.channel import Channel
from relaydesk.core.enums import Network

CHANNELS = Path(__file__).resolve().parents[2] / "src" / "relaydesk" / "channels"

# network -> the module that ends with its CHANNEL.
MODULES = {
    "facebook": "facebook",
    "instagram": "instagram",
    "whatsapp": "whatsapp",
    "x": "x",
    "telegram": "telegram",
    "line": "line",
    "email": "email",
    "generic": "generic",
    "webchat": "webchat_channel",
    "listening": "listening",
}
# Where a network may be named in a comparison: its own modules, and what the Meta networks share.
# The web chat's own modules (widget routes, visitor sessions) belong to its network too.
NETWORK_MODULES = frozenset(
    {f"{m}.py" for m in MODULES.values()} | {"webchat.py", "webchat_visitors.py", "meta.py", "messenger.py"}
)

# `network == "line"`, `"x" != account.network`, `network == Network.GENERIC.value`,
# `network in ("facebook", ...)`, `network in META_NETWORKS` (any constant).
_NETWORK_IF = re.compile(
    r"""network\s*(?:==|!=)\s*(?:["']|Network\.)"""
    r"""|["']\s*(?:==|!=)\s*\w*\.?network\b"""
    r"""|network\s+(?:not\s+)?in\s+(?:[(\[{]\s*["']|[A-Z][A-Z_]+\b)"""
)


def test_every_network_has_its_channel() -> None:
    channels = registry.channels()
    assert set(channels) == {n.value for n in Network}
    for network, channel in channels.items():
        assert isinstance(channel, Channel)
        assert channel.spec.network == network
        module = importlib.import_module(f"relaydesk.channels.{MODULES[network]}")
        assert module.CHANNEL is channel


def test_the_old_helpers_read_the_channels() -> None:
    for network, channel in registry.channels().items():
        assert registry.spec(network) is channel.spec
        assert registry.verifier(network) is channel.verify
        assert registry.parser(network) is channel.parse
    assert registry.spec("myspace") is None and registry.verifier("myspace") is None
    senders = registry.default_senders()
    assert set(senders) == {n for n, c in registry.channels().items() if c.sender is not None}
    # One Graph API sender (one connection pool) for the three networks of a Meta app.
    assert senders["facebook"] is senders["instagram"] is senders["whatsapp"]


def _network_ifs(path: Path) -> list[str]:
    return [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if not line.lstrip().startswith("#") and _NETWORK_IF.search(line)
    ]


def test_no_network_if_outside_the_network_modules() -> None:
    found = [
        hit
        for path in sorted(CHANNELS.glob("*.py"))
        if path.name not in NETWORK_MODULES
        for hit in _network_ifs(path)
    ]
    assert not found, "put what differs per network on its CHANNEL (channels/channel.py):\n" + "\n".join(
        found
    )


def test_the_scan_finds_a_network_if(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'if network == "line":\n'
        "    pass\n"
        "if account.network != Network.WEBCHAT.value:\n"
        "    pass\n"
        'if job.network in ("x", "telegram"):\n'
        "    pass\n"
        "if a.network in META_NETWORKS:\n"
        "    pass\n"
        "if network in ROUTED_BY_EXTERNAL_ID and not external_id:\n"
        "    pass\n"
        "rows = [r for r in rows if r.network == wanted]\n",
        encoding="utf-8",
    )
    assert len(_network_ifs(sample)) == 5
