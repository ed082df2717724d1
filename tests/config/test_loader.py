"""Validation of relaydesk.yaml: every problem, with its file, line, column and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from relaydesk.config.loader import (
    DEMO_CONFIG_PATH,
    ConfigProblem,
    LoadResult,
    load_config,
    load_config_text,
    load_demo_config,
)

REPO = Path(__file__).resolve().parents[2]

BASE = """\
organization: {key: acme, name: Acme Coffee, timezone: Asia/Tehran}
business_hours:
  - {key: office, name: Office, weekly: {sat: [["09:00", "17:00"]]}, holidays: ["2026-03-21"]}
locations:
  - key: acme
    kind: brand
    name: Acme
    children:
      - {key: vanak, kind: location, name: Vanak, business_hours: office}
agencies:
  - {key: socialco, name: SocialCo, contract: {first_response_minutes: 15, intents: [question]}}
departments:
  - {key: service, name: Service, default: true}
  - {key: sales, name: Sales}
agents:
  - {email: owner@acme.example, name: Owner, role: owner, departments: [service]}
  - email: sara@acme.example
    name: Sara
    departments: [service, sales]
    shifts: [{days: [sat], start: "09:00", end: "17:00"}]
accounts:
  - {key: acme-ig, network: instagram, handle: "@acme", location: acme, credentials: {token: "${ACME_TOKEN}"}}
intents:
  - {name: refund_request, department: service, examples: [money back please]}
  - {name: question}
  - {name: purchase_interest, department: sales}
routing_rules:
  - {name: leads, when: {intent: [purchase_interest]}, then: {department: sales, priority: high}}
sla_policies:
  - {name: default, first_response_minutes: 60}
guidelines:
  - {name: no-guarantees, kind: banned_phrase, params: {phrases: [we guarantee]}}
faq:
  - {key: hours, question: When?, answer: Always.}
"""

ENV = {"ACME_TOKEN": "secret-token"}
SARA = """\
  - email: sara@acme.example
    name: Sara
    departments: [service, sales]
    shifts: [{days: [sat], start: "09:00", end: "17:00"}]
