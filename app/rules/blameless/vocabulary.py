"""Regex fragments every rule shares, and the keywords each fragment cannot match without.

Kept as pattern fragments so every rule shares one definition of "a person". Rule patterns in the
table name a fragment as ``{NAME}`` (see :func:`app.rules.blameless.table.expand`). Next to each
fragment a rule's subject or object can be, its keyword group (see ``prefilter``): any match of the
fragment contains one of those words. Change a fragment, change its group; the tests catch a
group that has fallen behind.
"""

from __future__ import annotations

import re

from .prefilter import NAME

FLAGS = re.IGNORECASE

# Filler adverbs that sit between a subject and its verb ("Bob simply forgot").
ADV = (
    r"(?:(?:just|simply|clearly|obviously|really|also|then|again|still|even|apparently|basically"
    r"|actually|somehow|probably|unfortunately|evidently|completely|totally|literally|frankly"
    r"|honestly|once\s+again)\s+)*"
)
DET = r"(?:the|our|an?|that|this|one|some|your|their|his|her|my)"
ROLE_MOD = (
    r"(?:new|junior|senior|responsible|assigned|primary|secondary|human|on-?call|same|other"
    r"|remote|lead|tired|inexperienced)"
)
ROLE_NOUN = (
    r"(?:intern|new\s+hire|new\s+guy|new\s+girl|newbie|noob|devs?|developers?|engineers?|sres?"
    r"|dbas?|operator|admins?|administrators?|sysadmins?|contractors?"
    r"|on-?call(?:\s+(?:engineer|person|sre|dev|developer|admin|responder))?"
    r"|on\s+call\s+(?:engineer|person)|responders?|reviewers?|author|release\s+(?:manager|captain)"
    r"|incident\s+commander|team\s+lead|tech\s+lead|manager|person|someone|somebody|ops"
    r"|nurses?|supervisors?|technicians?|techs?|analysts?|scientists?|dispatchers?|pharmacists?"
    r"|clerks?|coordinators?|specialists?|consultants?"
    r"|[a-z]+\s+(?:team|folks|guys|crew|squad)(?!\s+lead))"
)
# Every ROLE_NOUN alternative is a whole word where a subject or a possessive is expected (it is
# followed by whitespace, a comma or an apostrophe), so those groups are set lookups; as an
# object ({REF}) other characters may follow, so there only its start is a word edge.
ROLE_NOUN_WORDS = (
    " intern ", " new ", " newbie ", " noob ", " dev ", " devs ", " developer ", " developers ",
    " engineer ", " engineers ", " sre ", " sres ", " dba ", " dbas ", " operator ", " admin ",
    " admins ", " administrator ", " administrators ", " sysadmin ", " sysadmins ",
    " contractor ", " contractors ", " call ", " oncall ", " responder ", " responders ",
    " reviewer ", " reviewers ", " author ", " release ", " incident ", " team ", " tech ",
    " manager ", " person ", " someone ", " somebody ", " ops ", " folks ", " guys ", " crew ",
    " squad ", " nurse ", " nurses ", " supervisor ", " supervisors ", " technician ",
    " technicians ", " techs ", " analyst ", " analysts ", " scientist ", " scientists ",
    " dispatcher ", " dispatchers ", " pharmacist ", " pharmacists ", " clerk ", " clerks ",
    " coordinator ", " coordinators ", " specialist ", " specialists ", " consultant ",
    " consultants ",
)  # fmt: skip
ROLE_WORDS = (
    " intern", " new", " noob", " dev", " engineer", " sre", " dba", " operator", " admin",
    " sysadmin", " contractor", "call", " responder", " reviewer", " author", " release",
    " incident", " team", " tech", " manager", " person", " someone", " somebody", " ops",
    " folks", " guys", " crew", " squad", " nurse", " supervisor", " technician", " analyst",
    " scientist", " dispatcher", " pharmacist", " clerk", " coordinator", " specialist",
    " consultant",
)  # fmt: skip
ROLE_QUAL = r"(?:\s+(?:on\s+(?:duty|shift|call)|in\s+charge|at\s+the\s+keyboard))?"
# A short relative clause: "the developer who wrote the migration [never tested it]".
ROLE_REL = r"(?:\s+(?:who|that)\s+[^,.;:!?()]{1,50}?)?"
# An optional capitalised name may follow the role ("developer Hiroshi"); case-sensitive so that
# "operator error" is not read as a role plus name. "operator error" / "engineer mistake" are the
# human-error idiom, not a person acting.
ROLE_NP = (
    rf"(?P<role>(?:{DET}\s+)?(?:{ROLE_MOD}\s+)*{ROLE_NOUN}(?-i:\s+[A-Z][a-z]+)?{ROLE_QUAL})"
    rf"(?![\s-]+(?:error|mistake)s?\b){ROLE_REL}"
)
WHOEVER = r"(?P<whoever>whoever\s+[^,.;:!?()]{1,40}?)"
# "Jane, who was on call, failed to ..." / "Chris, the on-call SRE, ..."
APPOS = r"(?:\s*,\s*(?:who|the|our|an?)\b[^,.;:!?()]{1,40},)?"
NEVER = r"(?!)"  # used when no participant names are known

