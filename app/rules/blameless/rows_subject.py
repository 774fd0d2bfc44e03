"""Blame table, part 1 of 3: a person as the subject of an omission, slip or cause.

The table is split in three modules only to keep each small; ``table.TABLE`` is ``rows_subject``,
``rows_phrases`` and ``rows_causes`` in that order. Order matters: when two rules match the same
span, the earlier rule's finding is kept (see ``detector._dedupe``), so add rules at the end of a
part rather than reorder them.
"""

from __future__ import annotations

from .advice import (
    COUNTERFACTUAL,
    FAULT,
    HINDSIGHT,
    IGNORED,
    JUDGEMENT,
    OMISSION,
    PERSON_CAUSE,
    SLIP,
)
from .checks import (
    no_reason_given,
    subject_ok,
)
from .rule import IB, PC, BlameRule
from .vocabulary import (
    CAUSE_VERB_WORDS,
    NEG_AUX_WORDS,
    OMISSION_WORDS,
    PERSON,
    PERSON_OR_THEY,
)

ROWS_SUBJECT: tuple[BlameRule, ...] = (
    # --- person subject + omission/slip ------------------------------------------------
    BlameRule(
        "blame.omission.failed_to",
        IB,
        r"{S}fail(?:ed|s)?\s+to\s+(?!be\b)\w+",
        needs=(PERSON, " fail | failed | fails ", " to "),
        advice=OMISSION,
        check=no_reason_given,
    ),
    BlameRule(
        "blame.omission.did_not",
        IB,
        r"{S_THEY}{NEG_AUX}\s+{ADV}{OMISSION_VERB}",
        needs=(PERSON_OR_THEY, NEG_AUX_WORDS, OMISSION_WORDS),
        advice=OMISSION,
        check=no_reason_given,
    ),
    BlameRule(
        "blame.ignored.person_subject",
        IB,
        (
            r"{S}(?:ignored|overlooked|missed|skipped|bypassed|disregarded|dismissed"
            r"|force-?merged|force-?pushed)\b"
        ),
        needs=(
            PERSON,
            (
                " ignored | overlooked | missed | skipped | bypassed | disregarded "
                "| dismissed | force | forcemerged | forcepushed "
            ),
        ),
        advice=IGNORED,
        check=subject_ok,
    ),
    BlameRule(
        "blame.hindsight.should_have",
        IB,
        (
            r"{S_THEY}(?:should|ought\s+to)(?:\s+(?:never|not)|n[’']t)?"
            r"(?:\s+have|[’']ve|\s+of)\s+"
            r"(?!(?:a|an|the|some|more|access|had|known)\b)"
            r"(?:been\s+(?:more\s+)?(?:careful|attentive|aware|faster|quicker)|(?!been\b)\w+)"
        ),
        needs=(PERSON_OR_THEY, " should| ought ", " have | ve | of "),
        advice=HINDSIGHT,
        check=subject_ok,
    ),
    BlameRule(
        "blame.slip.messed_up",
        IB,
        (
            r"{S_THEY}(?:(?:messed|screwed|fucked|mucked|effed)\s+(?:\w+\s+){0,3}?up\b"
            r"|botched|bungled|went\s+rogue|goofed|fumbled|blundered"
            r"|flubbed|slipped\s+up|slept\s+through|cut\s+corners"
            r"|made\s+(?:a\s+|an\s+)?(?:bad|poor|wrong|terrible|questionable|careless)\s+"
            r"(?:call|decision|choice|judge?ment)"
            r"|failed\s+(?:us|the\s+team|in\s+(?:his|her|their|my)\s+\w+))"
        ),
        needs=(
            PERSON_OR_THEY,
            (
                " messed | screwed | fucked | mucked | effed | botched| bungled| rogue"
                "| goofed| fumbled| blundered| flubbed| slipped | slept | corners"
                "| made | failed "
            ),
        ),
        advice=SLIP,
        check=subject_ok,
    ),
    BlameRule(
        "blame.slip.adverb",
        IB,
        (
            r"{S}(?:blindly|mistakenly|accidentally|inadvertently|incorrectly|wrongly"
            r"|erroneously|hastily)\s+\w+"
        ),
        needs=(
            PERSON,
            (
                " blindly | mistakenly | accidentally | inadvertently | incorrectly "
                "| wrongly | erroneously | hastily "
            ),
        ),
        advice=SLIP,
        check=subject_ok,
    ),
    BlameRule(
        "blame.judgement.too_slow",
        IB,
        r"{S}(?:was|were|is|are)\s+(?:way\s+|far\s+|much\s+)?too\s+slow",
        needs=(PERSON, " too ", " slow"),
        advice=JUDGEMENT,
        check=subject_ok,
    ),
    BlameRule(
        "blame.fault.person_at_fault",
        IB,
        (
            r"{S}(?:is|was|are|were)\s+(?:(?:solely|partly|partially|entirely|ultimately"
            r"|clearly|squarely)\s+)?(?:at\s+fault|to\s+blame)"
        ),
        needs=(PERSON, " fault| blame"),
        advice=FAULT,
        check=subject_ok,
    ),
    BlameRule(
        "blame.counterfactual.if_only",
        IB,
        (
            r"\bif\s+(?:only\s+)?{S_THEY}(?:had|[’']d)\s+(?!not\b|n[’']t)"
            r"(?:just\s+|only\s+|actually\s+)?\w+"
        ),
        needs=(" if ", PERSON_OR_THEY, " had | d "),
        advice=COUNTERFACTUAL,
        check=subject_ok,
    ),
    # --- person subject as cause ------------------------------------------------------
    BlameRule(
        "blame.cause.person_broke",
        PC,
        r"{S}{CAUSE_VERB}\b",
        needs=(PERSON, CAUSE_VERB_WORDS),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    # "because Nina restarted ...": a person's action offered as the reason.
    BlameRule(
        "blame.cause.because_person_did",
        PC,
        r"\bbecause\s+{S}(?!(?:was|were|is|had|has|did|could|would)\b)\w+ed\b",
        needs=(" because ", PERSON, "ed "),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    # "Ahmed deployed the wrong version": a slip framed around the person.
    BlameRule(
        "blame.slip.the_wrong",
        IB,
        r"{S}\w+\s+(?:the|a|an)\s+wrong\b",
        needs=(PERSON, " wrong "),
        advice=SLIP,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.person_responsible",
        PC,
        (
            r"{S}(?:is|was|are|were)\s+(?:(?:solely|directly|ultimately|fully|partly)\s+)?"
            r"(?:responsible\s+for\s+(?:the\s+|this\s+|our\s+)?{INCIDENT_NOUN}\b"
            r"|the\s+(?:root\s+)?cause\b|the\s+reason\b|behind\s+(?:the|this)\s+\w+)"
        ),
        needs=(PERSON, " responsible | cause | reason | behind "),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
)
