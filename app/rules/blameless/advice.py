"""What each rule says: why the phrase reads as blame, and a systems-focused rewrite.

Pairs of (message, suggestion), shared by the rules that raise them.
"""

from __future__ import annotations

Advice = tuple[str, str]

OMISSION: Advice = (
    "Framing an omission as a person's failure explains who, not why; the same gap will trip the "
    "next person.",
    "Describe what made the step easy to miss: was it in the runbook or checklist, automated, "
    "surfaced by tooling? e.g. 'certificate renewal relied on a manual step with no reminder'.",
)
JUDGEMENT: Advice = (
    "A character judgement ('careless', 'negligent', 'lazy') is blame and says nothing about how "
    "the system allowed the action.",
    "Drop the adjective and describe the action and its context: what information, tooling and "
    "time pressure shaped it, and what guardrail was missing.",
)
HINDSIGHT: Advice = (
    "'Should have' is hindsight: it judges a past decision with knowledge that was not available "
    "at the time.",
    "Describe what was known at the time and which signals were or were not visible; then ask "
    "what would make the right action obvious (an alert, a check, a clearer runbook step).",
)
IDIOM: Advice = (
    "This idiom assigns personal blame.",
    "Name the gap in the process instead of the person: unclear ownership, a missed handoff, no "
    "reminder or automation.",
)
FAULT: Advice = (
    "Attributing fault or a mistake to a person makes the individual the explanation.",
    "Describe the action and the conditions that made it possible, e.g. 'the config change was "
    "applied without validation' rather than 'it was Priya's mistake'.",
)
IGNORED: Advice = (
    "Saying a person ignored or missed a signal blames them without explaining why the signal "
    "did not stand out.",
    "Explain why the signal was easy to miss: alert volume, signal-to-noise, where and how it was "
    "shown, competing work.",
)
SLIP: Advice = (
    "Labelling an action as a person's slip ('accidentally', 'fat-fingered', 'messed up') "
    "centres the individual.",
    "Describe what made the wrong action look right or easy: e.g. 'the command ran against "
    "production because the prompt did not show the environment and there was no confirmation'.",
)
CAREFUL: Advice = (
    "Asking people to 'be more careful' is not a remediation; attention is not a control.",
    "Propose a guardrail instead of more care: a confirmation prompt, dry run, automation, "
    "two-person review, or a safer default.",
)
COUNTERFACTUAL: Advice = (
    "A counterfactual about what one person should have done is hindsight blame.",
    "State what happened and what information was available; ask what would have made the "
    "alternative action the natural one.",
)
PERSON_CAUSE: Advice = (
    "Naming a person as the cause stops the analysis at who acted instead of why the system let "
    "the action cause harm.",
    "Name the change or condition as the cause, not the person: e.g. 'config change #1234 removed "
    "the timeout and nothing validated it' instead of 'Bob broke it'.",
)
CAUSE_MENTION: Advice = (
    "A cause statement that names a participant reads as blame, even if the wording is neutral.",
    "Rewrite the cause around the condition or change (the commit, the config, the missing check) "
    "and leave people to the timeline.",
)
HUMAN_ERROR: Advice = (
    "'Human error' is where an investigation should start, not its conclusion; as a cause it "
    "blames the person and hides the system.",
    "Describe the conditions that made the mistake easy: missing guardrail, confusing UI, absent "
    "review, ambiguous runbook, time pressure.",
)
MODEL_BLAME: Advice = (
    "Written this way, the sentence makes a person's action, omission or character the "
    "explanation (flagged by the learned classifier, which no phrase rule covers).",
    "Keep who did what for the timeline and rewrite the sentence around the conditions: what "
    "the person could see at the time, what the tooling and process allowed, which guardrail was "
    "missing, e.g. 'the page went unanswered because it was routed to a phone on silent'.",
)
_HINDSIGHT_CUES = ("should", "ought", "would have", "could have", "if only", "had ")


def for_model(kind: str, sentence: str, as_cause: bool) -> Advice:
    """Advice for a sentence the model flagged without a rule pointing at it."""
    if kind == "human_error":
        return HUMAN_ERROR
    if kind == "person_as_cause":
        return CAUSE_MENTION if as_cause else PERSON_CAUSE
    lowered = sentence.lower()
    return HINDSIGHT if any(c in lowered for c in _HINDSIGHT_CUES) else MODEL_BLAME
