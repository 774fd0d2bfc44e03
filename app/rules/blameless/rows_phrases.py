"""Blame table, part 2 of 3: idioms and judgements whatever the subject, and more person subjects.

Follows ``rows_subject`` in ``table.TABLE`` (order matters, see there).
"""

from __future__ import annotations

from .advice import (
    CAREFUL,
    COUNTERFACTUAL,
    FAULT,
    HINDSIGHT,
    IDIOM,
    JUDGEMENT,
    OMISSION,
    PERSON_CAUSE,
    SLIP,
)
from .checks import (
    lazy_ok,
    not_system_subject,
    subject_ok,
)
from .rule import IB, PC, BlameRule
from .vocabulary import (
    ARTIFACT_WORDS,
    NEG_AUX_WORDS,
    OBJECT,
    OWNER,
    PERSON,
    PERSON_OR_THEY,
)

ROWS_PHRASES: tuple[BlameRule, ...] = (
    # --- idioms and judgements, whatever the subject ----------------------------------
    BlameRule(
        "blame.idiom.dropped_the_ball",
        IB,
        r"\bdrop(?:ped|s|ping)?\s+the\s+ball\b",
        needs=(" drop | dropped | drops | dropping ", " ball "),
        advice=IDIOM,
    ),
    BlameRule(
        "blame.idiom.asleep_at_the_wheel",
        IB,
        r"\basleep\s+at\s+the\s+wheel\b",
        needs=(" asleep ", " wheel "),
        advice=IDIOM,
    ),
    BlameRule(
        "blame.idiom.one_job",
        IB,
        r"\bhad\s+one\s+job\b|\bblew\s+it\b",
        needs=(" job | blew ",),
        advice=IDIOM,
    ),
    BlameRule(
        "blame.idiom.did_not_bother",
        IB,
        (
            r"\b(?:(?:did|does|do)\s+not|(?:did|does|do)n[’']?t)\s+(?:even\s+)?bother\b"
            r"|\b(?:could\s+not|couldn[’']?t|can[’']?t|cannot)\s+be\s+bothered\b"
        ),
        needs=(" bother | bothered ",),
        advice=IDIOM,
    ),
    BlameRule(
        "blame.hindsight.should_have_known",
        IB,
        r"\b(?:should|ought\s+to)(?:\s+have|[’']ve|\s+of)\s+known(?:\s+better)?\b",
        needs=(" should | ought ", " known "),
        advice=HINDSIGHT,
    ),
    BlameRule(
        "blame.judgement.adjective",
        IB,
        (
            r"\b(?:careless(?:ly|ness)?|negligen(?:t|ce|tly)|sloppy|sloppiness|sloppily"
            r"|lazy|laziness|incompeten(?:t|ce)|reckless(?:ly|ness)?|inattentive(?:ness)?"
            r"|inattention|irresponsibl[ey]|clueless|not\s+(?:very\s+)?attentive)\b"
        ),
        needs=(
            (
                " careless | carelessly | carelessness | negligent | negligence "
                "| negligently | sloppy | sloppiness | sloppily | lazy | laziness "
                "| incompetent | incompetence | reckless | recklessly | recklessness "
                "| inattentive | inattentiveness | inattention | irresponsible "
                "| irresponsibly | clueless | attentive "
            ),
        ),
        advice=JUDGEMENT,
        check=lazy_ok,
    ),
    BlameRule(
        "blame.judgement.inattention",
        IB,
        (
            r"\b(?:(?:was|were|is|are)\s+)?not\s+paying\s+attention\b"
            r"|\b(?:was|were|is|are)n[’']?t\s+(?:\w+\s+)?(?:paying\s+attention|careful|attentive)\b"
            r"|\bnot\s+(?:careful|attentive|diligent)\s+enough\b"
            r"|\b(?:(?:did|does)\s+not|(?:did|does)n[’']?t|failed\s+to)\s+pay\s+attention\b"
            r"|\bpaid\s+no\s+attention\b"
            r"|\b(?:lack|lapse)\s+of\s+(?:attention|care|diligence|judge?ment|discipline)\b"
        ),
        needs=(
            (
                " attention | careful | attentive | diligent | care | diligence "
                "| judgement | judgment | discipline "
            ),
        ),
        advice=JUDGEMENT,
    ),
    BlameRule(
        "blame.careful.be_more_careful",
        IB,
        (
            r"\b(?:be|being|been)\s+more\s+(?:careful|attentive|diligent|vigilant)\b"
            r"|\bpay\s+(?:more|closer)\s+attention\b"
        ),
        needs=(" careful | attentive | diligent | vigilant | attention ", " more | closer "),
        advice=CAREFUL,
    ),
    BlameRule(
        "blame.judgement.rookie_mistake",
        IB,
        r"\b(?:rookie|dumb|stupid|silly|idiotic|amateur|boneheaded)\s+(?:mistake|move|error)s?\b",
        needs=(
            " rookie | dumb | stupid | silly | idiotic | amateur | boneheaded ",
            " mistake | mistakes | move | moves | error | errors ",
        ),
        advice=JUDGEMENT,
    ),
    BlameRule(
        "blame.slip.fat_finger",
        IB,
        r"\bfat[\s-]?finger(?:ed|ing|s)?\b",
        needs=(" fat", "finger"),
        advice=SLIP,
    ),
    BlameRule(
        "blame.slip.yolo",
        IB,
        r"\byolo(?:[’']?d|[’']?ed)?\b",
        needs=(" yolo | yolod | yoloed ",),
        advice=SLIP,
    ),
    BlameRule(
        "blame.omission.failure_to_follow",
        IB,
        (
            r"\bfailure\s+to\s+follow\b|\bfailed\s+to\s+follow\s+(?:the\s+|our\s+|established\s+)?"
            r"(?:[\w-]+\s+)?(?:procedure|process|protocol|policy|runbook|checklist|instructions)"
        ),
        needs=(" fail", " to ", " follow "),
        advice=OMISSION,
    ),
    BlameRule(
        "blame.fault.to_blame",
        IB,
        r"\b(?:is|was|are|were)\s+(?:\w+ly\s+)?to\s+blame\b",
        needs=(" to ", " blame "),
        advice=FAULT,
    ),
    BlameRule(
        "blame.fault.lies_with",
        IB,
        (
            r"\b(?:blame|fault|mistake|error|responsibility)\s+(?:lies|rests|falls|sits)"
            r"\s+(?:squarely\s+|entirely\s+|solely\s+)?(?:with|on)\b"
        ),
        needs=(
            " blame | fault | mistake | error | responsibility ",
            " lies | rests | falls | sits ",
        ),
        advice=FAULT,
    ),
    BlameRule(
        "blame.omission.forgot",
        IB,
        (
            r"\bforg[oe]t(?:ten)?\b|\bforgets\b|\bneglect(?:ed|s|ing)?\b"
            r"(?:\s+to\s+\w+)?"
        ),
        needs=(
            (
                " forgot | forget | forgotten | forgetten | forgets | neglect "
                "| neglected | neglects | neglecting "
            ),
        ),
        advice=OMISSION,
        check=not_system_subject,
    ),
    BlameRule(
        "blame.judgement.idiom",
        IB,
        (
            r"\b(?:cut(?:s|ting)?\s+corners|out\s+of\s+(?:his|her|their|my|your)\s+depth"
            r"|(?:poor|bad|questionable)\s+judge?ment|lapse\s+in\s+judge?ment|mea\s+culpa"
            r"|(?:did\s+not|didn[’']?t)\s+know\s+what\s+(?:he|she|they|i)\s+(?:was|were)"
            r"\s+doing)\b"
        ),
        needs=(" corners | depth | judgement | judgment | culpa | doing ",),
        advice=JUDGEMENT,
    ),
    BlameRule(
        "blame.omission.supposed_to",
        IB,
        (
            r"{S_THEY}(?:was|were|is|are)\s+supposed\s+to\s+[^.;!?]{1,60}?"
            r"\b(?:never\s+did|didn[’']?t|did\s+not|but\s+(?:never|forgot|skipped))"
        ),
        needs=(PERSON_OR_THEY, " supposed ", " never| did| forgot| skipped"),
        advice=OMISSION,
        check=subject_ok,
    ),
    BlameRule(
        "blame.counterfactual.had_person",
        IB,
        (
            r"\bhad\s+(?P<subj>{NAME}|\b(?:he|she|they|i)\b|\b{ROLE_NP})\s+"
            r"(?:just\s+|only\s+|actually\s+)?(?!not\b|been\b)\w+(?:ed|en|wn|ne|ad)\b"
        ),
        needs=(" had ", PERSON_OR_THEY),
        advice=COUNTERFACTUAL,
        check=subject_ok,
    ),
    BlameRule(
        "blame.omission.without_safeguard",
        IB,
        r"{S}\w+\b{WITHOUT_SAFEGUARD}",
        needs=(PERSON, " without "),
        advice=OMISSION,
        check=subject_ok,
    ),
    BlameRule(
        "blame.omission.by_person_without",
        IB,
        r"\bby\s+{REF}{WITHOUT_SAFEGUARD}",
        needs=(" by ", OBJECT, " without "),
        advice=OMISSION,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.culprit",
        PC,
        (
            r"\b(?:the\s+)?(?:person|people|engineer|individual|party|parties|one|ones)"
            r"\s+responsible\b(?!\s+for\s+(?:the\s+)?(?:fix|remediation|follow|action|owning))"
            r"|\b(?:the|a)\s+culprit\b|\bguilty\s+party\b"
            r"|\b(?:held|be\s+held)\s+(?:personally\s+)?(?:accountable|responsible)\b"
            r"|\b(?:has\s+been|was|were|have\s+been|got|be)\s+(?:spoken\s+to|disciplined"
            r"|reprimanded|written\s+up|let\s+go|fired|retrained)\b"
        ),
        needs=(
            (
                " responsible | culprit | guilty | accountable | spoken | disciplined "
                "| reprimanded | written | let | fired | retrained "
            ),
        ),
        advice=PERSON_CAUSE,
    ),
    BlameRule(
        "blame.judgement.distrust_juniors",
        IB,
        (
            r"\b(?:don[’']?t|do\s+not|never|stop)\s+(?:let(?:ting)?|allow(?:ing)?|trust(?:ing)?)"
            r"\s+(?:the\s+)?(?:interns?|juniors?|junior\s+\w+|new\s+hires?|newbies|contractors?)\b"
        ),
        needs=(
            " don | dont | do | never | stop ",
            " let | letting | allow | allowing | trust | trusting ",
            (" intern | interns | junior | juniors | new | newbies | contractor | contractors "),
        ),
        advice=JUDGEMENT,
    ),
    BlameRule(
        "blame.careful.must_be_careful",
        IB,
        (
            r"{S_THEY}(?:must|needs?\s+to|has\s+to|have\s+to|should|ought\s+to)\s+"
            r"(?:always\s+|now\s+)?(?:double[-\s]?check|triple[-\s]?check|be\s+(?:more\s+)?"
            r"(?:careful|attentive|vigilant)|take\s+more\s+care|pay\s+(?:more\s+)?attention)"
        ),
        needs=(
            PERSON_OR_THEY,
            " must | need | needs | has | have | should | ought ",
            " double| triple| care| attenti| vigilant",
        ),
        advice=CAREFUL,
        check=subject_ok,
    ),
    BlameRule(
        "blame.fault.made_mistake",
        IB,
        (
            r"{S_THEY}(?:made|makes|committed)\s+(?:a|an|the|several|multiple|some|two|three)"
            r"\s+(?:\w+\s+)?(?:error|mistake|blunder|typo|slip)s?\b"
        ),
        needs=(
            PERSON_OR_THEY,
            " made | makes | committed ",
            (
                " error | errors | mistake | mistakes | blunder | blunders | typo "
                "| typos | slip | slips "
            ),
        ),
        advice=FAULT,
        check=subject_ok,
    ),
    BlameRule(
        "blame.judgement.no_business",
        IB,
        r"{S_THEY}(?:has|had|have)\s+no\s+business\s+\w+",
        needs=(PERSON_OR_THEY, " business "),
        advice=JUDGEMENT,
        check=subject_ok,
    ),
    BlameRule(
        "blame.judgement.misused",
        IB,
        r"{S_THEY}(?:abused|misused)\s+(?:it|(?:his|her|their|the)\s+\w+)",
        needs=(PERSON_OR_THEY, " abused | misused "),
        advice=JUDGEMENT,
        check=subject_ok,
    ),
    BlameRule(
        "blame.hindsight.anyone_would_have",
        IB,
        (
            r"\bhalf\s+a\s+brain\b|\b(?:any(?:one|body)|any\s+(?:competent|decent|reasonable"
            r"|experienced|good)\s+\w+|a\s+(?:competent|decent|reasonable|good)\s+\w+)\b"
            r"[^.;!?]{0,40}?\bwould\s+have\s+(?:seen|noticed|caught|known|spotted|realized"
            r"|realised|checked)\b"
        ),
        needs=(" brain | would ",),
        advice=HINDSIGHT,
    ),
    BlameRule(
        "blame.fault.mistake_by",
        IB,
        r"\b(?:mistakes?|errors?|blunders?|slips?)\s+(?:made\s+)?by\s+{REF}",
        needs=(
            (" mistake | mistakes | error | errors | blunder | blunders | slip | slips "),
            " by ",
            OBJECT,
        ),
        advice=FAULT,
        check=subject_ok,
    ),
    BlameRule(
        "blame.omission.who_did_not",
        IB,
        (
            r"{REF}\s*,?\s+who\s+{ADV}(?:{NEG_AUX}\s+{ADV}{OMISSION_VERB}"
            r"|(?:forgot|neglected|ignored|overlooked|missed|skipped)\b)"
        ),
        needs=(
            OBJECT,
            " who ",
            (
                *NEG_AUX_WORDS,
                " forgot ",
                " neglected ",
                " ignored ",
                " overlooked ",
                " missed ",
                " skipped ",
            ),
        ),
        advice=OMISSION,
        check=subject_ok,
    ),
    BlameRule(
        "blame.cause.traced_to_artifact",
        PC,
        r"\btraced\s+(?:\w+\s+){0,3}?(?:back\s+)?to\s+(?:{POSS}\s+(?:\w+\s+)?{ARTIFACT}\b)",
        needs=(" traced ", " to ", OWNER, ARTIFACT_WORDS),
        advice=PERSON_CAUSE,
        check=subject_ok,
    ),
)
