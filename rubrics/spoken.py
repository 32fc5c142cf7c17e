"""Turning a spoken-style answer into windows the grader can match.

Candidates answer the way people talk: "um so basically dropout is like, it it turns off
random neurons and uh at test time you don't". We

1. tokenise the *original* text, keeping each word's character offsets, so every piece
   of evidence the grader reports is the candidate's own words, verbatim;
2. drop fillers ("um", "uh", "you know", "basically", filler "like") and immediate
   repeats ("it it", false starts), and strip control characters;
3. cut the rest into overlapping windows: sentences where the candidate used
   punctuation, fixed-size word windows where they did not (a run-on answer has no
   sentences to split).  Windows always cover the whole answer with overlap, so a point
   made in the middle of a 300-word ramble keeps its credit; past :data:`MAX_WINDOWS`
   the stride widens up to the window size (still no gaps), and the finer scale is
   spent only within :data:`SMALL_BUDGET` windows, so cost stays linear in length.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rubrics import stopwords

MAX_WINDOWS = 160
SMALL_BUDGET = 48
WINDOW_WORDS = 14
SMALL_WORDS = 8
MIN_CONTENT_WORDS = 1

_TOKEN = re.compile(r"[^\s]+")
_STRIP = re.compile(r"^[^\w]+|[^\w]+$")
_SENTENCE_END = re.compile(r"[.!?;]+[\"')\]]*$")

FILLERS = {
    "um", "umm", "ummm", "uh", "uhh", "uhm", "erm", "er", "err", "ah", "ahh", "hmm", "hm", "mm", "mhm",
    "basically", "literally", "actually", "okay", "ok", "yeah", "well", "anyway", "anyways", "right",
}
FILLER_PHRASES = [
    ("you", "know"), ("i", "mean"), ("sort", "of"), ("kind", "of"), ("kinda",), ("sorta",),
    ("i", "guess"), ("so", "yeah"), ("let", "me", "think"), ("how", "do", "i", "put", "it"),
    ("if", "that", "makes", "sense"), ("or", "something"), ("and", "stuff"), ("or", "whatever"),
]
# "like" is a filler after these words or at the start of a clause, not in "looks like a CNN".
_LIKE_FILLER_AFTER = {"", "so", "and", "but", "is", "was", "it's", "its", "just", "um", "uh", "were", "are", "then", "it"}


@dataclass(frozen=True)
class Token:
    norm: str  # lower-case word without surrounding punctuation
    start: int  # character offsets in the original answer
    end: int
    sentence_end: bool


@dataclass(frozen=True)
class Window:
    """A stretch of the answer: normalised text to embed, and its span in the original."""

    text: str
    start: int
    end: int
    small: bool = False  # from the finer scale


def clean_text(text: str) -> str:
    """Replace control characters (other than newlines and tabs) with spaces.

    Offsets are preserved: the cleaned text has the same length as the original.
    """
    return "".join(
        ch if ch in "\n\t" or not unicodedata.category(ch).startswith("C") else " " for ch in text
    )


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    for m in _TOKEN.finditer(clean_text(text)):
        raw = m.group(0)
        norm = _STRIP.sub("", raw.lower()).replace("\u2019", "'")
        if not norm:
            if tokens and _SENTENCE_END.search(raw):  # a lone "." or "?" ends the sentence
                last = tokens[-1]
                tokens[-1] = Token(last.norm, last.start, last.end, True)
            continue
        tokens.append(Token(norm, m.start(), m.end(), bool(_SENTENCE_END.search(raw))))
    return tokens


_PHRASE_STARTS = {p[0] for p in FILLER_PHRASES}


def drop_fillers(tokens: list[Token]) -> list[Token]:
    """Remove fillers, filler phrases and immediate repeats; keep sentence ends."""
    keep: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        phrase = None
        if tok.norm in _PHRASE_STARTS:
            phrase = next(
                (p for p in FILLER_PHRASES if tuple(t.norm for t in tokens[i : i + len(p)]) == p),
                None,
            )
        if phrase:
            _carry_sentence_end(keep, tokens[i + len(phrase) - 1])
            i += len(phrase)
            continue
        prev = keep[-1].norm if keep and not keep[-1].sentence_end else ""
        is_like_filler = tok.norm == "like" and (prev in _LIKE_FILLER_AFTER or tok.sentence_end)
        if tok.norm in FILLERS or is_like_filler or (keep and tok.norm == keep[-1].norm and not keep[-1].sentence_end):
            _carry_sentence_end(keep, tok)
            i += 1
            continue
        keep.append(tok)
        i += 1
    return keep


def _carry_sentence_end(keep: list[Token], dropped: Token) -> None:
    if dropped.sentence_end and keep and not keep[-1].sentence_end:
        last = keep[-1]
        keep[-1] = Token(last.norm, last.start, last.end, True)


@lru_cache(maxsize=2048)
def content_words(text: str) -> int:
    """How many words are left once fillers are gone."""
    return len(drop_fillers(tokenize(text)))


REPETITIVE_MIN_WORDS = 150
REPETITIVE_BELOW = 0.65
_WORD = re.compile(r"[a-z0-9']+")


def variety(text: str) -> tuple[float, int]:
    """Herdan's C, log(distinct words) / log(words), and the number of words.

    Why: each key point takes the best of the answer's windows, so an answer made of
    the rubric's words in any order earns more the longer it is (a shuffled salad of 18
    words scored 2.2 at 100 words, 2.9 at 300, 3.8 at 1,000).  People do not talk like
    that: C barely falls with length in real speech.  Measured: the project's 798
    labelled answers of 40 words or more, 0.85 at the lowest (a 56-word restatement;
    300-word rambles 0.88-0.89); such salads 0.60 at 100 words, 0.49 at 300 and 0.40 at
    1,000.  Short answers are left alone: a 75-word SemEval answer that walks through
    three cases in the same words ("when bulb a is out, bulb b ... when bulb b is out")
    has 0.66, as little variety as a salad of its length; past 150 words real answers do
    not go that low (SemEval's longest is 103 words).
    """
    words = _WORD.findall(text.lower())
    if len(words) < 2:
        return 1.0, len(words)
    return math.log(len(set(words))) / math.log(len(words)), len(words)


def repetitive(text: str) -> bool:
    """A long answer that keeps repeating a few words (:func:`variety` below :data:`REPETITIVE_BELOW`)."""
    c, n = variety(text)
    return n >= REPETITIVE_MIN_WORDS and c < REPETITIVE_BELOW


def windows(text: str, max_windows: int = MAX_WINDOWS, size: int = WINDOW_WORDS, small: int = SMALL_WORDS) -> list[Window]:
    """Overlapping windows over the de-filled answer (see module doc).

    Two scales: sentence-sized windows (about ``size`` words) and, while the total stays
    within :data:`SMALL_BUDGET`, ``small``-word windows inside them, so a key point said
    in half a run-on sentence is not diluted by the other half.
    """
    toks = drop_fillers(tokenize(text))
    if not toks:
        return []
    sentences: list[list[Token]] = []
    current: list[Token] = []
    for tok in toks:
        current.append(tok)
        if tok.sentence_end:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)

    spans: list[list[Token]] = []
    if len(sentences) > 1 or len(toks) <= size + size // 2:
        for n, sent in enumerate(sentences):
            spans.extend(_slide(sent, size))
            if n + 1 < len(sentences) and len(sent) + len(sentences[n + 1]) <= size + size // 2:
                spans.append(sent + sentences[n + 1])  # a point can straddle two short sentences
    else:
        spans = _slide(toks, size)
    if len(spans) > max_windows:  # a very long answer: widen the stride, never past a window (no gaps)
        stride = min(size, max(size // 2, -(-len(toks) // max_windows)))
        spans = _slide(toks, size, stride=stride)
    n_large = len(spans)
    if small and len(spans) < SMALL_BUDGET:
        extra = [w for span in spans if len(span) > small + small // 2 for w in _slide(span, small)]
        spans += extra[: SMALL_BUDGET - len(spans)]
    seen: set[tuple[int, int]] = set()
    out = []
    for n, span in enumerate(spans):
        key = (span[0].start, span[-1].end)
        if key not in seen:
            seen.add(key)
            out.append(Window(" ".join(t.norm for t in span), span[0].start, span[-1].end, small=n >= n_large))
    return out


def _slide(toks: list[Token], size: int, stride: int | None = None) -> list[list[Token]]:
    if len(toks) <= size + size // 2:
        return [toks]
    stride = stride or size // 2
    out = [toks[i : i + size] for i in range(0, max(1, len(toks) - size + stride), stride)]
    if out and out[-1][-1] is not toks[-1]:
        out.append(toks[-size:])  # the tail is always covered
    return [w for w in out if w]


STOPWORDS = stopwords.SPOKEN  # the question words an echo may repeat (rubrics/stopwords.py: why it differs)


@lru_cache(maxsize=512)
def _question_words(question: str) -> frozenset[str]:
    return frozenset({t.norm for t in tokenize(question)} - STOPWORDS)


def echo_ratio(window_text: str, question: str) -> float:
    """Share of a window's content words that are words of the question.

    A window made almost only of the question's own words is the candidate reading the
    question back, whatever its embedding says (a half-question can sit close to a key
    point because the question names the topic).
    """
    q = _question_words(question)
    words = [w for w in window_text.split() if w not in STOPWORDS]
    if not words or not q:
        return 0.0
    return sum(w in q for w in words) / len(words)


GIST_WORDS = 220


def gist_text(text: str, question: str) -> str:
    """The answer's own words for a whole-answer comparison: fillers and the question's words out.

    Reading the question back then leaves almost nothing to match, and a reference
    compared the same way is not rewarded for repeating the question either.  Long
    answers keep their first :data:`GIST_WORDS` words (the encoder reads no further).
    """
    q = _question_words(question)
    kept = [t.norm for t in drop_fillers(tokenize(text)) if t.norm not in q]
    if all(w in STOPWORDS or not w.isalnum() for w in kept):
        return ""  # the question read back: "why does a on when is" is nothing of its own
    return " ".join(kept[:GIST_WORDS])
