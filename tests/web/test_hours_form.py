"""The schedule form's answer as `weekly` and `holidays`, each mistake beside its field."""

from __future__ import annotations

from relaydesk.web.hours_form import from_answer, summary, to_form


def answer(**fields: str):  # type: ignore[no-untyped-def]
    return from_answer(lambda name: fields.get(name, ""))


def test_days_become_ranges_and_an_empty_day_is_closed() -> None:
    _form, weekly, holidays, problems = answer(
        day_mon="9:00-12:00, 13:00 – 17:00",
        day_fri="22:00-06:00",
        holidays="2026-12-25, 2026-01-01\n2026-12-25",
    )
    assert problems == {}
    assert weekly == {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "fri": [["22:00", "06:00"]]}
    assert holidays == ["2026-01-01", "2026-12-25"]


def test_around_the_clock_is_an_empty_week() -> None:
    _form, weekly, _h, problems = answer(always="1", day_mon="nonsense")
    assert weekly == {} and problems == {}


def test_mistakes_are_named_by_field_and_the_typed_text_is_kept() -> None:
    form, _weekly, _h, problems = answer(day_tue="9-5", day_wed="10:00-25:00", holidays="25/12/2026")
    assert set(problems) == {"day_tue", "day_wed", "holidays"}
    assert form.days["tue"] == "9-5" and form.holidays == "25/12/2026"
    _f, _w, _h, closed = answer()
    assert set(closed) == {"always"}  # never open is refused, not stored


def test_a_schedule_round_trips_through_the_form() -> None:
    weekly = {"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"], ["15:00", "16:00"]]}
    form = to_form(weekly, ["2026-12-25"])
    fields = {f"day_{d}": v for d, v in form.days.items()} | {"holidays": form.holidays}
    _form, again, holidays, problems = answer(**fields)
    assert again == weekly and holidays == ["2026-12-25"] and not problems
    assert summary({})[0][1] == "open around the clock"
    assert ("Tuesday", "closed") in summary(weekly)
