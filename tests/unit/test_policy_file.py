"""policy.yaml parsing: defaults, and errors that name the line and the key."""

from __future__ import annotations

import textwrap

import pytest

from app.rules.policy import Policy, PolicyError, parse_policy
from app.settings import SettingsError


def _error(text: str) -> str:
    with pytest.raises(PolicyError) as info:
        parse_policy(textwrap.dedent(text), "config/policy.yaml")
    return str(info.value)


def test_empty_file_means_defaults() -> None:
    assert parse_policy("") == Policy()
    assert parse_policy("# only comments\n") == Policy()
    assert Policy().deadlines.max_days == {"P0": 7, "P1": 30, "P2": 90, "P3": 180}


def test_values_are_read() -> None:
    policy = parse_policy(
        "deadlines:\n  stale_after_days: 3\nownership:\n  assign_default_owner: true\n"
    )
    assert policy.deadlines.stale_after_days == 3 and policy.ownership.assign_default_owner


def test_unknown_key_names_its_line() -> None:
    message = _error("""\
        version: 1
        ownership:
          require_catalog_owner: true
          assign_defualt_owner: true
        """)
    assert "config/policy.yaml:4: ownership.assign_defualt_owner: Extra inputs" in message


def test_wrong_type_names_the_nested_key() -> None:
    message = _error("""\
        deadlines:
          max_days:
            P0: 7
            P1: soon
            P2: 90
            P3: 180
        """)
    assert "config/policy.yaml:4: deadlines.max_days.P1:" in message


def test_unknown_priority_key_names_its_line() -> None:
    assert "config/policy.yaml:2: deadlines.max_days.P5:" in _error(
        "deadlines:\n  max_days: {P0: 7, P1: 30, P2: 90, P3: 180, P5: 1}\n"
    )


def test_missing_priority_is_an_error_not_a_silent_default() -> None:
    message = _error("deadlines:\n  max_days: {P0: 7, P1: 30}\n")
    assert "config/policy.yaml:2: deadlines.max_days:" in message and "P2, P3" in message


def test_list_items_are_located() -> None:
    message = _error("""\
        deadlines:
          escalation:
            - {after_days: 0, to: owner}
            - {after_days: 5, to: ceo}
        """)
    assert "config/policy.yaml:4: deadlines.escalation.1.to:" in message


def test_obligation_needs_exactly_one_window() -> None:
    message = _error("""\
        compliance:
          obligations:
            gdpr:
              - id: gdpr.authority
                title: Notify
                within_days: 3
                within_hours: 72
                success_criteria: done
                validation_method: checked
        """)
    assert "config/policy.yaml:4: compliance.obligations.gdpr.0:" in message
    assert "exactly one of within_days or within_hours" in message


def test_unknown_rule_override_names_its_line() -> None:
    message = _error(
        "rules:\n  deadlines.overdue: {severity: blocker}\n  deadlines.late: {enabled: false}\n"
    )
    assert "config/policy.yaml:3: rules.deadlines.late:" in message


def test_bad_severity_and_falling_bands() -> None:
    assert "config/policy.yaml:2: rules.deadlines.overdue.severity:" in _error(
        "rules:\n  deadlines.overdue: {severity: fatal}\n"
    )
    assert "bands must fall strictly" in _error(
        "scoring:\n  bands: {P0: 10, P1: 60, P2: 35, P3: 0}\n"
    )


def test_yaml_syntax_error_names_its_line() -> None:
    assert _error("version: 1\nrules: [\n").startswith("config/policy.yaml:3: not valid YAML")


def test_several_problems_are_all_reported() -> None:
    message = _error("version: 2\nscoring:\n  window_days: 0\n")
    assert "config/policy.yaml:1: version:" in message
    assert "config/policy.yaml:3: scoring.window_days:" in message


def test_policy_error_is_a_settings_error_so_the_cli_reports_it_cleanly() -> None:
    assert issubclass(PolicyError, SettingsError)


def test_digest_follows_content() -> None:
    assert Policy().digest == parse_policy("version: 1\n").digest
    assert Policy().digest != parse_policy("deadlines: {stale_after_days: 3}\n").digest
