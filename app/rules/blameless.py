"""Blameless-language detection for postmortem prose.

A blameless postmortem explains an incident through the conditions that made an action reasonable
at the time (tooling, signals, process), because naming a culprit ends the investigation early and
teaches people to hide mistakes. This module flags three kinds of wording that undo that:

* ``individual_blame``: a person, role or pronoun is the subject of an omission or a character
  judgement ("Bob forgot to", "the on-call engineer was careless", "should have known").
* ``person_as_cause``: a participant is named as the cause ("root cause: Bob", "the intern broke
  prod", "Alice's change caused the outage").
* ``human_error``: "human/operator/user error" offered as the explanation.

It is deliberately heuristic (regular expressions plus a few context checks), not NLP: it needs no
model or I/O, costs tens of microseconds per sentence (each rule's regex only runs when the text
holds the words the regex cannot match without, see ``blameless_prefilter``), and is predictable
enough that authors can see why a phrase was flagged. The rules lean on *who the grammatical subject
is*: "the deploy failed to complete" is a system fact, "Kenji failed to acknowledge the page" is
blame. Verbs that are ambiguous between people and systems ("failed to", "ignored", "broke") only
count with a person subject; verbs that only people do ("forgot", "neglected", "didn't bother")
count unless the subject is clearly a system. Negated and quoted uses ("this was not anyone's
fault", avoid 'careless') are mentions, not blame, and are skipped.

Measured against ``tests/unit/data/blameless_corpus.yaml`` by ``python -m tests.blameless_eval``.
Precision holds up on unseen text (~0.94 on the never-tuned "blind" rows); recall does not (~0.6):
blame has a long tail of paraphrases ("Nobody bothered to", "the fault of the release engineer",
"chose to ignore") that a phrase list only covers once someone has seen them. Treat a clean result
as "no known blame pattern", not as "blameless".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Literal

from .blameless_prefilter import (
    Derived,
    FoldedText,
    Requirement,
    derive,
    fill,
    requirements,
    satisfied,
)

__all__ = ["BlameKind", "BlameMatch", "find_blame", "is_blameful"]

BlameKind = Literal["individual_blame", "person_as_cause", "human_error"]


@dataclass(frozen=True)
class BlameMatch:
    """One flagged phrase; offsets index into the text passed to :func:`find_blame`."""

    kind: BlameKind
    start: int
    end: int
    phrase: str
    message: str
    suggestion: str


# --------------------------------------------------------------------------------------------
# Vocabulary. Kept as pattern fragments so every rule shares one definition of "a person".
# --------------------------------------------------------------------------------------------

_FLAGS = re.IGNORECASE

# Filler adverbs that sit between a subject and its verb ("Bob simply forgot").
_ADV = (
    r"(?:(?:just|simply|clearly|obviously|really|also|then|again|still|even|apparently|basically"
    r"|actually|somehow|probably|unfortunately|evidently|completely|totally|literally|frankly"
    r"|honestly|once\s+again)\s+)*"
)
_DET = r"(?:the|our|an?|that|this|one|some|your|their|his|her|my)"
_ROLE_MOD = (
    r"(?:new|junior|senior|responsible|assigned|primary|secondary|human|on-?call|same|other"
    r"|remote|lead|tired|inexperienced)"
)
_ROLE_NOUN = (
    r"(?:intern|new\s+hire|new\s+guy|new\s+girl|newbie|noob|devs?|developers?|engineers?|sres?"
    r"|dbas?|operator|admins?|administrators?|sysadmins?|contractors?"
    r"|on-?call(?:\s+(?:engineer|person|sre|dev|developer|admin|responder))?"
    r"|on\s+call\s+(?:engineer|person)|responders?|reviewers?|author|release\s+(?:manager|captain)"
    r"|incident\s+commander|team\s+lead|tech\s+lead|manager|person|someone|somebody|ops"
    r"|[a-z]+\s+(?:team|folks|guys|crew|squad)(?!\s+lead))"
)
_ROLE_QUAL = r"(?:\s+(?:on\s+(?:duty|shift|call)|in\s+charge|at\s+the\s+keyboard))?"
# A short relative clause: "the developer who wrote the migration [never tested it]".
_ROLE_REL = r"(?:\s+(?:who|that)\s+[^,.;:!?()]{1,50}?)?"
# An optional capitalised name may follow the role ("developer Hiroshi"); case-sensitive so that
# "operator error" is not read as a role plus name. "operator error" / "engineer mistake" are the
# human-error idiom, not a person acting.
_ROLE_NP = (
    rf"(?P<role>(?:{_DET}\s+)?(?:{_ROLE_MOD}\s+)*{_ROLE_NOUN}(?-i:\s+[A-Z][a-z]+)?{_ROLE_QUAL})"
    rf"(?![\s-]+(?:error|mistake)s?\b){_ROLE_REL}"
)
_WHOEVER = r"(?P<whoever>whoever\s+[^,.;:!?()]{1,40}?)"
# "Jane, who was on call, failed to ..." / "Chris, the on-call SRE, ..."
_APPOS = r"(?:\s*,\s*(?:who|the|our|an?)\b[^,.;:!?()]{1,40},)?"
_NEVER = r"(?!)"  # used when no participant names are known

# Verbs that describe not doing something; with a person subject they read as blame.
_OMISSION_VERB = (
    r"(?:check|verify|test|follow|read|look|notice|review|escalate|communicate|tell|inform"
    r"|update|wait|validate|double[-\s]?check|confirm|consider|think|listen|care|ask|announce"
    r"|document|coordinate|back\s+up|heed|monitor|watch|acknowledge|ack|page|warn|drain|fence"
    r"|respond|react|reply|report|raise|flag|mention|notify|hand\s+(?:off|over)|plan|prepare"
    r"|proofread|investigate|run|use|lock|pay\s+attention|bother)\w*"
)
_NEG_AUX = (
    r"(?:did\s+not|didn[’']?t|did\s+n[’']t|does\s+not|doesn[’']?t|has\s+not|hasn[’']?t"
    r"|had\s+not|hadn[’']?t|have\s+not|haven[’']?t|never)"
)
_CAUSE_VERB = (
    r"(?:broke|breaks|(?:took|takes|brought|brings)\s+(?:\w+\s+){0,2}?down|crashed|nuked"
    r"|caused|causes|destroyed|corrupted|trashed|borked|hosed|tanked|blew\s+away)"
)
_ARTIFACT = (
    r"(?:change|changes|commit|commits|deploy|deployment|pr|pull\s+request|push|config|script"
    r"|migration|code|query|command|patch|merge|release|rollout|edit|typo|update|hotfix|fix"
    r"|terraform|cleanup)"
)
_INCIDENT_NOUN = (
    r"(?:outage|incident|downtime|failure|breakage|regression|data\s+loss|breach|problem|issue"
    r"|mess|disaster|lag|crash|bug|page|degradation|disruption|this|it)"
)
# "... without following the checklist": the sentence frames a skipped safeguard as a choice.
_WITHOUT_SAFEGUARD = (
    r"[^.;!?]{0,40}?\bwithout\s+(?:first\s+|even\s+)?"
    r"(?:following|checking|testing|reading|verifying|waiting\s+for|reviewing|asking"
    r"|telling|notifying|looking\s+at|thinking|(?:a\s+|any\s+)?(?:review|approval"
    r"|testing|permission|sign-?off|(?:a\s+single\s+)?tests?))\b"
)
_HE_TERM = (
    r"(?:(?:human|operator|user|pilot|personnel|manual)[\s-]+(?:error|mistake)s?"
    r"|human[\s-]+(?:failure|slip)s?|(?:human|operator|user)[\s-]+(?:induced|caused)"
    r"|pebkac|pebcak|id-?10-?t\s+error|layer[\s-]?8\s+(?:problem|issue|error)s?"
    r"|people\s+(?:problem|issue)s?|wetware\s+(?:problem|issue|bug)s?)"
)


def _words(block: str) -> frozenset[str]:
    """Whitespace-separated word list; easier to review than a list literal."""
    return frozenset(block.split())


# Nouns that make a sentence's subject a system, for verbs people usually own ("forgot").
_SYSTEM_NOUNS = _words(
    """
    job jobs script scripts loader service services tool tooling check checks alert alerts
    pipeline pipelines system systems process processes daemon cron bot bots automation
    controller controllers code config deploy deployment migration cluster node nodes server
    servers client clients app application api library function handler worker workers consumer
    consumers queue task tasks container pod pods agent monitor monitoring scheduler runbook
    checklist template balancer proxy cache db database it test tests suite hook webhook
    terraform ansible kubernetes k8s operator replica replicas probe probes
    """
)
# Words that may directly precede a determiner-less role noun without being a modifier of it;
# anything else ("etcd operator", "Kubernetes operator") means the noun is part of a system name.
_BARE_ROLE_PRECEDERS = _words(
    """
    and but so then because that when if since after while lol tbh ugh honestly frankly clearly
    obviously again also why cause where as until once before whereas the our a an this one
    some your their his her my smh imo fyi btw
    """
)
# Names in `people` that are also everyday English words; matched only when capitalised.
_COMMON_WORD_NAMES = _words(
    """
    will mark bill rob pat may june grant chase drew hope faith sunny art max jack frank gene ray
    dawn amber summer iris rose august miles don guy bob sage river rusty penny ginger joy
    """
)

_PRONOUN_SUBJECTS = _words("he she they i someone somebody")
# Words skipped when looking back from a verb for its subject ("Bob had simply forgotten").
_SUBJECT_FILLERS = _words(
    """
    just simply also then again apparently completely totally had has have somehow probably
    clearly obviously really
    """
)

_NEGATION = re.compile(
    r"\b(?:not|no|never|nobody|none|neither|nor|without|rather\s+than|instead\s+of|cannot)\b"
    r"|n[’']t\b",
    _FLAGS,
)
_CLAUSE_BOUNDARY = re.compile(
    r"[.;:!?()\[\]—–,]|\b(?:but|and|so|although|though|while|whereas|however)\b", _FLAGS
)
_SENTENCE_END = re.compile(r"[.;!?\n]")
_REASON = re.compile(r"\b(?:because|since|as\s+(?:the|it|there|his|her|their)|due\s+to)\b", _FLAGS)
_QUOTES_OPEN = "'\"‘“"
_QUOTES_CLOSE = "'\"’”"
_MITIGATION = re.compile(
    r"\b(?:reduc\w*|prevent\w*|avoid\w*|minimi[sz]\w*|mitigat\w*|guard\w*\s+against|prone\s+to"
    r"|chance\s+of|risk\s+of|likelihood\s+of|likel\w*|harder|easier|room\s+for|opportunit\w+"
    r"|tolerant\s+of|resilient\s+to|protect\w*\s+against|catch\w*|caught|surviv\w*)\b",
    _FLAGS,
)
_HE_TECHNICAL_AFTER = re.compile(
    r"\s*(?:\(\s*(?:http|\d{3})|(?:rate|budget|code|count|message|log|page|response|status"
    r"|handling|handler|class|type)s?\b)",
    _FLAGS,
)
_HE_TECHNICAL_BEFORE = re.compile(
    r"\b(?:return\w*|emit\w*|rais\w*|throw\w*|threw|(?:mis)?classif\w*\s+as|http|4xx|400)"
    r"\W+(?:an?\s+|as\s+)?$",
    _FLAGS,
)


# --------------------------------------------------------------------------------------------
# Messages and suggestions, shared by the rules that raise them.
# --------------------------------------------------------------------------------------------

_OMISSION = (
    "Framing an omission as a person's failure explains who, not why; the same gap will trip the "
    "next person.",
    "Describe what made the step easy to miss: was it in the runbook or checklist, automated, "
    "surfaced by tooling? e.g. 'certificate renewal relied on a manual step with no reminder'.",
)
_JUDGEMENT = (
    "A character judgement ('careless', 'negligent', 'lazy') is blame and says nothing about how "
    "the system allowed the action.",
    "Drop the adjective and describe the action and its context: what information, tooling and "
    "time pressure shaped it, and what guardrail was missing.",
)
_HINDSIGHT = (
    "'Should have' is hindsight: it judges a past decision with knowledge that was not available "
    "at the time.",
    "Describe what was known at the time and which signals were or were not visible; then ask "
    "what would make the right action obvious (an alert, a check, a clearer runbook step).",
)
_IDIOM = (
    "This idiom assigns personal blame.",
    "Name the gap in the process instead of the person: unclear ownership, a missed handoff, no "
    "reminder or automation.",
)
_FAULT = (
    "Attributing fault or a mistake to a person makes the individual the explanation.",
    "Describe the action and the conditions that made it possible, e.g. 'the config change was "
    "applied without validation' rather than 'it was Priya's mistake'.",
)
_IGNORED = (
    "Saying a person ignored or missed a signal blames them without explaining why the signal "
    "did not stand out.",
    "Explain why the signal was easy to miss: alert volume, signal-to-noise, where and how it was "
    "shown, competing work.",
)
_SLIP = (
    "Labelling an action as a person's slip ('accidentally', 'fat-fingered', 'messed up') "
    "centres the individual.",
    "Describe what made the wrong action look right or easy: e.g. 'the command ran against "
    "production because the prompt did not show the environment and there was no confirmation'.",
)
_CAREFUL = (
    "Asking people to 'be more careful' is not a remediation; attention is not a control.",
    "Propose a guardrail instead of more care: a confirmation prompt, dry run, automation, "
    "two-person review, or a safer default.",
)
_COUNTERFACTUAL = (
    "A counterfactual about what one person should have done is hindsight blame.",
    "State what happened and what information was available; ask what would have made the "
    "alternative action the natural one.",
)
_PERSON_CAUSE = (
    "Naming a person as the cause stops the analysis at who acted instead of why the system let "
    "the action cause harm.",
    "Name the change or condition as the cause, not the person: e.g. 'config change #1234 removed "
    "the timeout and nothing validated it' instead of 'Bob broke it'.",
)
_CAUSE_MENTION = (
    "A cause statement that names a participant reads as blame, even if the wording is neutral.",
    "Rewrite the cause around the condition or change (the commit, the config, the missing check) "
    "and leave people to the timeline.",
)
_HUMAN_ERROR = (
    "'Human error' is where an investigation should start, not its conclusion; as a cause it "
    "blames the person and hides the system.",
    "Describe the conditions that made the mistake easy: missing guardrail, confusing UI, absent "
    "review, ambiguous runbook, time pressure.",
)


@dataclass(frozen=True)
class _Ctx:
    """What a context check may need beyond the match itself."""

    as_cause: bool
    names: frozenset[str]  # lower-cased participant names and name parts


Check = Callable[[str, "re.Match[str]", _Ctx], bool]


@dataclass(frozen=True)
class _Rule:
    kind: BlameKind
    source: str  # the regular expression, compiled with _FLAGS on first use (see ``pattern``)
    text: tuple[str, str]
    check: Check | None = None
    cause_only: bool = False
    # Keywords any match must contain (derived from ``source`` by blameless_prefilter), so the
    # scan can skip a rule whose words are absent instead of running its regex over the text.
    needs: Requirement = ()

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Compiled on first use: a whole rule set costs ~50 ms to compile, and with the
        prefilter most rules of a set built for a new group of names never run."""
        return re.compile(self.source, _FLAGS)


