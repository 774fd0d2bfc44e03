"""Sentence splitting for the blame detector: wrapped lines are one sentence, blocks stay apart,
and every offset points into the original text."""

from __future__ import annotations

import pytest

from app.rules.blameless import detect
from app.rules.blameless.sentences import sentences


def _texts(text: str) -> list[str]:
    found = sentences(text)
    for s in found:
        assert text[s.start : s.end] == s.text
    return [s.text for s in found]


def test_a_wrapped_paragraph_is_joined_before_it_is_split() -> None:
    text = (
        "On Black Friday the orders-db primary\nrebooted after a memory error. Escalation\n"
        "took 36 minutes."
    )
    assert _texts(text) == [
        "On Black Friday the orders-db primary\nrebooted after a memory error.",
        "Escalation\ntook 36 minutes.",
    ]


def test_a_blank_line_ends_a_paragraph_even_without_a_full_stop() -> None:
    assert _texts("the first paragraph\n\nthe second one\n") == [
        "the first paragraph",
        "the second one",
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("- one item\n- another item", ["one item", "another item"]),
        ("* starred\n+ plussed\n\u2022 bulleted", ["starred", "plussed", "bulleted"]),
        ("1. first step\n2) second step", ["first step", "second step"]),
        ("## Causes\nThe job ran twice", ["## Causes", "The job ran twice"]),
        ("| 14:02 | paged |\n| 14:05 | acked |", ["| 14:02 | paged |", "| 14:05 | acked |"]),
        ("14:02 alert fires\n14:05 on-call acks", ["14:02 alert fires", "14:05 on-call acks"]),
        ("2026-03-09 feed drops\n**13:41** gap", ["2026-03-09 feed drops", "**13:41** gap"]),
        ("```\nrm -rf /tmp/x\n```", ["```", "rm -rf /tmp/x", "```"]),
    ],
)
def test_blocks_are_their_own_units(text: str, want: list[str]) -> None:
    assert _texts(text) == want


def test_a_list_item_takes_its_wrapped_continuation() -> None:
    text = (
        "- The restore report was not on the\n  change-freeze checklist. So nobody saw it.\n- Next"
    )
    assert _texts(text) == [
        "The restore report was not on the\n  change-freeze checklist.",
        "So nobody saw it.",
        "Next",
    ]


def test_a_timeline_line_takes_its_wrapped_continuation() -> None:
    assert _texts("14:02 Kenji pages the DBA\n   and waits\n14:09 DBA acks") == [
        "14:02 Kenji pages the DBA\n   and waits",
        "14:09 DBA acks",
    ]


def test_abbreviations_and_versions_do_not_end_a_sentence() -> None:
    assert _texts("Pin e.g. v1.2 of the client. Then retry.") == [
        "Pin e.g. v1.2 of the client.",
        "Then retry.",
    ]


def test_windows_line_ends_and_empty_text() -> None:
    assert _texts("one line\r\nwraps here.\r\n\r\nNext") == ["one line\r\nwraps here.", "Next"]
    assert sentences("") == [] and sentences("\n \n") == []


def test_a_phrase_found_in_a_wrapped_sentence_points_into_the_original() -> None:
    text = (
        "Summary line one.\n\nThe on-call engineer was careless and\nrestarted the wrong cluster."
    )
    [m] = detect(text)
    assert text[m.start : m.end] == m.phrase
    assert m.start > text.index("\n\n")


def test_a_wrapped_sentence_is_judged_as_the_sentence_it_is() -> None:
    # Line by line, each piece would be scored as a fragment of its own; joined, the model sees
    # the one sentence, and a blameful sentence wrapped anywhere is still found whole.
    joined = "The contractor was careless and pushed the untested firewall change to every site."
    wrapped = joined.replace(" and", "\nand").replace(" firewall", "\n  firewall")
    assert [s.text.split() for s in sentences(wrapped)] == [joined.split()]
    [m] = detect(wrapped)
    [n] = detect(joined)
    assert (m.kind, m.start, m.end) == (n.kind, n.start, n.end)
    assert wrapped[m.start : m.end] == m.phrase