"""
assert SARA in BASE


def load(text: str, env: dict[str, str] | None = None) -> LoadResult:
    return load_config_text(textwrap.dedent(text), "relaydesk.yaml", env=ENV if env is None else env)


def only(result: LoadResult, field: str) -> ConfigProblem:
    found = [p for p in result.problems if p.field == field]
    assert len(found) == 1, [str(p) for p in result.problems]
    return found[0]


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_valid_file_has_no_problems() -> None:
    result = load(BASE)
    assert result.problems == []
    assert result.config is not None
    assert result.config.organization.key == "acme"
    # The handle defaults to the email's local part; times and dates are normalised.
    assert [a.handle for a in result.config.agents] == ["owner", "sara"]
    assert result.config.business_hours[0].holidays[0].isoformat() == "2026-03-21"


def test_unknown_department_reports_file_line_column_and_field() -> None:
    text = BASE.replace("departments: [service, sales]", "departments: [service, salez]")
    result = load(text)
    assert result.config is None
    problem = only(result, "agents[1].departments[1]")
    assert problem.line == line_of(text, "salez")
    assert problem.column == text.splitlines()[problem.line - 1].index("salez") + 1
    assert str(problem) == (
        f"relaydesk.yaml:{problem.line}:{problem.column}: agents[1].departments[1]: "
        "unknown department 'salez' (did you mean 'sales'? known: sales, service)"
    )


def test_every_problem_in_one_file_is_reported() -> None:
    text = (
        BASE.replace("timezone: Asia/Tehran}", "timezone: Asia/Teheran}")
        .replace("{email: owner@acme.example, name: Owner,", "{email: owner@acme.example, nmae: Owner,")
        .replace("departments: [service, sales]", "departments: [service, salez]")
        .replace("network: instagram", "network: myspace")
        .replace("then: {department: sales,", "then: {department: marketing,")
        .replace("business_hours: office}", "business_hours: ofice}")
        .replace('start: "09:00"', 'start: "9am"')
    )
    result = load(text)
    fields = {p.field: p for p in result.errors}
    assert result.config is None
    assert fields["organization.timezone"].message.startswith("unknown time zone 'Asia/Teheran'")
    assert "did you mean 'Asia/Tehran'" in fields["organization.timezone"].message
    assert fields["agents[0].nmae"].message == "unknown field 'nmae' (did you mean 'name'?)"
    assert fields["agents[0].name"].message == "required field is missing"
    assert "salez" in fields["agents[1].departments[1]"].message
    assert fields["agents[1].shifts[0].start"].line == line_of(text, "9am")
    assert "myspace" in fields["accounts[0].network"].message
    assert "marketing" in fields["routing_rules[0].then.department"].message
    assert "ofice" in fields["locations[0].children[0].business_hours"].message
    # Problems come sorted by position, so the output reads top to bottom.
    assert [p.line for p in result.problems] == sorted(p.line for p in result.problems)
    for problem in result.errors:
        assert problem.line > 0, problem


def test_yaml_syntax_error_reports_its_line() -> None:
    text = BASE.replace("  - {key: sales, name: Sales}", "  - {key: sales, name: Sales")
    result = load(text)
    assert result.config is None
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.message.startswith("YAML syntax error")
    # The parser notices the unclosed mapping on the next line.
    assert problem.line in (line_of(text, "key: sales"), line_of(text, "key: sales") + 1)
    assert str(problem).startswith(f"relaydesk.yaml:{problem.line}:")


def test_duplicate_yaml_key_is_a_syntax_problem() -> None:
    result = load(BASE + "faq: []\n")
    assert result.config is None
    assert "duplicate key" in result.problems[0].message


def test_missing_environment_variable_is_an_error() -> None:
    result = load(BASE, env={})
    problem = only(result, "accounts[0].credentials.token")
    assert problem.severity == "error"
    assert problem.message == "environment variable ACME_TOKEN is not set"
    assert problem.line == line_of(BASE, "ACME_TOKEN")
    assert "secret-token" not in str(result.problems)


def test_cross_reference_and_duplicate_checks() -> None:
    text = (
        BASE.replace("  - {key: sales, name: Sales}", "  - {key: sales, name: Sales, default: true}")
        .replace(
            "  - {name: refund_request,",
            "  - {name: refund_request, department: nowhere, examples: [x]}\n  - {name: refund_request,",
        )
        .replace(
            SARA,
            "  - {email: sara@acme.example, name: Sara}\n"
            "  - {email: SARA@acme.example, name: Sara two, handle: sara, agency: nope, location: mars}\n",
        )
        .replace(
            "  - {name: no-guarantees,",
            "  - {name: loyalty_ask, kind: banned_phrase, params: {}}\n  - {name: no-guarantees,",
        )
        + "  - {key: hours, question: Again?, answer: Yes.}\n"
    )
    result = load(text)
    messages = {p.field: p.message for p in result.errors}
    assert (
        messages["departments[1].default"] == "only one department can be the default ('service' already is)"
    )
    assert messages["intents[0].department"].startswith("unknown department 'nowhere'")
    assert messages["intents[1].name"] == "duplicate intent name 'refund_request' (first used by intents[0])"
    assert messages["agents[2].email"] == "duplicate email 'sara@acme.example' (first used by agents[1])"
    assert messages["agents[2].handle"].startswith("duplicate handle 'sara'")
    assert messages["agents[2].agency"].startswith("unknown agency 'nope'")
    assert messages["agents[2].location"].startswith("unknown location 'mars'")
    assert messages["guidelines[0].params.phrases"] == (
        "banned_phrase: write at least one phrase, one per line"
    )
    assert messages["faq[1].key"].startswith("duplicate FAQ key 'hours'")


def test_schedules_shifts_and_time_zones() -> None:
    text = (
        BASE.replace(
            'weekly: {sat: [["09:00", "17:00"]]}', 'weekly: {sat: [["09:00", "25:00"]], someday: []}'
        )
        .replace('holidays: ["2026-03-21"]', 'holidays: ["2026-02-30"]')
        .replace("days: [sat]", "days: [saturday]")
        .replace("name: Vanak,", "name: Vanak, timezone: Mars/Olympus,")
    )
    result = load(text)
    fields = {p.field for p in result.errors}
    assert "business_hours[0].weekly.sat[0][1]" in fields
    assert "business_hours[0].weekly.someday" in fields
    assert "business_hours[0].holidays[0]" in fields
    assert "agents[1].shifts[0].days[0]" in fields
    assert "locations[0].children[0].timezone" in fields
    bad_day = only(result, "business_hours[0].weekly.someday")
    assert bad_day.line == line_of(text, "someday")


def test_intent_without_examples_and_unknown_account_network() -> None:
    text = BASE.replace("examples: [money back please]", "examples: []").replace(
        "network: instagram", "network: instagramm"
    )
    result = load(text)
    assert (
        only(result, "intents[0].examples").message
        == "intent 'refund_request' needs at least one example phrase"
    )
    network = only(result, "accounts[0].network")
    assert "'instagramm'" in network.message and "instagram" in network.message
    # A built-in intent listed only to choose its department needs no examples.
    assert load(
        BASE.replace("name: refund_request", "name: complaint").replace("[money back please]", "[]")
    ).ok


def test_default_department_missing_is_a_warning() -> None:
    result = load(BASE.replace(", default: true}", "}"))
    assert result.config is not None
    warning = only(result, "departments")
    assert warning.severity == "warning"
    assert "'service'" in warning.message
    assert result.config.default_department() is not None
    assert result.config.default_department().key == "service"  # type: ignore[union-attr]


def test_plain_password_is_warned_about_except_in_the_demo() -> None:
    text = BASE.replace("name: Owner, role: owner,", "name: Owner, role: owner, password: hunter2,")
    result = load(text)
    assert result.config is not None
    warning = only(result, "agents[0].password")
    assert warning.severity == "warning"
    assert "hunter2" not in str(warning)
    assert "hunter2" not in repr(result.config)
    allowed = load_config_text(text, "demo.yaml", env=ENV, allow_plain_passwords=True)
    assert allowed.problems == []


def test_routing_rule_problems_point_into_the_rule() -> None:
    text = BASE.replace("when: {intent: [purchase_interest]}", "when: {intnt: [purchase_interest]}")
    result = load(text)
    problem = only(result, "routing_rules[0].when.intnt")
    assert problem.line == line_of(text, "intnt")


def test_builtin_intents_outside_an_orgs_own_vocabulary_are_warned_about() -> None:
    # The org teaches refund_request by example, so its list is the whole vocabulary: a rule or
    # an agency remit naming a built-in intent it does not list would never match.
    text = BASE.replace("  - {name: question}\n", "").replace(
        "when: {intent: [purchase_interest]}", "when: {intent: [purchase_interest, complaint, spam]}"
    )
    result = load(text)
    assert result.config is not None  # still valid: the names exist, they just never match
    warned = {(p.field, p.message.split("'")[1]) for p in result.warnings}
    assert warned == {
        ("agencies[0].contract.intents[0]", "question"),
        ("routing_rules[0].when.intent", "complaint"),
    }
    assert all("not one of this organisation's intents" in p.message for p in result.warnings)
    # a made-up name is still an error; spam and crisis are signals every rule may name
    bad = load(BASE.replace("intent: [purchase_interest]", "intent: [purchse_interest]"))
    assert bad.config is None and "unknown intent 'purchse_interest'" in str(bad.problems[0])
    # an org listing built-in intents only (for departments) keeps all built-ins
    builtins_only = BASE.replace(
        "  - {name: refund_request, department: service, examples: [money back please]}\n", ""
    )
    assert load(builtins_only.replace("  - {name: question}\n", "")).problems == []


def test_unknown_section_and_wrong_shapes() -> None:
    result = load(BASE + "agentz: []\n")
    assert only(result, "agentz").message == "unknown section 'agentz' (did you mean 'agents'?)"
    result = load("organization: {key: Acme!, name: ''}\nagents: {}\n")
    fields = {p.field for p in result.errors}
    assert {"organization.key", "organization.name", "agents"} <= fields
    assert load("").problems[0].message == "the file is empty"
    assert load("- a\n- b\n").problems[0].message.startswith("the file must be a mapping")


def test_load_config_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "relaydesk.yaml"
    path.write_text(BASE.replace("[service, sales]", "[service, salez]"), encoding="utf-8")
    result = load_config(path, env=ENV)
    assert str(result.problems[0]).startswith(f"{path}:")
    missing = load_config(tmp_path / "nope.yaml")
    assert missing.config is None and "cannot read" in missing.problems[0].message


def test_demo_file_validates_with_no_problems() -> None:
    result = load_demo_config()
    assert [str(p) for p in result.problems] == []
    config = result.config
    assert config is not None
    zones = {node.node.timezone for node in config.walk_locations()}
    assert {"Asia/Tehran", "Asia/Dubai", "Asia/Jerusalem", "Asia/Bangkok", "Europe/London"} <= zones
    assert {a.network.value for a in config.accounts} >= {
        "instagram",
        "facebook",
        "whatsapp",
        "x",
        "telegram",
        "line",
        "email",
        "webchat",
        "generic",
    }
    assert sum(a.role == "owner" for a in config.agents) == 1
    assert any(s.end <= s.start for a in config.agents for s in a.shifts)  # a night shift
    assert load_config(DEMO_CONFIG_PATH).problems == []  # clear passwords are fine in the demo


@pytest.mark.parametrize("name", ["relaydesk.example.yaml"])
def test_example_file_validates_once_its_variables_are_set(name: str) -> None:
    env = {
        "ACME_IG_TOKEN": "t",
        "META_APP_SECRET": "s",
        "SARA_PASSWORD": "p",
        "ACME_OWNER_PASSWORD": "o",
        "PR_DESK_WEBHOOK": "https://hooks.example/pr",
    }
    result = load_config(REPO / name, env=env)
    assert [str(p) for p in result.problems] == []
