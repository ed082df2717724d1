from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from relaydesk.orgs.shifts import ShiftSchedule, is_on_shift, split_time_off, validate_shifts, with_time_off

NIGHT = [{"days": ["mon"], "start": "22:00", "end": "06:00"}]
OFFICE = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz), fold=fold)


# 2026-01-05 is a Monday.


def test_empty_shifts_mean_always_on() -> None:
    assert is_on_shift([], "UTC", utc(2026, 1, 10, 3))
    assert is_on_shift([], "UTC", utc(2026, 1, 10, 3), holidays=["2026-01-10"])


def test_office_hours_are_half_open() -> None:
    assert is_on_shift(OFFICE, "UTC", utc(2026, 1, 5, 9))
    assert is_on_shift(OFFICE, "UTC", utc(2026, 1, 5, 16, 59))
    assert not is_on_shift(OFFICE, "UTC", utc(2026, 1, 5, 17))
    assert not is_on_shift(OFFICE, "UTC", utc(2026, 1, 5, 8, 59))
    assert not is_on_shift(OFFICE, "UTC", utc(2026, 1, 10, 12))  # Saturday


def test_overnight_shift_belongs_to_the_day_it_starts() -> None:
    assert is_on_shift(NIGHT, "UTC", utc(2026, 1, 5, 22))  # Monday 22:00
    assert is_on_shift(NIGHT, "UTC", utc(2026, 1, 6, 3))  # Tuesday 03:00
    assert not is_on_shift(NIGHT, "UTC", utc(2026, 1, 6, 6))
    assert not is_on_shift(NIGHT, "UTC", utc(2026, 1, 5, 3))  # Monday 03:00: Sunday had no shift
    assert not is_on_shift(NIGHT, "UTC", utc(2026, 1, 6, 22))  # Tuesday night


def test_sunday_night_shift_wraps_into_monday() -> None:
    shifts = [{"days": ["sun"], "start": "20:00", "end": "04:00"}]
    assert is_on_shift(shifts, "UTC", utc(2026, 1, 5, 2))
    assert not is_on_shift(shifts, "UTC", utc(2026, 1, 6, 2))


def test_holiday_cancels_shifts_starting_that_day_only() -> None:
    # Holiday on Monday: the Monday night shift is off, also its Tuesday-morning part.
    assert not is_on_shift(NIGHT, "UTC", utc(2026, 1, 5, 23), holidays=["2026-01-05"])
    assert not is_on_shift(NIGHT, "UTC", utc(2026, 1, 6, 3), holidays=["2026-01-05"])
    # Holiday on Tuesday: the shift started on Monday still runs into Tuesday.
    assert is_on_shift(NIGHT, "UTC", utc(2026, 1, 6, 3), holidays=["2026-01-06"])


def test_times_are_read_in_the_agents_zone() -> None:
    # 09:00 in Bangkok (UTC+7) is 02:00 UTC.
    assert is_on_shift(OFFICE, "Asia/Bangkok", utc(2026, 1, 5, 2))
    assert not is_on_shift(OFFICE, "Asia/Bangkok", utc(2026, 1, 5, 10))
    # Holiday dates are local: 2026-01-05 in Bangkok starts at 2026-01-04 17:00 UTC.
    assert not is_on_shift(OFFICE, "Asia/Bangkok", utc(2026, 1, 5, 2), holidays=["2026-01-05"])


def test_end_of_day_and_equal_times() -> None:
    evening = [{"days": ["mon"], "start": "18:00", "end": "24:00"}]
    assert is_on_shift(evening, "UTC", utc(2026, 1, 5, 23, 59))
    assert not is_on_shift(evening, "UTC", utc(2026, 1, 6, 0))
    full_day = [{"days": ["mon"], "start": "08:00", "end": "08:00"}]
    assert is_on_shift(full_day, "UTC", utc(2026, 1, 6, 7, 59))
    assert not is_on_shift(full_day, "UTC", utc(2026, 1, 6, 8))


def test_several_shifts_any_matches() -> None:
    split = [
        {"days": ["sat"], "start": "10:00", "end": "14:00"},
        {"days": ["sat"], "start": "15:00", "end": "18:00"},
    ]
    assert is_on_shift(split, "UTC", utc(2026, 1, 10, 11))
    assert not is_on_shift(split, "UTC", utc(2026, 1, 10, 14, 30))
    assert is_on_shift(split, "UTC", utc(2026, 1, 10, 15))


NY = "America/New_York"


