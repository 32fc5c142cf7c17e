"""Does a stretch of an answer say a statement, or its opposite?

Sentence embeddings are poor at this: "dropout stays on at inference" and "dropout is
off at inference" sit at nearly the same cosine from either statement, and on twelve
hand-made agree/contradict pairs MiniLM's cosine ranked them backwards (AUC 0.29).  So
the grader asks the embedding *what* a window talks about and asks this module *which
way* it says it, with explicit, inspectable cues on the words the two texts share:

* **negation** - "not", "never", "no", "n't", "without" ... that scope over (come within
  a few words before) a content word the two texts share;
* **antonyms** - one text says "increases", "faster", "harmless", "on", the other
  "decreases", "slower", "bug", "off" where the first word is absent;
* **disavowal** - "people think ...", "it's a myth that ...", "a classic bug is ...":
  the window names a belief in order to reject it.

The result is a :class:`Polarity` with the reasons, so a flag can say *why* it fired.
Each cue is weak on its own; what makes it usable is that the grader only asks about
windows the embedding already found to be on the same claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rubrics import stopwords

_WORD = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?|[.,;:!?]")
_CONTRACTIONS = {
    "can't": ("can", "not"), "cannot": ("can", "not"), "won't": ("will", "not"), "shan't": ("shall", "not"),
    "ain't": ("is", "not"),
}
NEGATORS = frozenset(
    {"not", "no", "never", "none", "nothing", "neither", "nor", "without", "nobody", "nowhere", "hardly", "barely"}
)
# A negator's scope: the next few words, up to a clause break.
SCOPE = 5
_CLAUSE_BREAK = frozenset({".", ";", ":", "!", "?", "but", "however", "although", "though", "whereas", "instead", "because"})

# Pairs of words that flip a claim when one replaces the other.  Kept to words whose
# swap is a contradiction in this domain's sentences (not "train"/"test", which are
# often both right).
_ANTONYM_PAIRS = [
    ("on", "off"), ("active", "inactive"), ("enabled", "disabled"), ("enable", "disable"),
    ("increase", "decrease"), ("increases", "decreases"), ("increased", "decreased"), ("increasing", "decreasing"),
    ("more", "less"), ("more", "fewer"), ("higher", "lower"), ("larger", "smaller"), ("bigger", "smaller"),
    ("faster", "slower"), ("always", "never"), ("always", "sometimes"), ("same", "different"),
    ("equivalent", "different"), ("identical", "different"), ("helps", "hurts"), ("better", "worse"),
    ("before", "after"), ("stable", "unstable"), ("cheaper", "costlier"), ("cheap", "expensive"),
    ("raises", "lowers"), ("grow", "shrink"), ("grows", "shrinks"), ("up", "down"),
    ("overfit", "underfit"), ("overfitting", "underfitting"), ("vanish", "explode"), ("vanishing", "exploding"),
    ("linear", "nonlinear"), ("necessary", "unnecessary"), ("needed", "unneeded"), ("required", "optional"),
    ("with", "without"), ("keep", "drop"), ("kept", "dropped"), ("includes", "excludes"), ("include", "exclude"),
    ("most", "least"), ("all", "none"), ("everything", "nothing"), ("true", "false"), ("correct", "wrong"),
    ("precise", "imprecise"), ("biased", "unbiased"), ("safe", "unsafe"), ("fine", "wrong"),
    ("harmless", "harmful"), ("good", "bad"), ("works", "breaks"), ("still", "already"),
]
ANTONYMS: dict[str, frozenset[str]] = {}
for _a, _b in _ANTONYM_PAIRS:
    ANTONYMS[_a] = ANTONYMS.get(_a, frozenset()) | {_b}
    ANTONYMS[_b] = ANTONYMS.get(_b, frozenset()) | {_a}

# Phrases with which a speaker names a belief to reject it, as people say them aloud
# ("I'd push back on the idea that ...", "true on paper, but not in practice").  They are
# matched on :func:`words`, which spells "isn't" as "is not": see ``_DISAVOWAL``.
DISAVOWALS = (
    "people think", "people assume", "people believe", "people say", "some people think", "a lot of people think",
    "people often think", "folks think", "everyone thinks", "common misconception", "misconception", "myth",
    "it's a myth", "classic bug", "classic mistake", "common mistake", "common bug", "a bug", "a mistake", "pitfall",
    "not true", "isn't true", "is wrong", "it's wrong", "that's wrong", "is false", "the trap", "a trap",
    "don't fall for", "contrary to", "naive view", "you'd think", "you might think", "you would think",
    "it's tempting to", "tempting to think", "used to think", "not the case", "isn't the case", "a classic error",
    "common error", "push back on", "the idea that", "the claim that", "the argument that", "the notion that",
    "the belief that", "doesn't hold up", "not in practice", "on paper", "no longer true",
    "not true anymore", "misleading", "it's not that", "doesn't mean", "wishful thinking",
    "a red flag", "an anti-pattern", "anti pattern", "overrated",
)
STOPWORDS = stopwords.POLARITY  # not a claim's content; negators kept (rubrics/stopwords.py: why it differs)


def words(text: str) -> list[str]:
    """Lower-case words and clause punctuation, with "n't" split off as "not"."""
    out: list[str] = []
    for w in _WORD.findall(text.lower().replace("\u2019", "'")):
        if w in _CONTRACTIONS:
            out.extend(_CONTRACTIONS[w])
        elif w.endswith("n't"):
            out.extend((w[:-3] or "do", "not"))
        else:
            out.append(w)
    return out


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude stem, enough to align "zeroes"/"zeroed"/"zeroing" and "layers"/"layer"."""
    for suffix in ("ations", "ation", "ingly", "ings", "ing", "edly", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _content_stems(ws: list[str]) -> set[str]:
    return {stem(w) for i, w in enumerate(ws) if w.isalnum() and w not in STOPWORDS and w not in NEGATORS
            and not _preposition(ws, i)}


# "on" and "off" are a claim ("dropout stays on at inference", "switch it off") or only a
# preposition ("stop on the test set", "not training on it"); as a preposition they are
# no content word, or "we are not training on it" negated the "on" of "never early stop
# on the test set" and a right answer read as the belief it rejects (seen in use).
_STATE_WORDS = frozenset({"on", "off"})
_AFTER_A_STATE = frozenset(
    {"at", "during", "in", "for", "when", "while", "by", "after", "before", "until", "and", "or", "then", "so", "but",
     "again", "too", "anyway", "both", "either", "as", "if", "unless", "because", "since", "whereas", "once", "all",
     "whenever"}
)


def _preposition(ws: list[str], i: int) -> bool:
    """Is ``ws[i]`` ("on", "off") a preposition with its object after it, not a state?"""
    if ws[i] not in _STATE_WORDS or i + 1 >= len(ws):
        return False
    nxt = ws[i + 1]
    return nxt.isalnum() and nxt not in _AFTER_A_STATE


_COPULAS = frozenset({"is", "are", "was", "were", "be", "been", "it's", "that's", "s", "does", "do", "did"})


def _rejects_a_choice(ws: list[str], i: int) -> bool:
    """ "..., not an LSTM from scratch": a negator before an indefinite article, not after a
    copula, turns down an alternative; it denies nothing that is said about that thing
    ("dropout is not a permanent removal" still denies, after "is")."""
    return i + 1 < len(ws) and ws[i + 1] in {"a", "an"} and (i == 0 or ws[i - 1] not in _COPULAS)


_CONDITIONALS = frozenset({"if", "unless", "whether"})


def _in_condition(ws: list[str], i: int) -> bool:
    """Does the negator at ``i`` sit in an "if"/"unless" clause opened a few words before it?"""
    for b in reversed(ws[max(0, i - 4) : i]):
        if b == "," or b in _CLAUSE_BREAK:
            return False
        if b in _CONDITIONALS:
            return True
    return False


# Negators that deny the noun phrase after them ("no communication", "without a mask"),
# not the rest of the clause: their scope is short and ends at a comma.
_DETERMINER_NEGATORS = frozenset({"no", "none", "nothing", "nobody", "nowhere", "without"})
_DETERMINER_SCOPE = 3
_AUXILIARIES = frozenset(
    {"do", "does", "did", "is", "are", "was", "were", "can", "will", "would", "should", "could", "has", "have"}
)


def _elliptical(ws: list[str], i: int) -> bool:
    """ "neural nets need it, trees don't", "... in one layer, it doesn't": an auxiliary and
    a negator that end their clause deny the words before them.  The clause must be seen to
    end: a window cut after "20k tickets is not" goes on "... much data"."""
    return i > 0 and ws[i - 1] in _AUXILIARIES and i + 1 < len(ws) and ws[i + 1] in {",", ".", ";", "!", "?"}


def _negated_stems(ws: list[str], shared: set[str], skip: frozenset[int] = frozenset()) -> int:
    """How many negators in ``ws`` scope over a word in ``shared`` ("not always" counts too).

    ``skip``: positions of negators that belong to a disavowal ("doesn't mean ...", "it's not
    true that ..."), which is counted once as itself, not again as a negation.
    """
    count = 0
    for i, w in enumerate(ws):
        if w not in NEGATORS or i in skip:
            continue
        if _rejects_a_choice(ws, i) or (w == "nothing" and ws[i + 1 : i + 2] == ["like"]):
            continue
        if _elliptical(ws, i):
            before = ws[max(0, i - 2 - SCOPE) : i - 1]
            if any(stem(b) in shared for b in before if b.isalnum()):
                count += 1
            continue
        determiner = w in _DETERMINER_NEGATORS
        # "if that isn't enough, use class weights": a negation inside a condition ends
        # with it, at its comma; it says nothing about the clause that follows.
        conditional = _in_condition(ws, i)
        for k, nxt in enumerate(ws[i + 1 : i + 1 + (_DETERMINER_SCOPE if determiner else SCOPE)], start=i + 1):
            if nxt in _CLAUSE_BREAK or ((determiner or conditional) and nxt == ","):
                break
            if stem(nxt) in shared and not _preposition(ws, k):
                count += 1
                break
    return count


_CONTEXT_WORDS = frozenset({"during", "at", "in", "for", "while", "when", "on", "inside", "before", "after", "within"})


def _restrictive(ws: list[str]) -> bool:
    """ "used only during training" (or "on the training split only") is "not used at
    inference": an "only" or "just" that limits where or when something holds makes a
    negation on the other side compatible.
    ("can only help", "not only slower" limit nothing of the kind.)"""
    return any(
        w in {"only", "just"}
        and (
            any(n in _CONTEXT_WORDS for n in ws[i + 1 : i + 3])
            # after its phrase: "fit on the training split only, then ..."
            or (any(b in _CONTEXT_WORDS for b in ws[max(0, i - 4) : i]) and (i + 1 == len(ws) or not ws[i + 1].isalnum()))
        )
        for i, w in enumerate(ws)
    )


# Words that open the part of a statement it contrasts itself with.  "while" counts only
# before a noun phrase ("while an LSTM relays"), not as time ("while training").
_FOIL_MARKERS = frozenset({"whereas", "unlike", "than", "versus", "vs", "instead", "rather"})
_DETERMINERS = frozenset({"a", "an", "the", "its", "their", "this", "that", "these", "those", "it", "they", "other"})


def foil_stems(ws: list[str]) -> set[str]:
    """Content stems that a statement names only as its contrast, after "whereas", "unlike",
    "rather than", "while a ..." up to the clause's end, and nowhere before the marker."""
    foil: set[str] = set()
    asserted: set[str] = set()
    in_foil = False
    for i, w in enumerate(ws):
        if w in _FOIL_MARKERS or (w == "while" and i + 1 < len(ws) and ws[i + 1] in _DETERMINERS):
            in_foil = True
            continue
        if w in {".", ";", "!", "?"}:
            in_foil = False
            continue
        if w.isalnum() and w not in STOPWORDS and w not in NEGATORS:
            (foil if in_foil else asserted).add(stem(w))
    return foil - asserted


@dataclass(frozen=True)
class Polarity:
    """How a window stands to a statement: the same way, or the opposite, and why."""

    flips: int  # negation, antonym and disavowal cues that point opposite ways
    reasons: tuple[str, ...]
    shared: int  # content words the two have in common (the claim they both talk about)

    @property
    def opposite(self) -> bool:
        return self.flips % 2 == 1


@lru_cache(maxsize=8192)
def compare(window: str, statement: str, disavowal: bool = True) -> Polarity:
    """Compare the polarity of ``window`` with that of ``statement``.

    ``disavowal`` counts "people think ...", "a classic bug is ..." as turning the
    window's claim around; that is right against a wrong belief ("a classic bug is a
    softmax before the loss" rejects "a softmax before the loss is harmless") and wrong
    against a true statement of the consequence ("... it applies softmax twice"), so
    the grader asks for it only when comparing with misconceptions.  Both texts are
    plain text; the function is pure and cached (the same rubric statements come back).
    """
    ww, sw = words(window), words(statement)
    wc, sc = _content_stems(ww), _content_stems(sw)
    shared = wc & sc
    wset, sset = set(ww), set(sw)
    # An antonym of a statement word is the claim too: "not always" against "sometimes"
    # is two flips (negation, antonym) that cancel.
    swapped = {stem(a) for s_word in sset & ANTONYMS.keys() for a in ANTONYMS[s_word] & wset}
    swapped |= {stem(a) for w_word in wset & ANTONYMS.keys() for a in ANTONYMS[w_word] & sset}
    reasons: list[str] = []
    flips = 0
    # What the statement sets itself against ("..., while an LSTM relays ...", "unlike a
    # CNN"): rejecting that foil ("not an LSTM from scratch") agrees with the statement.
    claim = (shared | swapped) - foil_stems(sw)
    w_disavows = disavowal and disavows(ww) and not disavows(sw)
    neg_w = _negated_stems(ww, claim, _disavowal_negators(ww) if w_disavows else frozenset())
    neg_s = _negated_stems(sw, claim)
    if (neg_w - neg_s) % 2 and not (_restrictive(ww) or _restrictive(sw)):
        flips += 1
        reasons.append("negated" if neg_w > neg_s else "negation dropped")
    for s_word in sorted(sset & ANTONYMS.keys()):
        if s_word in wset:
            continue
        opposite = sorted((ANTONYMS[s_word] & wset) - sset)
        if opposite:
            flips += 1
            reasons.append(f"{opposite[0]!r} where it says {s_word!r}")
            break  # one antonym is enough; two would cancel by parity, wrongly
    if w_disavows:
        flips += 1
        reasons.append("names it to reject it")
    return Polarity(flips, tuple(reasons), len(shared - set(ANTONYMS)))


# Spelled the way :func:`words` spells an answer ("isn't true" -> "is not true"), or a
# phrase with a contraction could never match.
_DISAVOWAL = re.compile(
    r"(?:^| )(?:"
    + "|".join(re.escape(d) for d in sorted({" ".join(words(d)) for d in DISAVOWALS}, key=len, reverse=True))
    + r")(?: |$)"
)


def _disavowal_negators(ws: list[str]) -> frozenset[int]:
    """Positions of the negators inside a disavowal's phrase ("does *not* mean", "*not* true"),
    and of an elliptical denial after it ("the idea that X, it does*n't*"): the rejection is
    one flip, however many negators say it."""
    text = " ".join(ws)
    starts = [0]
    for w in ws:
        starts.append(starts[-1] + len(w) + 1)
    inside = set()
    for m in _DISAVOWAL.finditer(text):
        inside |= {i for i, st in enumerate(starts[:-1]) if m.start() <= st < m.end()}
    inside |= {i for i, w in enumerate(ws) if w in NEGATORS and _elliptical(ws, i)}
    return frozenset(i for i in inside if ws[i] in NEGATORS)


def disavows(ws: list[str]) -> bool:
    """Whether these words name a belief in order to reject it ("people think ...")."""
    return _DISAVOWAL.search(" ".join(ws)) is not None


def opposite(window: str, statement: str, disavowal: bool = True) -> bool:
    """True when ``window`` says the opposite of ``statement`` (see :func:`compare`)."""
    return compare(window, statement, disavowal).opposite
