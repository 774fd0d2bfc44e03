"""Context checks: what a regex cannot see, decided by looking around the match.

A rule may name one *check* (True keeps the match); every match also goes through the shared
filters at the bottom (negated, quoted, a participant name that is really a common word).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .vocabulary import (
    BARE_ROLE_PRECEDERS,
    COMMON_WORD_NAMES,
    DET,
    FLAGS,
    PRONOUN_SUBJECTS,
    ROLE_NOUN,
    SUBJECT_FILLERS,
    SYSTEM_NOUNS,
)


@dataclass(frozen=True)
class ScanContext:
    """What a context check may need beyond the match itself."""

    as_cause: bool
    names: frozenset[str]  # lower-cased participant names and name parts


Check = Callable[[str, "re.Match[str]", ScanContext], bool]

_NEGATION = re.compile(
    r"\b(?:not|no|never|nobody|none|neither|nor|without|rather\s+than|instead\s+of|cannot)\b"
    r"|n[’']t\b",
    FLAGS,
)
_CLAUSE_BOUNDARY = re.compile(
    r"[.;:!?()\[\]—–,]|\b(?:but|and|so|although|though|while|whereas|however)\b", FLAGS
)
_SENTENCE_END = re.compile(r"[.;!?\n]")
_REASON = re.compile(r"\b(?:because|since|as\s+(?:the|it|there|his|her|their)|due\s+to)\b", FLAGS)
_QUOTES_OPEN = "'\"‘“"
_QUOTES_CLOSE = "'\"’”"
_MITIGATION = re.compile(
    r"\b(?:reduc\w*|prevent\w*|avoid\w*|minimi[sz]\w*|mitigat\w*|guard\w*\s+against|prone\s+to"
    r"|chance\s+of|risk\s+of|likelihood\s+of|likel\w*|harder|easier|room\s+for|opportunit\w+"
    r"|tolerant\s+of|resilient\s+to|protect\w*\s+against|catch\w*|caught|surviv\w*)\b",
    FLAGS,
)
_HE_TECHNICAL_AFTER = re.compile(
    r"\s*(?:\(\s*(?:http|\d{3})|(?:rate|budget|code|count|message|log|page|response|status"
    r"|handling|handler|class|type)s?\b)",
    FLAGS,
)
_HE_TECHNICAL_BEFORE = re.compile(
    r"\b(?:return\w*|emit\w*|rais\w*|throw\w*|threw|(?:mis)?classif\w*\s+as|http|4xx|400)"
    r"\W+(?:an?\s+|as\s+)?$",
    FLAGS,
)
_ENGINEERING_TERM = re.compile(
    r"\s*(?:load\w*|evaluat\w*|init\w*|import\w*|iterat\w*|eval\w*|quorum|deletion|ttl)"
)


def _prev_word(text: str, pos: int) -> str:
    m = re.search(r"([\w’'-]+)\W*$", text[:pos])
    return m.group(1).lower() if m else ""


def subject_ok(text: str, m: re.Match[str], ctx: ScanContext) -> bool:
    """Reject role nouns that are really part of a system name ("the etcd operator")."""
    role = m.groupdict().get("role")
    if role is None:
        return True
    if re.match(rf"{DET}\s", role, FLAGS):
        return True
    prev = _prev_word(text, m.start("role"))
    return not prev or not prev.isalpha() or prev in BARE_ROLE_PRECEDERS


def no_reason_given(text: str, m: re.Match[str], ctx: ScanContext) -> bool:
    """Keep an omission only if the sentence does not go on to explain it.

    "Elena didn't escalate because the runbook said to wait" is the local-rationality explanation
    blameless reviews ask for, so it should not be flagged.
    """
    if not subject_ok(text, m, ctx):
        return False
    end = _SENTENCE_END.search(text, m.end())
    rest = text[m.end() : end.start() if end else len(text)]
    return _REASON.search(rest) is None


def not_system_subject(text: str, m: re.Match[str], ctx: ScanContext) -> bool:
    """For verbs only people do: flag unless a system or an agentless passive is the subject."""
    before = text[: m.start()]
    words = re.findall(r"[\w’'-]+", before)
    while words and words[-1].lower() in SUBJECT_FILLERS:
        words.pop()
    if not words:
        return True
    prev = words[-1].lower()
    if prev in {"was", "were", "been", "is", "are", "be", "being", "got", "get"}:
        return False  # "the step was forgotten": no person is named
    if prev in SYSTEM_NOUNS:
        return False
    # With a participant list, a capitalised subject that is not a participant is most likely a
    # product ("Kafka Connect forgot its offsets"); without one we cannot tell, so flag it.
    last = words[-1]
    if ctx.names and last[:1].isupper() and last != "I" and prev not in ctx.names:
        return prev in PRONOUN_SUBJECTS or re.fullmatch(ROLE_NOUN, prev, FLAGS) is not None
    return True


def lazy_ok(text: str, m: re.Match[str], ctx: ScanContext) -> bool:
    """Keep a judgement word unless it is an engineering term ("lazy loading", "sloppy quorum")."""
    tail = text[m.end() : m.end() + 20].lower()
    return not _ENGINEERING_TERM.match(tail)


def human_error_ok(text: str, m: re.Match[str], ctx: ScanContext) -> bool:
    """Keep "human error" used as an explanation; skip technical and mitigating uses.

    "user error (HTTP 400)" and "misclassified as user errors" are error classes in software;
    "reduce the chance of human error" is a system-focused remediation. In a cause statement
    (``as_cause``) only the technical exemption applies: there, any human error is the explanation.
    """
    phrase = m.group(0).lower()
    if phrase.startswith("user") and phrase.endswith("s"):
        return False  # plural "user errors" is the 4xx class, not an explanation
    if _HE_TECHNICAL_AFTER.match(text, m.end()) or _HE_TECHNICAL_BEFORE.search(text[: m.start()]):
        return False
    if ctx.as_cause:
        return True
    return _MITIGATION.search(clause_window(text, m.start())) is None


# --------------------------------------------------------------------------------------------
# Filters shared by every rule.
# --------------------------------------------------------------------------------------------


def clause_window(text: str, pos: int, limit: int = 60) -> str:
    """Text between the start of the current clause and ``pos`` (at most ``limit`` chars)."""
    lo = max(0, pos - limit)
    window = text[lo:pos]
    cut = 0
    for b in _CLAUSE_BOUNDARY.finditer(window):
        cut = b.end()
    return window[cut:]


def negated(text: str, start: int) -> bool:
    """A negation cue earlier in the clause: "This was not anyone's fault", "Nobody dropped the
    ball" (the cue precedes the phrase)."""
    return _NEGATION.search(clause_window(text, start)) is not None


def quoted(text: str, start: int, end: int) -> bool:
    """A quoted phrase is mentioned, not used: "avoid words like 'careless'"."""
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    return bool(before) and before[-1] in _QUOTES_OPEN and bool(after) and after[0] in _QUOTES_CLOSE


def name_is_word(text: str, m: re.Match[str]) -> bool:
    """True when a matched participant name is really an ordinary word ("will", "mark")."""
    try:
        span = m.group("name")
    except IndexError:
        return False
    if not span:
        return False
    bare = span.lstrip("@")
    return bare.islower() and bare.lower() in COMMON_WORD_NAMES