def test_night_shift_across_spring_forward_is_shorter() -> None:
    shifts = [{"days": ["sat"], "start": "22:00", "end": "06:00"}]
    assert is_on_shift(shifts, NY, local(NY, 2026, 3, 8, 5, 59))
    assert not is_on_shift(shifts, NY, local(NY, 2026, 3, 8, 6))
    assert is_on_shift(shifts, NY, utc(2026, 3, 8, 7))  # the instant of the jump, 03:00 EDT


def test_night_shift_across_fall_back_covers_the_repeated_hour() -> None:
    shifts = [{"days": ["sat"], "start": "22:00", "end": "06:00"}]
    assert is_on_shift(shifts, NY, local(NY, 2026, 11, 1, 1, 30, fold=0))
    assert is_on_shift(shifts, NY, local(NY, 2026, 11, 1, 1, 30, fold=1))
    assert is_on_shift(shifts, NY, local(NY, 2026, 11, 1, 5, 59))
    assert not is_on_shift(shifts, NY, local(NY, 2026, 11, 1, 6))


def test_shift_starting_in_the_gap_starts_at_the_jump() -> None:
    shifts = [{"days": ["sun"], "start": "02:30", "end": "05:00"}]
    assert not is_on_shift(shifts, NY, utc(2026, 3, 8, 6, 59))
    assert is_on_shift(shifts, NY, utc(2026, 3, 8, 7))


def test_schedule_object_can_be_reused() -> None:
    schedule = ShiftSchedule.from_config(NIGHT, "Europe/London", ["2026-01-12"])
    assert schedule.is_on_shift(utc(2026, 1, 5, 23))
    assert not schedule.is_on_shift(utc(2026, 1, 12, 23))


# --- validation -----------------------------------------------------------------------------------


def test_valid_shifts_have_no_problems() -> None:
    assert validate_shifts(NIGHT + OFFICE) == []
    assert validate_shifts([]) == []
    assert validate_shifts(None) == []


@pytest.mark.parametrize(
    ("shifts", "problem"),
    [
        ({"days": ["mon"]}, "shifts must be a list"),
        ("mon 09:00-17:00", "shifts must be a list"),
        (["09:00-17:00"], "shift 1: expected an object"),
        ([{"start": "09:00", "end": "17:00"}], "shift 1: 'days' is missing"),
        ([{"days": [], "start": "09:00", "end": "17:00"}], "shift 1: 'days' is empty"),
        ([{"days": "mon", "start": "09:00", "end": "17:00"}], "shift 1: 'days' must be a list"),
        ([{"days": ["monday"], "start": "09:00", "end": "17:00"}], "shift 1: 'monday' is not a day key"),
        ([{"days": ["mon"], "end": "17:00"}], "shift 1: 'start' is missing"),
        ([{"days": ["mon"], "start": "24:00", "end": "02:00"}], "shift 1: start '24:00' is not a time"),
        ([{"days": ["mon"], "start": "09:00", "end": "5pm"}], "shift 1: end '5pm' is not a time"),
        ([{"days": ["mon"], "start": "09:00", "ends": "17:00"}], "shift 1: unknown field 'ends'"),
    ],
)
def test_problems_are_human_readable(shifts: object, problem: str) -> None:
    problems = validate_shifts(shifts)
    assert any(problem in text for text in problems), problems


def test_every_problem_is_reported_with_its_shift_number() -> None:
    problems = validate_shifts(
        [
            {"days": ["mon"], "start": "09:00", "end": "17:00"},
            {"days": ["xyz"], "start": "25:00", "end": "17:00"},
        ]
    )
    assert len(problems) == 2
    assert all(text.startswith("shift 2: ") for text in problems)


def test_is_on_shift_raises_on_invalid_config() -> None:
    with pytest.raises(ValueError, match="shift 1: 'funday' is not a day key"):
        is_on_shift([{"days": ["funday"], "start": "09:00", "end": "17:00"}], "UTC", utc(2026, 1, 5))
    with pytest.raises(ValueError, match="unknown time zone"):
        is_on_shift(OFFICE, "Nowhere/City", utc(2026, 1, 5))
    with pytest.raises(ValueError, match=r"holidays\[0\]"):
        is_on_shift(OFFICE, "UTC", utc(2026, 1, 5), holidays=["05/01/2026"])
    with pytest.raises(ValueError, match="timezone-aware"):
        is_on_shift(OFFICE, "UTC", datetime(2026, 1, 5, 10))


# --- personal time off ----------------------------------------------------------------------------


def off(*days: str) -> dict[str, object]:
    return {"time_off": list(days)}


