"""Blame table, second part: possessives, passives, a person named as the cause, human error.

Follows ``rows_phrases`` in ``table.TABLE`` (order matters, see ``rows_subject``).
"""

from __future__ import annotations

from .advice import (
    CAUSE_MENTION,
    FAULT,
    HUMAN_ERROR,
    IGNORED,
    PERSON_CAUSE,
)
from .checks import (
    human_error_ok,
    subject_ok,
)
from .prefilter import NAME
from .rule import HE, IB, PC, BlameRule
from .vocabulary import (
    ACTOR,
    ARTIFACT_WORDS,
    HE_TERM_WORDS,
    OBJECT,
    OWNER,
)

ROWS_CAUSES: tuple[BlameRule, ...] = (
    # --- possessive blame ------------------------------------------------------------
    BlameRule(
        "blame.fault.possessive",
        IB,
        (
            r"\b(?!(?:nobody|noone|no-one)\b)[\w@-]+(?:[’']s|[’'](?=\s))\s+(?:own\s+)?"
            r"(?:fault(?!\s+(?:detect\w*|toleran\w*|domain|injection|line|handl\w*|code"
            r"|isolation|led))|mistake|carelessness|negligence|blunder|screw-?up|sloppiness"
            r"|incompetence|laziness|oversight)s?\b"
        ),
        needs=(
            (
                " fault| mistake| carelessness| negligence| blunder| screw| sloppiness"
                "| incompetence| laziness| oversight"
            ),
        ),
        advice=FAULT,
    ),
    BlameRule(
        "blame.fault.pronoun_possessive",
        IB,
        (
            r"\b(?:his|her|their|my|your)\s+(?:own\s+)?(?:fault|mistake|carelessness"
            r"|negligence|blunder|screw-?up|bad)\b"
        ),
        needs=(
            " his | her | their | my | your ",
            (" fault | mistake | carelessness | negligence | blunder | screw | screwup | bad "),
        ),
        advice=FAULT,
    ),
    BlameRule(
        "blame.fault.possessive_error",
        IB,
        (
            r"{POSS}\s+(?:own\s+)?(?:(?:error|slip|typo|failure|misconfiguration|goof"
            r"|fuck-?up|f-?up|slip-?up|mess|misstep|misjudge?ment|bad\s+call)s?\b"
            r"|lack\s+of\b|failure\s+to\b|poor\s+judge?ment\b)"
        ),
        needs=(OWNER,),
        advice=FAULT,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.possessive_doing",
        PC,
        r"{POSS}\s+doing\b",
        needs=(OWNER, " doing "),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.traced_to_person",
        PC,
        r"\btraced\s+(?:\w+\s+){0,3}?(?:back\s+)?to\s+{REF}(?![’']s?\w|[’']s)",
        needs=(" traced ", " to ", OBJECT),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    # --- passive blame: "mistakes were made by the DBA" -----------------------------
    BlameRule(
        "blame.fault.passive_made_by",
        IB,
        (
            r"\b(?:mistakes?|errors?|typos?|blunders?)\s+(?:was|were|got|has\s+been|have\s+been)"
            r"\s+(?:made|done|committed)\s+by\s+{REF}"
        ),
        needs=(
            (" mistake | mistakes | error | errors | typo | typos | blunder | blunders "),
            " made | done | committed ",
            " by ",
            OBJECT,
        ),
        advice=FAULT,
        check=subject_ok,
    ),
    BlameRule(
        "blame.ignored.passive_by",
        IB,
        (
            r"\b(?:was|were|got|been)\s+(?:\w+ly\s+)?(?:ignored|overlooked|missed|botched"
            r"|mishandled|rushed(?:\s+through)?|skipped|bypassed|disregarded)"
            r"(?:\s+\w+)?\s+by\s+{REF}"
        ),
        needs=(
            (
                " ignored | overlooked | missed | botched | mishandled | rushed "
                "| skipped | bypassed | disregarded "
            ),
            " by ",
            OBJECT,
        ),
        advice=IGNORED,
        check=subject_ok,
    ),
    # --- person named as the cause ---------------------------------------------------
    BlameRule(
        "blame.cause.caused_by",
        PC,
        (
            r"\b(?:caused|introduced|broken|taken\s+down|brought\s+down)\s+by\s+"
            r"{REF}(?:[’']s\s+{ARTIFACT})?"
        ),
        needs=(" caused | introduced | broken | taken | brought ", " by ", OBJECT),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.triggered_by_person",
        PC,
        (
            r"\b{INCIDENT_NOUN}\s+(?:was|were|is|has\s+been)\s+(?:\w+ly\s+)?"
            r"(?:triggered|started|created|kicked\s+off)\s+by\s+{REF}"
        ),
        needs=(" triggered | started | created | kicked ", " by ", OBJECT),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.triggered_by_artifact",
        PC,
        (
            r"\b(?:triggered|started)\s+by\s+{POSS}"
            r"\s+{ARTIFACT}\b"
        ),
        needs=(" triggered | started ", " by ", OWNER, ARTIFACT_WORDS),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.due_to_person",
        PC,
        r"\b(?:due\s+to|because\s+of|owing\s+to)\s+{REF}(?![’']s?\w|[’']s)",
        needs=(" due | because | owing ", OBJECT),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.due_to_artifact",
        PC,
        r"\b(?:due\s+to|because\s+of|owing\s+to)\s+{POSS}\s+{ARTIFACT}\b",
        needs=(" due | because | owing ", OWNER, ARTIFACT_WORDS),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.because_name",
        PC,
        r"\bbecause\s+{NAME}\s*(?=[.!?]|$)",
        needs=(" because ", NAME),
        advice=PERSON_CAUSE,
    ),
    BlameRule(
        "blame.cause.blamed_on",
        PC,
        r"\bblam(?:e|ed|es|ing)\s+(?:it\s+on\s+|on\s+)?{REF}",
        needs=(" blame | blamed | blames | blaming ", OBJECT),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.root_cause_is",
        PC,
        (
            r"\b(?:root[\s-]?cause|rootcause|cause|trigger|culprit|contributing\s+factor|rca"
            r"|reason)"
            r"(?:\s+(?:of|for|behind)\s+(?:the|this|our)\s+\w+)?\s*(?:was|is|:|—|–|-|=)\s*"
            r"(?:that\s+|simply\s+|just\s+)?{REF}"
        ),
        needs=(" root| cause| trigger| culprit| contributing| rca| reason", OBJECT),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.on_person",
        PC,
        (
            r"\b(?:this|that|it|{INCIDENT_NOUN})(?:\s+one)?(?:[’']s|\s+is|\s+was)\s+"
            r"(?:all\s+|totally\s+|entirely\s+|squarely\s+)?on\s+{REF}"
        ),
        needs=(" on ", OBJECT),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.artifact_caused",
        PC,
        (
            r"{POSS}\s+(?:\w+\s+)?{ARTIFACT}\s+(?:\w+\s+)?(?:caused|broke|took\s+down"
            r"|brought\s+down|triggered|crashed|led\s+to|resulted\s+in"
            r"|(?:is|was)\s+what\s+(?:broke|caused|took\s+down|triggered))\b"
        ),
        needs=(
            OWNER,
            ARTIFACT_WORDS,
            (" caused | broke | took | brought | triggered | crashed | led | resulted | what "),
        ),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
    # --- human error ------------------------------------------------------------------
    BlameRule(
        "blame.human_error.term",
        HE,
        r"\b{HE_TERM}\b",
        needs=(HE_TERM_WORDS,),
        advice=HUMAN_ERROR,
        check=human_error_ok,
    ),
    # --- cause statements: any named participant, or a person acting -----------------
    BlameRule(
        "blame.cause.statement_names_person",
        PC,
        r"{NAME}",
        needs=(NAME,),
        advice=CAUSE_MENTION,
        cause_only=True,
    ),
    BlameRule(
        "blame.cause.statement_person_acted",
        PC,
        (
            r"(?P<subj>{PRON}|\b{ROLE_NP})\s+{ADV}"
            r"(?!(?:was|were|need|needed|used|based|related|lacked|received|wanted|seemed"
            r"|appeared|depended|relied|required|expected|followed)\b)"
            r"(?:\w+ed|ran|did|made|put|set|left|wrote|sent|hit|shut|took|gave|went|forgot"
            r"|ignored|deleted|pushed|merged|approved)\b"
        ),
        needs=(
            ACTOR,
            (
                "ed | ran | did | made | put | set | left | wrote | sent | hit | shut "
                "| took | gave | went | forgot "
            ),
        ),
        advice=PERSON_CAUSE,
        check=subject_ok,
        cause_only=True,
    ),
)
