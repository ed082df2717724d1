"""FAQ entries of one brand or region, their usage counts, and the spreadsheet round trip, on a
real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relaydesk.config.service import export_config
from relaydesk.container import Container
from relaydesk.core.errors import Refused
from relaydesk.db import transaction
from relaydesk.guidelines import faq_csv
from relaydesk.guidelines.faq_access import FaqAction
from relaydesk.guidelines.faq_service import faq_service
from relaydesk.guidelines.schemas import FaqIn
from relaydesk.models import FaqEntry, Location
from tests.guidelines.test_faq_service import scope_of

PARKING = FaqIn(
    question="Where can I park?",
    answer="Free parking behind the north shop, two hours.",
    variants=["Is there parking?"],
    answers={"fa": "پارکینگ رایگان پشت فروشگاه شمال، دو ساعت."},
    place="north",
)


def _approved(container: Container, key: str, body: FaqIn) -> None:
    with transaction(container.sessions) as session:
        petra = scope_of(session, "petra")
        faq_service.put(session, petra, key, body)
        faq_service.set_status(session, petra, key, FaqAction.APPROVE)


def _place(container: Container, key: str) -> int:
    with container.sessions() as session:
        return session.scalars(select(Location.id).where(Location.key == key)).one()


def test_a_regions_entry_is_offered_in_its_places_only_and_exported_with_its_place(
    container: Container,
) -> None:
    _approved(container, "parking", PARKING)
    north_shop, south_shop = _place(container, "north-shop"), _place(container, "south-shop")
    with container.sessions() as session:
        org = scope_of(session, "petra").org_id

        def offered(location_id: int | None) -> set[str]:
            found = faq_service.suggestions(session, org, "is there parking?", "en", location_id=location_id)
            return {s.key for s in found}

        assert "parking" in offered(north_shop)
        assert "parking" not in offered(south_shop) and "parking" not in offered(None)
        entry = faq_service.get(session, scope_of(session, "sam"), "parking")
        assert entry.place == "north" and entry.place_name == "North"
        exported = {f["key"]: f for f in export_config(session, "testco")["faq"]}
        assert exported["parking"]["location"] == "north"
        with pytest.raises(Refused, match="no brand, region or location"):
            faq_service.put(
                session, scope_of(session, "petra"), "x", PARKING.model_copy(update={"place": "mars"})
            )


def test_moving_an_approved_entry_to_another_place_needs_approval_again(container: Container) -> None:
    _approved(container, "parking", PARKING)
    with transaction(container.sessions) as session:
        moved = faq_service.put(
            session, scope_of(session, "petra"), "parking", PARKING.model_copy(update={"place": None})
        )
    assert moved.status == "draft" and moved.place is None


def test_a_sent_reply_carrying_an_answer_is_counted_once_per_entry(container: Container) -> None:
    _approved(container, "parking", PARKING)
    north_shop, south_shop = _place(container, "north-shop"), _place(container, "south-shop")
    with transaction(container.sessions) as session:
        org = scope_of(session, "sam").org_id
        persian = "سلام! پارکینگ رایگان پشت فروشگاه شمال، دو ساعت. خوش آمدید"
        assert faq_service.count_uses(session, org, north_shop, persian) == 1
        assert faq_service.count_uses(session, org, north_shop, "Hello, free parking!") == 0  # not the answer
        # Another place does not offer the entry: its replies do not count for it.
        assert faq_service.count_uses(session, org, south_shop, persian) == 0
    with container.sessions() as session:
        row = session.scalars(select(FaqEntry).where(FaqEntry.key == "parking")).one()
        assert row.usage_count == 1 and row.last_used_at is not None


def test_the_spreadsheet_round_trips_and_a_change_goes_back_to_draft(container: Container) -> None:
    _approved(container, "parking", PARKING)
    _approved(container, "formula", FaqIn(question="=1+1?", answer="=2, of course", language="en"))
    with transaction(container.sessions) as session:
        petra = scope_of(session, "petra")
        text = faq_service.export_csv(session, petra)
        entries = len(faq_service.list(session, petra))
        assert "'=1+1?" in text and "'=2, of course" in text  # no formula reaches a spreadsheet
        count = faq_service.import_csv(session, petra, text)
        assert (count.created, count.changed, count.unchanged) == (0, 0, entries)
        assert faq_service.get(session, petra, "formula").question == "=1+1?"
        changed = text.replace("two hours.", "three hours.")
        count = faq_service.import_csv(session, petra, changed)
        assert (count.created, count.changed, count.unchanged) == (0, 1, entries - 1)
        assert faq_service.get(session, petra, "parking").status == "draft"
        # An agent's file proposes a new entry: a draft.
        header = text.splitlines()[0]
        width = len(header.split(","))
        row = ["opening-times", "en", "When are you open?", "", "9 to 5"] + [""] * (width - 5)
        count = faq_service.import_csv(
            session, scope_of(session, "sam"), header + "\n" + ",".join(row) + "\n"
        )
        assert (count.created, count.changed, count.unchanged) == (1, 0, 0)
        assert faq_service.get(session, petra, "opening-times").status == "draft"


@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ("", "empty_file", 1),
        ("key,question\nx,y\n", "no_column", 1),
        ("key,language,question,answer_en\nok,en,Q?,A\nbad,en,,A\n", "empty", 3),
        ("key,language,question,answer_en\nok,en,Q?,\n", "empty", 2),
        ("key,language,question,answer_en,valid_from\nok,en,Q?,A,tomorrow\n", "date", 2),
        ("key,language,question,answer_en\nok,en,Q?,A\nok,en,Q2?,A2\n", "duplicate", 3),
        ("key,language,question,answer_en\nBad Key!,en,Q?,A\n", "invalid", 2),
        ("key,language,question,answer_en,place\nok,en,Q?,A,mars\n", "invalid", 2),
    ],
)
def test_a_bad_file_imports_nothing_and_says_where(
    container: Container, text: str, reason: str, line: int
) -> None:
    with transaction(container.sessions) as session:
        before = len(faq_service.list(session, scope_of(session, "petra")))
    with pytest.raises(Refused) as refused, transaction(container.sessions) as session:
        faq_service.import_csv(session, scope_of(session, "petra"), text)
    assert refused.value.key == f"faq_csv_{reason}" and refused.value.params["line"] == str(line)
    with container.sessions() as session:
        assert len(faq_service.list(session, scope_of(session, "petra"))) == before


def test_an_agent_may_not_change_an_approved_entry_by_file(container: Container) -> None:
    _approved(container, "parking", PARKING)
    with transaction(container.sessions) as session:
        text = faq_service.export_csv(session, scope_of(session, "sam"))
    with pytest.raises(Refused) as refused, transaction(container.sessions) as session:
        faq_service.import_csv(session, scope_of(session, "sam"), text.replace("two hours", "all day"))
    assert refused.value.key == "faq_csv_forbidden"


def test_csv_cells_keep_newlines_and_scripts() -> None:
    rows = [
        {
            "key": "k",
            "language": "th",
            "question": "เปิดกี่โมง",
            "variants": ["a", "ساعت کاری؟"],
            "answers": {"th": "9 โมง", "he": "ב-9"},
        }
    ]
    entries, problems = faq_csv.read(faq_csv.write(rows, ["en", "th"]))
    assert problems == []
    assert entries[0].variants == ["a", "ساعت کاری؟"] and entries[0].answers == {"th": "9 โมง", "he": "ב-9"}