# Subjects, each with its keyword group. {NAME} is the participant-name alternation.
PRON = r"(?P<pron>\b(?:he|she|i)\b)"
PRON_THEY = r"(?P<pron>\b(?:he|she|i|they)\b)"
S = r"(?P<subj>{NAME}|{PRON}|\b{WHOEVER}|\b{ROLE_NP}){APPOS}\s+{ADV}"
S_THEY = r"(?P<subj>{NAME}|{PRON_THEY}|\b{WHOEVER}|\b{ROLE_NP}){APPOS}\s+{ADV}"
REF = r"(?:{NAME}|\b(?:him|her|me)\b|\b{ROLE_NP})"
POSS = r"(?:{NAME}|\b(?:{DET}\s+)?(?:{ROLE_MOD}\s+)*{ROLE_NOUN})(?:[’']s|[’'](?!\w))"

PRONOUN_WORDS = (" he ", " she ", " i ")
PERSON = (*PRONOUN_WORDS, " whoever ", *ROLE_NOUN_WORDS, NAME)  # {S}
PERSON_OR_THEY = (*PERSON, " they ")  # {S_THEY}
OBJECT = (" him ", " her ", " me ", *ROLE_WORDS, NAME)  # {REF}
OWNER = (*ROLE_NOUN_WORDS, NAME)  # {POSS}
ACTOR = (*PRONOUN_WORDS, *ROLE_NOUN_WORDS)  # {PRON} or {ROLE_NP}, no name

# Verbs that describe not doing something; with a person subject they read as blame.
OMISSION_VERB = (
    r"(?:check|verify|test|follow|read|look|notice|review|escalate|communicate|tell|inform"
    r"|update|wait|validate|double[-\s]?check|confirm|consider|think|listen|care|ask|announce"
    r"|document|coordinate|back\s+up|heed|monitor|watch|acknowledge|ack|page|warn|drain|fence"
    r"|respond|react|reply|report|raise|flag|mention|notify|hand\s+(?:off|over)|plan|prepare"
    r"|proofread|investigate|run|use|lock|pay\s+attention|bother)\w*"
)
OMISSION_WORDS = (
    " check", " verify", " test", " follow", " read", " look", " notice", " review", " escalate",
    " communicate", " tell", " inform", " update", " wait", " validate", " double", " confirm",
    " consider", " think", " listen", " care", " ask", " announce", " document", " coordinate",
    " back", " heed", " monitor", " watch", " ack", " page", " warn", " drain", " fence",
    " respond", " react", " reply", " report", " raise", " flag", " mention", " notify", " hand",
    " plan", " prepare", " proofread", " investigate", " run", " use", " lock", " pay", " bother",
)  # fmt: skip
NEG_AUX = (
    r"(?:did\s+not|didn[’']?t|did\s+n[’']t|does\s+not|doesn[’']?t|has\s+not|hasn[’']?t"
    r"|had\s+not|hadn[’']?t|have\s+not|haven[’']?t|never)"
)
NEG_AUX_WORDS = (
    " did ", " didn ", " didnt ", " does ", " doesn ", " doesnt ", " has ", " hasn ", " hasnt ",
    " had ", " hadn ", " hadnt ", " have ", " haven ", " havent ", " never ",
)  # fmt: skip
CAUSE_VERB = (
    r"(?:broke|breaks|(?:took|takes|brought|brings)\s+(?:\w+\s+){0,2}?down|crashed|nuked"
    r"|caused|causes|destroyed|corrupted|trashed|borked|hosed|tanked|blew\s+away)"
)
# Rule blame.cause.person_broke puts \b after CAUSE_VERB, so these are whole words.
CAUSE_VERB_WORDS = (
    " broke ", " breaks ", " down ", " crashed ", " nuked ", " caused ", " causes ",
    " destroyed ", " corrupted ", " trashed ", " borked ", " hosed ", " tanked ", " blew ",
)  # fmt: skip
ARTIFACT = (
    r"(?:change|changes|commit|commits|deploy|deployment|pr|pull\s+request|push|config|script"
    r"|migration|code|query|command|patch|merge|release|rollout|edit|typo|update|hotfix|fix"
    r"|terraform|cleanup)"
)
# Where the rules use ARTIFACT_WORDS, ARTIFACT follows whitespace and ends a word.
ARTIFACT_WORDS = (
    " change ", " changes ", " commit ", " commits ", " deploy ", " deployment ", " pr ",
    " pull ", " push ", " config ", " script ", " migration ", " code ", " query ", " command ",
    " patch ", " merge ", " release ", " rollout ", " edit ", " typo ", " update ", " hotfix ",
    " fix ", " terraform ", " cleanup ",
)  # fmt: skip
INCIDENT_NOUN = (
    r"(?:outage|incident|downtime|failure|breakage|regression|data\s+loss|breach|problem|issue"
    r"|mess|disaster|lag|crash|bug|page|degradation|disruption|this|it)"
)
# "... without following the checklist": the sentence frames a skipped safeguard as a choice.
WITHOUT_SAFEGUARD = (
    r"[^.;!?]{0,40}?\bwithout\s+(?:first\s+|even\s+)?"
    r"(?:following|checking|testing|reading|verifying|waiting\s+for|reviewing|asking"
    r"|telling|notifying|looking\s+at|thinking|(?:a\s+|any\s+)?(?:review|approval"
    r"|testing|permission|sign-?off|(?:a\s+single\s+)?tests?))\b"
)
HE_TERM = (
    r"(?:(?:human|operator|user|pilot|personnel|manual)[\s-]+(?:error|mistake)s?"
    r"|human[\s-]+(?:failure|slip)s?|(?:human|operator|user)[\s-]+(?:induced|caused)"
    r"|pebkac|pebcak|id-?10-?t\s+error|layer[\s-]?8\s+(?:problem|issue|error)s?"
    r"|people\s+(?:problem|issue)s?|wetware\s+(?:problem|issue|bug)s?)"
)
# HE_TERM is used between \b and \b; "layer8" need not end a word after "layer".
HE_TERM_WORDS = (
    " error ", " errors ", " mistake ", " mistakes ", " human ", " induced ", " caused ",
    " pebkac ", " pebcak ", " people ", " wetware ", " layer",
)  # fmt: skip