# --------------------------------------------------------------------------------------------
# Context checks. Each returns True when the match should be kept.
# --------------------------------------------------------------------------------------------


def _prev_word(text: str, pos: int) -> str:
    m = re.search(r"([\w’'-]+)\W*$", text[:pos])
    return m.group(1).lower() if m else ""


def _subject_ok(text: str, m: re.Match[str], ctx: _Ctx) -> bool:
    """Reject role nouns that are really part of a system name ("the etcd operator")."""
    role = m.groupdict().get("role")
    if role is None:
        return True
    if re.match(rf"{_DET}\s", role, _FLAGS):
        return True
    prev = _prev_word(text, m.start("role"))
    return not prev or not prev.isalpha() or prev in _BARE_ROLE_PRECEDERS


def _no_reason_given(text: str, m: re.Match[str], ctx: _Ctx) -> bool:
    """Keep an omission only if the sentence does not go on to explain it.

    "Elena didn't escalate because the runbook said to wait" is the local-rationality explanation
    blameless reviews ask for, so it should not be flagged.
    """
    if not _subject_ok(text, m, ctx):
        return False
    end = _SENTENCE_END.search(text, m.end())
    rest = text[m.end() : end.start() if end else len(text)]
    return _REASON.search(rest) is None


def _not_system_subject(text: str, m: re.Match[str], ctx: _Ctx) -> bool:
    """For verbs only people do: flag unless a system or an agentless passive is the subject."""
    before = text[: m.start()]
    words = re.findall(r"[\w’'-]+", before)
    while words and words[-1].lower() in _SUBJECT_FILLERS:
        words.pop()
    if not words:
        return True
    prev = words[-1].lower()
    if prev in {"was", "were", "been", "is", "are", "be", "being", "got", "get"}:
        return False  # "the step was forgotten": no person is named
    if prev in _SYSTEM_NOUNS:
        return False
    # With a participant list, a capitalised subject that is not a participant is most likely a
    # product ("Kafka Connect forgot its offsets"); without one we cannot tell, so flag it.
    last = words[-1]
    if ctx.names and last[:1].isupper() and last != "I" and prev not in ctx.names:
        return prev in _PRONOUN_SUBJECTS or re.fullmatch(_ROLE_NOUN, prev, _FLAGS) is not None
    return True


