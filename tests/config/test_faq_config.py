"""`faq:` and `departments: spokesperson` in relaydesk.yaml: the workflow's fields, old files still load."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.config.schemas import OrgConfig
from relaydesk.config.service import apply_config, export_config
from relaydesk.db import transaction
from relaydesk.models import Department, FaqEntry
from tests.config.test_apply import BOX, ORG, apply, nonzero
from tests.config.test_loader import BASE, load, only


def without_faq(document: str) -> str:
    """The document with its own `faq:` section left out, so a test's section is the only one."""
    kept, skipping = [], False
    for line in document.splitlines(keepends=True):
        if not line.startswith((" ", "-")):
            skipping = line.startswith("faq:")
        if not skipping:
            kept.append(line)
    return "".join(kept)


FAQ = """\
faq:
  - {key: old-approved, question: "Open?", answer: "Always.", approved: true}
  - {key: old-draft, question: "Parking?", answer: "Behind the shop.", approved: false}
  - {key: plain, question: "Wifi?", answer: "Yes."}
  - key: gift
    question: Can I buy a gift card?
    answer: Yes, in every café.
    status: retired
    variants: [Do you sell gift vouchers?, کارت هدیه دارید؟]
    answers: {fa: "بله، در همه کافه‌ها."}
    valid_from: 2026-12-01
    valid_until: 2027-02-28
"""


def test_old_and_new_faq_entries_load_with_their_status() -> None:
    result = load(without_faq(BASE) + FAQ)
    assert result.config is not None, [str(p) for p in result.problems]
    statuses = {f.key: f.resolved_status() for f in result.config.faq}
    assert statuses == {
        "old-approved": "approved",
        "old-draft": "draft",
        "plain": "approved",
        "gift": "retired",
    }
    gift = result.config.faq[-1]
    assert gift.all_answers() == {"en": "Yes, in every café.", "fa": "بله، در همه کافه‌ها."}
    assert gift.valid_until == date(2027, 2, 28)


def test_contradictions_are_reported_where_they_are() -> None:
    result = load(
        without_faq(BASE)
        + "faq:\n"
        + '  - {key: a, question: "Q?", answer: "A.", approved: false, status: approved}\n'
        + '  - {key: b, question: "Q?", answer: "A.", valid_from: 2027-02-01, valid_until: 2027-01-01}\n'
        + '  - {key: c, question: "Q?", answer: "A.", answers: {en: "Other."}}\n'
    )
    assert "contradicts" in only(result, "faq[0].approved").message
    assert "before" in only(result, "faq[1].valid_until").message
    assert "primary language" in only(result, "faq[2].answers.en").message


def test_faq_and_spokesperson_apply_export_and_apply_back_unchanged(
    session_factory: sessionmaker[Session],
) -> None:
    with_pr = without_faq(ORG).replace(
        "departments:\n", "departments:\n  - {key: pr, name: PR, spokesperson: true}\n", 1
    )
    assert "spokesperson" in with_pr
    apply(session_factory, with_pr + FAQ)
    with session_factory() as session:
        rows = {f.key: f for f in session.scalars(select(FaqEntry))}
        assert rows["old-draft"].status == "draft" and rows["plain"].status == "approved"
        assert rows["gift"].answers == {"en": "Yes, in every café.", "fa": "بله، در همه کافه‌ها."}
        assert rows["gift"].variants == ["Do you sell gift vouchers?", "کارت هدیه دارید؟"]
        assert session.scalars(select(Department.spokesperson).where(Department.key == "pr")).one()
        exported = export_config(session, "acme")
    faq = {f["key"]: f for f in exported["faq"]}
    assert "status" not in faq["plain"] and faq["old-draft"]["status"] == "draft"
    assert (
        faq["gift"]["answers"] == {"fa": "بله، در همه کافه‌ها."} and faq["gift"]["valid_from"] == "2026-12-01"
    )
    assert next(d for d in exported["departments"] if d["key"] == "pr")["spokesperson"] is True
    with transaction(session_factory) as session:
        assert nonzero(apply_config(session, OrgConfig.model_validate(exported), BOX, env={})) == {}
