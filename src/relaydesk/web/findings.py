"""What a brand-voice finding says, in the reader's language (the checks give a code and values;
guidelines/checks.py keeps the English detail for the API and the audit).

The page renders it with `finding_text`; the composer, which hears findings from the API as the
agent types, gets the same sentences as templates (`composer_sentences`) and fills in the values.
"""

from __future__ import annotations

from typing import Any

from relaydesk.web import i18n
from relaydesk.web.labels import N_, network_name

SENTENCES: dict[str, str] = {
    "banned": N_("contains “%(phrase)s”"),
    "too_long": N_("%(length)s characters, more than %(limit)s"),
    "no_greeting": N_("no greeting at the start"),
    "unsigned": N_("sign the reply with your first name (%(name)s)"),
    "pii_email": N_("contains an e-mail address: offer to continue in a private message"),
    "pii_card": N_("contains a card number: offer to continue in a private message"),
    "pii_phone": N_("contains a phone number: offer to continue in a private message"),
    "pii_order": N_("contains an order number: offer to continue in a private message"),
    "wrong_language": N_("the reply is in %(found)s, the customer wrote in %(wanted)s"),
    "tone_all_caps": N_("shouting in capitals: “%(example)s”"),
    "tone_exclamation": N_("piled-up exclamation marks: “%(example)s”"),
    "tone_blame": N_("blaming the customer: “%(example)s”"),
    "tone_sarcasm": N_("sarcasm: “%(example)s”"),
    "tone_promise": N_("a promise the brand cannot keep: “%(example)s”"),
    "network_length": N_("%(length)s characters, more than the %(limit)s %(network)s takes"),
    "link": N_("links to %(host)s, which is not an allowed site"),
    "pattern": N_("matches “%(text)s”"),
    "pattern_slow": N_("the pattern took too long on this reply and was not checked"),
}


def _shown(code: str, values: dict[str, str]) -> dict[str, str]:
    """Values as the reader reads them: language codes and networks by their names."""
    out = dict(values)
    if code == "wrong_language":
        out = {k: i18n.language_name(v) for k, v in out.items()}
    if code == "network_length" and "network" in out:
        out["network"] = network_name(out["network"])
    return out


def finding_text(finding: Any) -> str:
    """The finding's detail in the reader's language (its English detail when it has no code)."""
    code = getattr(finding, "code", "")
    if code not in SENTENCES:
        return str(getattr(finding, "detail", ""))
    try:
        return i18n._(SENTENCES[code], **_shown(code, dict(finding.values)))
    except (KeyError, ValueError):
        return str(finding.detail)


def composer_sentences() -> dict[str, str]:
    """Every finding sentence in the reader's language with its %(value)s slots, for the page's
    script, and the names it fills in (languages, networks)."""
    return {code: i18n.gettext(sentence) for code, sentence in SENTENCES.items()}


def composer_names() -> dict[str, str]:
    from relaydesk.web.labels import NETWORK_NAMES
    from relaydesk.web.settings_common import LANGUAGES

    names = {code: i18n.language_name(code) for code in LANGUAGES}
    names.update({key: network_name(key) for key in NETWORK_NAMES})
    return names