def test_time_off_takes_an_always_on_agent_off_for_the_whole_local_day() -> None:
    # No listed shifts: on every day except the day off, which runs 00:00-24:00 in the agent's zone.
    assert is_on_shift([off("2026-01-05")], "UTC", utc(2026, 1, 4, 23, 59))
    assert not is_on_shift([off("2026-01-05")], "UTC", utc(2026, 1, 5, 0))
    assert not is_on_shift([off("2026-01-05")], "UTC", utc(2026, 1, 5, 23, 59))
    assert is_on_shift([off("2026-01-05")], "UTC", utc(2026, 1, 6, 0))


def test_time_off_is_local_to_the_agents_zone() -> None:
    # 2026-01-05 in Bangkok (UTC+7) runs from 2026-01-04 17:00 to 2026-01-05 17:00 UTC.
    assert is_on_shift([off("2026-01-05")], "Asia/Bangkok", utc(2026, 1, 4, 16, 59))
    assert not is_on_shift([off("2026-01-05")], "Asia/Bangkok", utc(2026, 1, 4, 17))
    assert not is_on_shift([off("2026-01-05")], "Asia/Bangkok", utc(2026, 1, 5, 16, 59))
    assert is_on_shift([off("2026-01-05")], "Asia/Bangkok", utc(2026, 1, 5, 17))
    # The same UTC instant is still 2026-01-04 in New York: not a day off there.
    assert is_on_shift([off("2026-01-05")], NY, utc(2026, 1, 4, 17))


def test_time_off_cancels_shifts_starting_that_day_like_a_holiday() -> None:
    assert not is_on_shift([*OFFICE, off("2026-01-05")], "UTC", utc(2026, 1, 5, 10))
    assert is_on_shift([*OFFICE, off("2026-01-05")], "UTC", utc(2026, 1, 6, 10))
    # Monday off: the Monday-night shift is cancelled, its Tuesday-morning part too.
    assert not is_on_shift([*NIGHT, off("2026-01-05")], "UTC", utc(2026, 1, 5, 23))
    assert not is_on_shift([*NIGHT, off("2026-01-05")], "UTC", utc(2026, 1, 6, 3))
    # Tuesday off: the shift that started on Monday still runs past midnight.
    assert is_on_shift([*NIGHT, off("2026-01-06")], "UTC", utc(2026, 1, 6, 3))


def test_time_off_on_the_night_of_a_dst_change() -> None:
    shifts = [{"days": ["sat"], "start": "22:00", "end": "06:00"}, off("2026-03-07")]
    # Saturday 2026-03-07 off: nothing of the night spanning the spring-forward jump is worked.
    assert not is_on_shift(shifts, NY, local(NY, 2026, 3, 7, 23))
    assert not is_on_shift(shifts, NY, utc(2026, 3, 8, 7))  # 03:00 EDT, right after the jump
    # The fall-back night, day off on the Sunday the hour repeats: the Saturday shift still runs.
    fall = [{"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}, off("2026-11-01")]
    assert is_on_shift(fall, NY, local(NY, 2026, 11, 1, 1, 30, fold=1))
    assert is_on_shift(fall, NY, local(NY, 2026, 11, 1, 5, 59))
    assert not is_on_shift(fall, NY, local(NY, 2026, 11, 1, 23))  # Sunday's own shift is off


def test_time_off_and_location_holidays_combine() -> None:
    schedule = ShiftSchedule.from_config([*OFFICE, off("2026-01-06")], "Europe/London", ["2026-01-05"])
    assert not schedule.is_on_shift(utc(2026, 1, 5, 10))  # the holiday
    assert not schedule.is_on_shift(utc(2026, 1, 6, 10))  # the personal day off
    assert schedule.is_on_shift(utc(2026, 1, 7, 10))
    assert schedule.time_off == frozenset({date(2026, 1, 6)})


def test_time_off_entries_split_and_rebuild() -> None:
    stored = with_time_off(OFFICE, ["2026-01-06", "2026-01-05", "2026-01-06"])
    assert stored[-1] == {"time_off": ["2026-01-05", "2026-01-06"]}
    assert split_time_off(stored) == (OFFICE, ["2026-01-05", "2026-01-06"])
    assert with_time_off(OFFICE, []) == OFFICE


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (off("someday"), "shift 2: time_off[0]: 'someday' is not an ISO date"),
        ({"time_off": "2026-01-05"}, "shift 2: time_off must be a list of ISO dates"),
        ({"time_off": ["2026-01-05"], "days": ["mon"]}, "shift 2: unknown field 'days' next to 'time_off'"),
    ],
)
def test_bad_time_off_is_explained(entry: dict[str, object], problem: str) -> None:
    problems = validate_shifts([*OFFICE, entry])
    assert any(p.startswith(problem) for p in problems), problems
    with pytest.raises(ValueError, match="invalid shifts"):
        is_on_shift([*OFFICE, entry], "UTC", utc(2026, 1, 5, 10))