def _lazy_ok(text: str, m: re.Match[str], ctx: _Ctx) -> bool:
    # "lazy loading", "sloppy quorum" are engineering terms, not judgements.
    tail = text[m.end() : m.end() + 20].lower()
    return not re.match(
        r"\s*(?:load\w*|evaluat\w*|init\w*|import\w*|iterat\w*|eval\w*|quorum|deletion|ttl)", tail
    )


def _human_error_ok(text: str, m: re.Match[str], ctx: _Ctx) -> bool:
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
    return _MITIGATION.search(_clause_window(text, m.start())) is None


# --------------------------------------------------------------------------------------------
# Rule construction (per set of participant names; cached).
# --------------------------------------------------------------------------------------------


def _name_alt(names: tuple[str, ...]) -> str:
    if not names:
        return _NEVER
    parts = sorted(set(names), key=len, reverse=True)  # longest first: "Emma Larsen" before "Emma"
    return "|".join(r"\s+".join(map(re.escape, p.split())) for p in parts)


def _name_body(names: tuple[str, ...]) -> str:
    """Any one participant name, as a whole word (optionally @-mentioned)."""
    return rf"(?<![\w@])@?(?:{_name_alt(names)})(?![\w@])"


@lru_cache(maxsize=128)
def _rules(names: tuple[str, ...]) -> tuple[_Rule, ...]:
    """The rule set for one set of names, with each rule's prefilter keywords.

    Called with only the names present in a text (see :func:`_present`), so texts that mention the
    same people, or nobody, share one set.
    """
    rules = _build_rules(names)
    slot = derive(_name_body(names), _FLAGS) if names else None
    needs = requirements(fill(template, slot) for template in _templates())
    return tuple(replace(rule, needs=n) for rule, n in zip(rules, needs, strict=True))