# What ``{NAME}``-style placeholders in rule patterns stand for; S, S_THEY, REF and POSS contain
# ``{NAME}`` themselves, which is filled in per set of names.
FRAGMENTS = {
    "ADV": ADV,
    "DET": DET,
    "ROLE_MOD": ROLE_MOD,
    "ROLE_NOUN": ROLE_NOUN,
    "ROLE_NP": ROLE_NP,
    "WHOEVER": WHOEVER,
    "APPOS": APPOS,
    "PRON": PRON,
    "PRON_THEY": PRON_THEY,
    "S": S,
    "S_THEY": S_THEY,
    "REF": REF,
    "POSS": POSS,
    "OMISSION_VERB": OMISSION_VERB,
    "NEG_AUX": NEG_AUX,
    "CAUSE_VERB": CAUSE_VERB,
    "ARTIFACT": ARTIFACT,
    "INCIDENT_NOUN": INCIDENT_NOUN,
    "WITHOUT_SAFEGUARD": WITHOUT_SAFEGUARD,
    "HE_TERM": HE_TERM,
}


def _words(block: str) -> frozenset[str]:
    """Whitespace-separated word list; easier to review than a list literal."""
    return frozenset(block.split())


# Nouns that make a sentence's subject a system, for verbs people usually own ("forgot").
SYSTEM_NOUNS = _words(
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
BARE_ROLE_PRECEDERS = _words(
    """
    and but so then because that when if since after while lol tbh ugh honestly frankly clearly
    obviously again also why cause where as until once before whereas the our a an this one
    some your their his her my smh imo fyi btw
    """
)
# Names in `people` that are also everyday English words; matched only when capitalised.
COMMON_WORD_NAMES = _words(
    """
    will mark bill rob pat may june grant chase drew hope faith sunny art max jack frank gene ray
    dawn amber summer iris rose august miles don guy bob sage river rusty penny ginger joy
    """
)

PRONOUN_SUBJECTS = _words("he she they i someone somebody")
# Words skipped when looking back from a verb for its subject ("Bob had simply forgotten").
SUBJECT_FILLERS = _words(
    """
    just simply also then again apparently completely totally had has have somehow probably
    clearly obviously really
    """
)