@lru_cache(maxsize=1)
def _templates() -> tuple[Derived, ...]:
    """Each rule's keywords with the name alternation left open (derived once; see
    :mod:`app.rules.blameless_prefilter`): deriving per name set would double its cost."""
    return tuple(derive(rule.source, _FLAGS, slot=True) for rule in _build_rules(()))


def _build_rules(names: tuple[str, ...]) -> tuple[_Rule, ...]:
    """The rule set for one set of names, uncompiled (see :attr:`_Rule.pattern`)."""
    name = rf"(?P<name>{_name_body(names)})"
    pron = r"(?P<pron>\b(?:he|she|i)\b)"
    pron_they = r"(?P<pron>\b(?:he|she|i|they)\b)"
    s = rf"(?P<subj>{name}|{pron}|\b{_WHOEVER}|\b{_ROLE_NP}){_APPOS}\s+{_ADV}"
    s_they = rf"(?P<subj>{name}|{pron_they}|\b{_WHOEVER}|\b{_ROLE_NP}){_APPOS}\s+{_ADV}"
    ref = rf"(?:{name}|\b(?:him|her|me)\b|\b{_ROLE_NP})"
    poss = rf"(?:{name}|\b(?:{_DET}\s+)?(?:{_ROLE_MOD}\s+)*{_ROLE_NOUN})(?:[’']s|[’'](?!\w))"

    def rx(p: str) -> str:
        """A rule's regular expression (compiled with _FLAGS when the rule first runs)."""
        return p

    ib: BlameKind = "individual_blame"
    pc: BlameKind = "person_as_cause"
    he: BlameKind = "human_error"
    return (
        # --- person subject + omission/slip ------------------------------------------------
        _Rule(ib, rx(rf"{s}fail(?:ed|s)?\s+to\s+(?!be\b)\w+"), _OMISSION, _no_reason_given),
        _Rule(ib, rx(rf"{s_they}{_NEG_AUX}\s+{_ADV}{_OMISSION_VERB}"), _OMISSION, _no_reason_given),
        _Rule(
            ib,
            rx(
                rf"{s}(?:ignored|overlooked|missed|skipped|bypassed|disregarded|dismissed"
                r"|force-?merged|force-?pushed)\b"
            ),
            _IGNORED,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                rf"{s_they}(?:should|ought\s+to)(?:\s+(?:never|not)|n[’']t)?"
                r"(?:\s+have|[’']ve|\s+of)\s+"
                r"(?!(?:a|an|the|some|more|access|had|known)\b)"
                r"(?:been\s+(?:more\s+)?(?:careful|attentive|aware|faster|quicker)|(?!been\b)\w+)"
            ),
            _HINDSIGHT,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                rf"{s_they}(?:(?:messed|screwed|fucked|mucked|effed)\s+(?:\w+\s+){{0,3}}?up\b"
                r"|botched|bungled|went\s+rogue|goofed|fumbled|blundered"
                r"|flubbed|slipped\s+up|slept\s+through|cut\s+corners"
                r"|made\s+(?:a\s+|an\s+)?(?:bad|poor|wrong|terrible|questionable|careless)\s+"
                r"(?:call|decision|choice|judge?ment)"
                r"|failed\s+(?:us|the\s+team|in\s+(?:his|her|their|my)\s+\w+))"
            ),
            _SLIP,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                rf"{s}(?:blindly|mistakenly|accidentally|inadvertently|incorrectly|wrongly"
                r"|erroneously|hastily)\s+\w+"
            ),
            _SLIP,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(rf"{s}(?:was|were|is|are)\s+(?:way\s+|far\s+|much\s+)?too\s+slow"),
            _JUDGEMENT,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                rf"{s}(?:is|was|are|were)\s+(?:(?:solely|partly|partially|entirely|ultimately"
                r"|clearly|squarely)\s+)?(?:at\s+fault|to\s+blame)"
            ),
            _FAULT,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                rf"\bif\s+(?:only\s+)?{s_they}(?:had|[’']d)\s+(?!not\b|n[’']t)"
                r"(?:just\s+|only\s+|actually\s+)?\w+"
            ),
            _COUNTERFACTUAL,
            _subject_ok,
        ),
        # --- person subject as cause ------------------------------------------------------
        _Rule(pc, rx(rf"{s}{_CAUSE_VERB}\b"), _PERSON_CAUSE, _subject_ok),
        # "because Nina restarted ...": a person's action offered as the reason.
        _Rule(
            pc,
            rx(rf"\bbecause\s+{s}(?!(?:was|were|is|had|has|did|could|would)\b)\w+ed\b"),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        # "Ahmed deployed the wrong version": a slip framed around the person.
        _Rule(ib, rx(rf"{s}\w+\s+(?:the|a|an)\s+wrong\b"), _SLIP, _subject_ok),
        _Rule(
            pc,
            rx(
                rf"{s}(?:is|was|are|were)\s+(?:(?:solely|directly|ultimately|fully|partly)\s+)?"
                rf"(?:responsible\s+for\s+(?:the\s+|this\s+|our\s+)?{_INCIDENT_NOUN}\b"
                r"|the\s+(?:root\s+)?cause\b|the\s+reason\b|behind\s+(?:the|this)\s+\w+)"
            ),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        # --- idioms and judgements, whatever the subject ----------------------------------
        _Rule(ib, rx(r"\bdrop(?:ped|s|ping)?\s+the\s+ball\b"), _IDIOM),
        _Rule(ib, rx(r"\basleep\s+at\s+the\s+wheel\b"), _IDIOM),
        _Rule(ib, rx(r"\bhad\s+one\s+job\b|\bblew\s+it\b"), _IDIOM),
        _Rule(
            ib,
            rx(
                r"\b(?:(?:did|does|do)\s+not|(?:did|does|do)n[’']?t)\s+(?:even\s+)?bother\b"
                r"|\b(?:could\s+not|couldn[’']?t|can[’']?t|cannot)\s+be\s+bothered\b"
            ),
            _IDIOM,
        ),
        _Rule(
            ib,
            rx(r"\b(?:should|ought\s+to)(?:\s+have|[’']ve|\s+of)\s+known(?:\s+better)?\b"),
            _HINDSIGHT,
        ),
        _Rule(
            ib,
            rx(
                r"\b(?:careless(?:ly|ness)?|negligen(?:t|ce|tly)|sloppy|sloppiness|sloppily"
                r"|lazy|laziness|incompeten(?:t|ce)|reckless(?:ly|ness)?|inattentive(?:ness)?"
                r"|inattention|irresponsibl[ey]|clueless|not\s+(?:very\s+)?attentive)\b"
            ),
            _JUDGEMENT,
            _lazy_ok,
        ),
        _Rule(
            ib,
            rx(
                r"\b(?:(?:was|were|is|are)\s+)?not\s+paying\s+attention\b"
                r"|\b(?:was|were|is|are)n[’']?t\s+(?:\w+\s+)?(?:paying\s+attention|careful|attentive)\b"
                r"|\bnot\s+(?:careful|attentive|diligent)\s+enough\b"
                r"|\b(?:(?:did|does)\s+not|(?:did|does)n[’']?t|failed\s+to)\s+pay\s+attention\b"
                r"|\bpaid\s+no\s+attention\b"
                r"|\b(?:lack|lapse)\s+of\s+(?:attention|care|diligence|judge?ment|discipline)\b"
            ),
            _JUDGEMENT,
        ),
        _Rule(
            ib,
            rx(
                r"\b(?:be|being|been)\s+more\s+(?:careful|attentive|diligent|vigilant)\b"
                r"|\bpay\s+(?:more|closer)\s+attention\b"
            ),
            _CAREFUL,
        ),
        _Rule(
            ib,
            rx(
                r"\b(?:rookie|dumb|stupid|silly|idiotic|amateur|boneheaded)\s+(?:mistake|move|error)s?\b"
            ),
            _JUDGEMENT,
        ),
        _Rule(ib, rx(r"\bfat[\s-]?finger(?:ed|ing|s)?\b"), _SLIP),
        _Rule(ib, rx(r"\byolo(?:[’']?d|[’']?ed)?\b"), _SLIP),
        _Rule(
            ib,
            rx(
                r"\bfailure\s+to\s+follow\b|\bfailed\s+to\s+follow\s+(?:the\s+|our\s+|established\s+)?"
                r"(?:[\w-]+\s+)?(?:procedure|process|protocol|policy|runbook|checklist|instructions)"
            ),
            _OMISSION,
        ),
        _Rule(ib, rx(r"\b(?:is|was|are|were)\s+(?:\w+ly\s+)?to\s+blame\b"), _FAULT),
        _Rule(
            ib,
            rx(
                r"\b(?:blame|fault|mistake|error|responsibility)\s+(?:lies|rests|falls|sits)"
                r"\s+(?:squarely\s+|entirely\s+|solely\s+)?(?:with|on)\b"
            ),
            _FAULT,
        ),
        _Rule(
            ib,
            rx(
                r"\bforg[oe]t(?:ten)?\b|\bforgets\b|\bneglect(?:ed|s|ing)?\b"
                r"(?:\s+to\s+\w+)?"
            ),
            _OMISSION,
            _not_system_subject,
        ),
        _Rule(
            ib,
            rx(
                r"\b(?:cut(?:s|ting)?\s+corners|out\s+of\s+(?:his|her|their|my|your)\s+depth"
                r"|(?:poor|bad|questionable)\s+judge?ment|lapse\s+in\s+judge?ment|mea\s+culpa"
                r"|(?:did\s+not|didn[’']?t)\s+know\s+what\s+(?:he|she|they|i)\s+(?:was|were)"
                r"\s+doing)\b"
            ),
            _JUDGEMENT,
        ),
        _Rule(
            ib,
            rx(
                rf"{s_they}(?:was|were|is|are)\s+supposed\s+to\s+[^.;!?]{{1,60}}?"
                r"\b(?:never\s+did|didn[’']?t|did\s+not|but\s+(?:never|forgot|skipped))"
            ),
            _OMISSION,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                rf"\bhad\s+(?P<subj>{name}|\b(?:he|she|they|i)\b|\b{_ROLE_NP})\s+"
                r"(?:just\s+|only\s+|actually\s+)?(?!not\b|been\b)\w+(?:ed|en|wn|ne|ad)\b"
            ),
            _COUNTERFACTUAL,
            _subject_ok,
        ),
        _Rule(ib, rx(rf"{s}\w+\b{_WITHOUT_SAFEGUARD}"), _OMISSION, _subject_ok),
        _Rule(ib, rx(rf"\bby\s+{ref}{_WITHOUT_SAFEGUARD}"), _OMISSION, _subject_ok),
        _Rule(
            pc,
            rx(
                r"\b(?:the\s+)?(?:person|people|engineer|individual|party|parties|one|ones)"
                r"\s+responsible\b(?!\s+for\s+(?:the\s+)?(?:fix|remediation|follow|action|owning))"
                r"|\b(?:the|a)\s+culprit\b|\bguilty\s+party\b"
                r"|\b(?:held|be\s+held)\s+(?:personally\s+)?(?:accountable|responsible)\b"
                r"|\b(?:has\s+been|was|were|have\s+been|got|be)\s+(?:spoken\s+to|disciplined"
                r"|reprimanded|written\s+up|let\s+go|fired|retrained)\b"
            ),
            _PERSON_CAUSE,
        ),
        _Rule(
            ib,
            rx(
                r"\b(?:don[’']?t|do\s+not|never|stop)\s+(?:let(?:ting)?|allow(?:ing)?|trust(?:ing)?)"
                r"\s+(?:the\s+)?(?:interns?|juniors?|junior\s+\w+|new\s+hires?|newbies|contractors?)\b"
            ),
            _JUDGEMENT,
        ),
        _Rule(
            ib,
            rx(
                rf"{s_they}(?:must|needs?\s+to|has\s+to|have\s+to|should|ought\s+to)\s+"
                r"(?:always\s+|now\s+)?(?:double[-\s]?check|triple[-\s]?check|be\s+(?:more\s+)?"
                r"(?:careful|attentive|vigilant)|take\s+more\s+care|pay\s+(?:more\s+)?attention)"
            ),
            _CAREFUL,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                rf"{s_they}(?:made|makes|committed)\s+(?:a|an|the|several|multiple|some|two|three)"
                r"\s+(?:\w+\s+)?(?:error|mistake|blunder|typo|slip)s?\b"
            ),
            _FAULT,
            _subject_ok,
        ),
        _Rule(ib, rx(rf"{s_they}(?:has|had|have)\s+no\s+business\s+\w+"), _JUDGEMENT, _subject_ok),
        _Rule(
            ib,
            rx(rf"{s_they}(?:abused|misused)\s+(?:it|(?:his|her|their|the)\s+\w+)"),
            _JUDGEMENT,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                r"\bhalf\s+a\s+brain\b|\b(?:any(?:one|body)|any\s+(?:competent|decent|reasonable"
                r"|experienced|good)\s+\w+|a\s+(?:competent|decent|reasonable|good)\s+\w+)\b"
                r"[^.;!?]{0,40}?\bwould\s+have\s+(?:seen|noticed|caught|known|spotted|realized"
                r"|realised|checked)\b"
            ),
            _HINDSIGHT,
        ),
        _Rule(
            ib,
            rx(r"\b(?:mistakes?|errors?|blunders?|slips?)\s+(?:made\s+)?by\s+" + ref),
            _FAULT,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                rf"{ref}\s*,?\s+who\s+{_ADV}(?:{_NEG_AUX}\s+{_ADV}{_OMISSION_VERB}"
                r"|(?:forgot|neglected|ignored|overlooked|missed|skipped)\b)"
            ),
            _OMISSION,
            _subject_ok,
        ),
        _Rule(
            pc,
            rx(
                rf"\btraced\s+(?:\w+\s+){{0,3}}?(?:back\s+)?to\s+(?:{poss}\s+(?:\w+\s+)?{_ARTIFACT}\b)"
            ),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        # --- possessive blame ------------------------------------------------------------
        _Rule(
            ib,
            rx(
                r"\b(?!(?:nobody|noone|no-one)\b)[\w@-]+(?:[’']s|[’'](?=\s))\s+(?:own\s+)?"
                r"(?:fault(?!\s+(?:detect\w*|toleran\w*|domain|injection|line|handl\w*|code"
                r"|isolation|led))|mistake|carelessness|negligence|blunder|screw-?up|sloppiness"
                r"|incompetence|laziness|oversight)s?\b"
            ),
            _FAULT,
        ),
        _Rule(
            ib,
            rx(
                r"\b(?:his|her|their|my|your)\s+(?:own\s+)?(?:fault|mistake|carelessness"
                r"|negligence|blunder|screw-?up|bad)\b"
            ),
            _FAULT,
        ),
        _Rule(
            ib,
            rx(
                rf"{poss}\s+(?:own\s+)?(?:(?:error|slip|typo|failure|misconfiguration|goof"
                r"|fuck-?up|f-?up|slip-?up|mess|misstep|misjudge?ment|bad\s+call)s?\b"
                r"|lack\s+of\b|failure\s+to\b|poor\s+judge?ment\b)"
            ),
            _FAULT,
            _subject_ok,
        ),
        _Rule(pc, rx(rf"{poss}\s+doing\b"), _PERSON_CAUSE, _subject_ok),
        _Rule(
            pc,
            rx(rf"\btraced\s+(?:\w+\s+){{0,3}}?(?:back\s+)?to\s+{ref}(?![’']s?\w|[’']s)"),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        # --- passive blame: "mistakes were made by the DBA" -----------------------------
        _Rule(
            ib,
            rx(
                r"\b(?:mistakes?|errors?|typos?|blunders?)\s+(?:was|were|got|has\s+been|have\s+been)"
                rf"\s+(?:made|done|committed)\s+by\s+{ref}"
            ),
            _FAULT,
            _subject_ok,
        ),
        _Rule(
            ib,
            rx(
                r"\b(?:was|were|got|been)\s+(?:\w+ly\s+)?(?:ignored|overlooked|missed|botched"
                r"|mishandled|rushed(?:\s+through)?|skipped|bypassed|disregarded)"
                rf"(?:\s+\w+)?\s+by\s+{ref}"
            ),
            _IGNORED,
            _subject_ok,
        ),
        # --- person named as the cause ---------------------------------------------------
        _Rule(
            pc,
            rx(
                r"\b(?:caused|introduced|broken|taken\s+down|brought\s+down)\s+by\s+"
                rf"{ref}(?:[’']s\s+{_ARTIFACT})?"
            ),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        _Rule(
            pc,
            rx(
                rf"\b{_INCIDENT_NOUN}\s+(?:was|were|is|has\s+been)\s+(?:\w+ly\s+)?"
                rf"(?:triggered|started|created|kicked\s+off)\s+by\s+{ref}"
            ),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        _Rule(
            pc,
            rx(r"\b(?:triggered|started)\s+by\s+" + poss + rf"\s+{_ARTIFACT}\b"),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        _Rule(
            pc,
            rx(rf"\b(?:due\s+to|because\s+of|owing\s+to)\s+{ref}(?![’']s?\w|[’']s)"),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        _Rule(
            pc,
            rx(rf"\b(?:due\s+to|because\s+of|owing\s+to)\s+{poss}\s+{_ARTIFACT}\b"),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        _Rule(pc, rx(rf"\bbecause\s+{name}\s*(?=[.!?]|$)"), _PERSON_CAUSE),
        _Rule(
            pc,
            rx(rf"\bblam(?:e|ed|es|ing)\s+(?:it\s+on\s+|on\s+)?{ref}"),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        _Rule(
            pc,
            rx(
                r"\b(?:root[\s-]?cause|rootcause|cause|trigger|culprit|contributing\s+factor|rca"
                r"|reason)"
                r"(?:\s+(?:of|for|behind)\s+(?:the|this|our)\s+\w+)?\s*(?:was|is|:|—|–|-|=)\s*"
                rf"(?:that\s+|simply\s+|just\s+)?{ref}"
            ),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        _Rule(
            pc,
            rx(
                rf"\b(?:this|that|it|{_INCIDENT_NOUN})(?:\s+one)?(?:[’']s|\s+is|\s+was)\s+"
                rf"(?:all\s+|totally\s+|entirely\s+|squarely\s+)?on\s+{ref}"
            ),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        _Rule(
            pc,
            rx(
                rf"{poss}\s+(?:\w+\s+)?{_ARTIFACT}\s+(?:\w+\s+)?(?:caused|broke|took\s+down"
                r"|brought\s+down|triggered|crashed|led\s+to|resulted\s+in"
                r"|(?:is|was)\s+what\s+(?:broke|caused|took\s+down|triggered))\b"
            ),
            _PERSON_CAUSE,
            _subject_ok,
        ),
        # --- human error ------------------------------------------------------------------
        _Rule(he, rx(rf"\b{_HE_TERM}\b"), _HUMAN_ERROR, _human_error_ok),
        # --- cause statements: any named participant, or a person acting -----------------
        _Rule(pc, rx(name), _CAUSE_MENTION, None, cause_only=True),
        _Rule(
            pc,
            rx(
                rf"(?P<subj>{pron}|\b{_ROLE_NP})\s+{_ADV}"
                r"(?!(?:was|were|need|needed|used|based|related|lacked|received|wanted|seemed"
                r"|appeared|depended|relied|required|expected|followed)\b)"
                r"(?:\w+ed|ran|did|made|put|set|left|wrote|sent|hit|shut|took|gave|went|forgot"
                r"|ignored|deleted|pushed|merged|approved)\b"
            ),
            _PERSON_CAUSE,
            _subject_ok,
            cause_only=True,
        ),
    )


# --------------------------------------------------------------------------------------------
# Filters shared by every rule.
# --------------------------------------------------------------------------------------------


def _clause_window(text: str, pos: int, limit: int = 60) -> str:
    """Text between the start of the current clause and ``pos`` (at most ``limit`` chars)."""
    lo = max(0, pos - limit)
    window = text[lo:pos]
    cut = 0
    for b in _CLAUSE_BOUNDARY.finditer(window):
        cut = b.end()
    return window[cut:]


def _negated(text: str, start: int) -> bool:
    # "This was not anyone's fault", "Nobody dropped the ball": the cue precedes the phrase.
    return _NEGATION.search(_clause_window(text, start)) is not None


def _quoted(text: str, start: int, end: int) -> bool:
    # "avoid words like 'careless'" mentions the word rather than using it.
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    return bool(before) and before[-1] in _QUOTES_OPEN and bool(after) and after[0] in _QUOTES_CLOSE


def _name_is_word(text: str, m: re.Match[str]) -> bool:
    """True when a matched participant name is really an ordinary word ("will", "mark")."""
    try:
        span = m.group("name")
    except IndexError:
        return False
    if not span:
        return False
    bare = span.lstrip("@")
    return bare.islower() and bare.lower() in _COMMON_WORD_NAMES


def _normalise_people(people: Collection[str]) -> tuple[str, ...]:
    """Full names plus their parts, so "Emma Larsen" also matches "Larsen didn't wait"."""
    if isinstance(people, str):  # a bare string is a Collection[str] of letters; mean one name
        people = (people,)
    out: set[str] = set()
    for raw in people:
        full = " ".join(str(raw).strip().lstrip("@").split())
        if len(full) < 2:
            continue
        out.add(full)
        for part in full.split():
            if len(part) >= 2:
                out.add(part)
    return tuple(sorted(out, key=str.lower))


@lru_cache(maxsize=256)
def _participants(people: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """Normalised names and their lower-cased set; callers pass the same catalogue every time."""
    names = _normalise_people(people)
    return names, frozenset(n.lower() for n in names)


@lru_cache(maxsize=64)
def _name_scanner(names: tuple[str, ...]) -> tuple[re.Pattern[str], Requirement]:
    """The names regex, and the words it needs (most texts name nobody: skip the scan)."""
    body = _name_body(names)  # the rules' ``name`` group
    return re.compile(body, _FLAGS), requirements([derive(body, _FLAGS)])[0]


def _present(
    names: tuple[str, ...], text: str, folded: FoldedText | None = None
) -> tuple[str, ...]:
    """The participant names that occur in ``text``.

    Rules are compiled per name set, and a whole people catalogue baked into every rule makes
    both compiling and matching slow; texts mention a handful of people at most, so the rules only
    ever see those (and rule sets are shared between texts that mention the same people).
    With ``folded``, the scan is skipped when no name's words occur in the text.
    """
    if not names:
        return ()
    scanner, needs = _name_scanner(names)
    if folded is not None and not satisfied(needs, folded):
        return ()
    seen = {" ".join(m.group(0).lstrip("@").split()).lower() for m in scanner.finditer(text)}
    return tuple(n for n in names if n.lower() in seen)


def _dedupe(matches: list[BlameMatch]) -> list[BlameMatch]:
    """Keep the widest of overlapping matches so one phrase yields one finding."""
    ordered = sorted(matches, key=lambda b: (b.start, -(b.end - b.start)))
    kept: list[BlameMatch] = []
    for b in ordered:
        if kept and b.start < kept[-1].end:
            if b.end - b.start > kept[-1].end - kept[-1].start:
                kept[-1] = b
            continue
        kept.append(b)
    return kept


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def find_blame(
    text: str, *, people: Collection[str] = (), as_cause: bool = False
) -> list[BlameMatch]:
    """Return blameful phrases in ``text``, ordered by position.

    people: participant names known for this incident (case-insensitive). as_cause: the text is a
    cause statement, so any named person or 'human error' is blame.

    ``people`` matters because "failed to" is only blame when a person is the subject, and only
    the incident knows that "Kafka" is a system and "Kenji" a responder. Names that are also
    common words ("Will", "Mark") only match when capitalised.
    """
    return _scan(text, people, as_cause, prefilter=True)


def _find_blame_reference(
    text: str, *, people: Collection[str] = (), as_cause: bool = False
) -> list[BlameMatch]:
    """:func:`find_blame` without the keyword prefilter: every rule's regex runs on every text.

    The prefilter must never change a result; tests compare the two on many texts.
    """
    return _scan(text, people, as_cause, prefilter=False)


def _scan(
    text: str, people: Collection[str], as_cause: bool, *, prefilter: bool
) -> list[BlameMatch]:
    if not text or not text.strip():
        return []
    key = (people,) if isinstance(people, str) else tuple(people)
    # The same people list comes with every text of an incident, so normalise it once. Only
    # all-str keys are shared: equal keys must mean equal input, and 1 == True but "1" != "True".
    if prefilter and all(type(p) is str for p in key):
        names, lowered = _participants(key)
    else:
        names = _normalise_people(people)
        lowered = frozenset(n.lower() for n in names)
    ctx = _Ctx(as_cause=as_cause, names=lowered)
    folded = FoldedText(text) if prefilter else None
    found: list[BlameMatch] = []
    for rule in _rules(_present(names, text, folded)):
        if rule.cause_only and not as_cause:
            continue
        # Most texts lack the fixed words of most rules ("forgot", "fault", "without"); skipping
        # those rules is what makes the scan cheap. Skips only rules that cannot match.
        if folded is not None and not satisfied(rule.needs, folded):
            continue
        for m in rule.pattern.finditer(text):
            start, end = m.start(), m.end()
            if start == end or _name_is_word(text, m):
                continue
            if rule.check is not None and not rule.check(text, m, ctx):
                continue
            if _negated(text, start) or _quoted(text, start, end):
                continue
            message, suggestion = rule.text
            found.append(BlameMatch(rule.kind, start, end, text[start:end], message, suggestion))
    return _dedupe(found)


def is_blameful(text: str, *, people: Collection[str] = (), as_cause: bool = False) -> bool:
    """True if :func:`find_blame` finds anything; for gates that only need a yes/no."""
    return bool(find_blame(text, people=people, as_cause=as_cause))
