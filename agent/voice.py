"""The interviewer's voice: curated questions, and one short checked reaction from the model.

The rubric bank is the backbone.  A 135M model cannot rephrase a two-part question
without losing a part (in persona runs 90% of its rephrasings failed the checks, and
the ones that passed were the worst lines of the interview), so the model is given a
job it can do:

* **openings, hints and simpler rephrases** are the curated text (with a short lead-in
  for an opening); no model call, so the first question speaks at once;
* **follow-ups** (a deeper rung, a probe, a challenge) open with *one short spoken
  sentence reacting to the candidate's own words*, written by the model, then the
  question in its curated wording, verbatim;
* the reaction is **held back until it is complete and checked**
  (:func:`check_reaction`): one sentence, no question of its own, sane length, names a
  word the candidate said, no judgement the grade does not support, no rubric answer
  or missed key point leaked (by word overlap and by embedding).  A reaction that
  fails is dropped - the candidate hears the curated question alone - and the record
  says why (``Question.fell_back`` / ``fallback_reason``: ``fell_back`` means "the
  model's words were not used").  Nothing shown is ever taken back: every yielded
  chunk is final, and ``question.text`` is exactly what was streamed.

:func:`check_question` (the old rephrasing check) stays for the benchmark that compares
the old voice with the new one.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from agent.llm import ChatModel, Message, loaded_model
from agent.record import Question
from core.embedding import Encoder
from core.errors import VivaError

SYSTEM = (
    "You are a friendly interviewer. After the candidate answers, you say one short sentence "
    "that repeats back one thing they said, in your own words. You do not explain, correct, "
    "judge or add facts, and you do not ask anything."
)

# Three examples (a strong, a partial and a mistaken answer): the model copies their
# shape - one plain sentence built from the candidate's own words.
REACTION_EXAMPLES: list[tuple[str, str]] = [
    (
        'The candidate said: "it switches off random neurons on every batch so the network cannot lean on any one of them"',
        "So a fresh random set of neurons is switched off on every batch.",
    ),
    (
        'The candidate said: "I would start with a smaller learning rate and maybe watch the loss curve"',
        "You would start with a smaller learning rate and watch the loss curve.",
    ),
    (
        'The candidate said: "a bigger model is always better because it has more parameters to learn with"',
        "So in your view more parameters always make a better model.",
    ),
]

# Why the model's words were not used, when it was never asked.
NOT_ASKED = {
    "opening": "opening: a lead-in and the curated question (no model line)",
    "hint": "hint: the rubric's own text (no model line)",
    "simpler": "simpler rephrase: the rubric's own text (no model line)",
    "none": "no model: the curated question",
}
STOPPED = "stopped by the candidate"

# Judgement words: praise only when the grade was strong; criticism never (the
# curated challenge does the challenging).
PRAISE = {"great", "good", "excellent", "perfect", "exactly", "correct", "right", "nice", "awesome", "brilliant", "fantastic"}
CRITICISM = {"wrong", "incorrect", "mistake", "mistaken", "false", "not quite", "unfortunately", "actually"}

@dataclass
class Check:
    ok: bool
    text: str
    reason: str = ""
    similarity: float = 0.0


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def tidy(raw: str) -> str:
    """Cut a generation down to its first question and drop echoed labels."""
    text = " ".join(raw.replace("\n", " ").split())
    text = re.sub(r"^(question|follow-up question|interviewer)\s*:\s*", "", text, flags=re.I)
    text = text.strip(" \"'")
    if "?" in text:
        text = text[: text.index("?") + 1]
    return text


def check_question(
    raw: str,
    intended: str,
    encoder: Encoder,
    forbidden: Sequence[str] = (),
    *,
    min_similarity: float = 0.55,
    min_coverage: float = 0.0,
    leak_ngram: int = 6,
) -> Check:
    """Is ``raw`` a usable interviewer question for ``intended``?

    ``min_coverage``: the share of the intended question's content words (crudely
    stemmed) the phrasing must keep, so a rephrase cannot silently drop half of a
    two-part question and still pass on similarity.
    """
    text = tidy(raw)
    if not text.endswith("?"):
        return Check(False, text, "not a question")
    n = len(text.split())
    if n < 4 or n > 45:
        return Check(False, text, f"{n} words")
    if any(ch in text for ch in "[]{}<>|#*`"):
        return Check(False, text, "markup in the output")
    # Leak: a run of words from the rubric's answer that the intended question does not contain.
    allowed = _ngrams(_words(intended), leak_ngram)
    said = _ngrams(_words(text), leak_ngram) - allowed
    for secret in forbidden:
        if said & _ngrams(_words(secret), leak_ngram):
            return Check(False, text, "leaks the rubric's answer")
    if min_coverage:
        cov = coverage(text, intended)
        if cov < min_coverage:
            return Check(False, text, f"drops part of the question (keeps {cov:.0%} of its words)")
    vecs = encoder.encode([text, intended])
    sim = float(np.dot(vecs[0], vecs[1]))
    if sim < min_similarity:
        return Check(False, text, f"off the intended question (similarity {sim:.2f})", sim)
    return Check(True, text, "", sim)


_STOP = {
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "is", "are", "it", "its", "this", "that",
    "what", "why", "how", "when", "which", "does", "do", "you", "your", "would", "could", "can", "be", "as", "at",
    "by", "from", "about", "there", "their", "them", "they", "if", "than", "then", "so", "we", "i", "me", "tell",
}


# Words too common in answers and rubrics to count as telling the candidate anything.
_GENERIC = {
    "durin", "while", "used", "using", "use", "model", "netwo", "train", "value", "make", "makes", "like", "just",
    "also", "more", "less", "some", "each", "only", "other", "same", "way", "one", "all", "not", "no", "has", "have",
    "get", "gets", "very", "much", "many", "into", "over", "will", "then", "data", "says", "said", "see", "think",
    # the reaction's own framing: "So you're saying ...", "You mentioned that ...", "In your view ..."
    "sayin", "menti", "view", "okay",
}


_CONTRACTED = {"s", "d", "t", "m", "re", "ll", "ve"}  # what "it's", "you'd", "don't", "we're" leave behind


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _words(text) if w not in _STOP and w not in _CONTRACTED}


def coverage(text: str, intended: str) -> float:
    want = _stems(intended)
    return len(want & _stems(text)) / len(want) if want else 1.0


def first_sentence(raw: str) -> str:
    """The reaction as said: the first sentence of the generation, labels and quotes dropped."""
    text = " ".join(raw.replace("\n", " ").split())
    text = re.sub(r"^(interviewer|reaction|answer|assistant)\s*:\s*", "", text, flags=re.I)
    text = text.strip(" \"'")
    m = re.search(r"[.!?][\"']?(\s|$)", text)
    if m:
        text = text[: m.end()].strip()
    return text.strip(" \"'")


def _judgement_words(text: str) -> set[str]:
    low = text.lower()
    words = set(_words(low))
    found = {w for w in PRAISE | CRITICISM if " " not in w and w in words}
    found |= {w for w in CRITICISM if " " in w and w in low}
    return found


def check_reaction(
    raw: str,
    answer: str,
    encoder: Encoder | None,
    secrets: Sequence[str] = (),
    *,
    strong: bool = False,
    question: str = "",
    max_words: int = 20,
    leak_similarity: float = 0.7,
) -> Check:
    """Is ``raw`` a usable spoken reaction to ``answer`` (the candidate's words)?

    ``secrets``: what the candidate must not be told - the rubric's reference answer,
    the key points they missed, misconception corrections.  ``strong``: the grade
    was strong, so mild praise is allowed.  ``question``: the curated question that
    follows (its words are not a leak).  The reaction must be one declarative
    sentence, 3-``max_words`` words, that names a content word the candidate said,
    passes no judgement the grade does not support, and tells nothing the candidate
    did not say that a secret does: not two new words of a secret, and not closer to
    a secret by embedding than the candidate's own answer was.
    """
    text = first_sentence(raw)
    if not text:
        return Check(False, text, "empty reaction")
    if not text.endswith((".", "!")):
        return Check(False, text, "not one complete sentence" if "?" not in text else "asks its own question")
    if "?" in text:
        return Check(False, text, "asks its own question")
    n = len(text.split())
    if n < 3 or n > max_words:
        return Check(False, text, f"{n} words")
    if any(ch in text for ch in "[]{}<>|#*`\\()"):
        return Check(False, text, "markup in the output")
    judged = _judgement_words(text)
    bad = judged & CRITICISM or (judged & PRAISE if not strong else set())
    if bad:
        return Check(False, text, f"judges the answer ({', '.join(sorted(bad))})")
    if _SELF.search(text):
        return Check(False, text, "talks about itself, not the candidate")
    said = _stems(answer)
    mine = _stems(text) - _GENERIC
    echoed = mine & said
    if not echoed:
        return Check(False, text, "names nothing the candidate said")
    new = mine - said - _stems(question)
    if len(new) > max(2, len(echoed)):
        return Check(False, text, f"says more of its own than the candidate's ({len(new)} new words, {len(echoed)} theirs)")
    for secret in secrets:
        told = new & _stems(secret)
        if len(told) >= 2:
            return Check(False, text, f"tells the candidate part of the answer ({', '.join(sorted(told))})")
    if encoder is not None and secrets and new:
        vecs = encoder.encode([text, answer, *secrets])
        sims = vecs[2:] @ vecs[0]
        base = vecs[2:] @ vecs[1]
        i = int(np.argmax(sims - base))
        if sims[i] >= leak_similarity and sims[i] > base[i] + 0.05:
            return Check(
                False, text, f"close to a rubric answer the candidate did not give (similarity {sims[i]:.2f})", float(sims[i])
            )
    return Check(True, text)


# The interviewer talking about itself ("what I'm going to show you") or lecturing in
# its own voice: a reaction is about what the candidate said.
_SELF = re.compile(r"\b(i|i'm|i'll|i've|i'd|me|my|we|we're|let's|us)\b|\bthis (is|refers)\b|\bin this context\b", re.I)


@dataclass
class Context:
    """What the voice needs to react to an answer (all from the turn just graded)."""

    answer: str = ""  # the candidate's words, whole
    said: str = ""  # the part of them the follow-up builds on (shown to the model)
    strong: bool = False  # the grade was strong (mild praise allowed)
    secrets: Sequence[str] = ()  # reference, missed key points, corrections


class Voice:
    """Speaks questions: curated text, with a checked model reaction before a follow-up.

    ``model=None`` never calls a model (the curated text alone).  ``encoder=None`` skips the
    reaction check's embedding test for a leaked secret (:func:`check_reaction`); the word tests stay.
    """

    def __init__(
        self, model: ChatModel | None, encoder: Encoder | None, *, max_new_tokens: int = 28, prefix: str | None = None
    ) -> None:
        self.model = model
        self.encoder = encoder
        self.max_new_tokens = max_new_tokens
        self.prefix = prefix  # None: chosen per reaction (_prefix_for)
        self._cancel = threading.Event()
        self._prepared = False

    @property
    def name(self) -> str:
        return getattr(self.model, "name", "none") if self.model else "none (rubric wording)"

    def cancel(self) -> None:
        """Stop the reaction in progress (Escape in the TUI): it is dropped, the question stays."""
        self._cancel.set()

    def prompt(self, said: str) -> list[Message]:
        messages: list[Message] = [{"role": "system", "content": SYSTEM}]
        for user, assistant in REACTION_EXAMPLES:
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        messages.append({"role": "user", "content": f'The candidate said: "{_quote(said, 24)}"'})
        return messages

    def prepare(self) -> None:
        """Build the model's prompt cache ahead of the first reaction (a no-op without one)."""
        warm = getattr(self.model, "prepare", None)
        if callable(warm):
            try:
                warm(self.prompt("..."))
            except VivaError:
                pass  # a model that failed to load: the first reaction says so (react)

    def prepare_soon(self) -> None:
        """:meth:`prepare` in a background thread, once: the first question is already on
        screen and the candidate is reading it, so the ~200-token prefill costs nobody.

        Not a daemon: a daemon thread still inside torch when the interpreter exits makes
        the process abort ("terminate called without an active exception"); the exit
        waits for the prefill instead (about a second).
        """
        if self._prepared or not callable(getattr(self.model, "prepare", None)):
            return
        self._prepared = True
        threading.Thread(target=self.prepare, name="viva-voice-prepare", daemon=False).start()

    def raw_reaction(self, said: str) -> str:
        """The model's reaction to ``said``, unchecked (pre-filled with ``self.prefix``)."""
        model = loaded_model(self.model)
        assert model is not None
        prefix = _prefix_for(model, said) if self.prefix is None else self.prefix
        stream = model.stream(
            self.prompt(said), prefix=prefix, max_new_tokens=self.max_new_tokens,
            stop=(".", "!", "?", "\n"), cancel=self._cancel,
        )
        return prefix + "".join(stream)

    def react(self, ctx: Context, question: str = "") -> tuple[Check, float]:
        """Generate and check one reaction (nothing is shown); returns the check and seconds taken."""
        start = time.perf_counter()
        try:
            raw = self.raw_reaction(ctx.said or ctx.answer)
        except VivaError as err:  # the model failed to load (in the background): the curated question
            return Check(False, "", f"the model could not be used: {err}"), time.perf_counter() - start
        took = time.perf_counter() - start
        if self._cancel.is_set():
            return Check(False, first_sentence(raw), STOPPED), took
        return check_reaction(raw, ctx.answer, self.encoder, ctx.secrets, strong=ctx.strong, question=question), took

    def phrase(self, question: Question, *, context: Context | None = None, lead: str = "") -> Iterator[str]:
        """Stream what the interviewer says; every chunk is final.

        ``lead`` (e.g. "Let's talk about dropout.") is said first, verbatim.  For a
        follow-up with a model and the candidate's words in ``context``, a reaction is
        generated and checked *before anything is yielded*; if it passes it is said,
        then the curated question.  When done, ``question.text`` equals the
        concatenation of the yielded chunks.
        """
        self._cancel = threading.Event()
        start = time.perf_counter()
        parts: list[str] = []
        if lead:
            parts.append(lead)
        kind = question.kind
        if self.model is None or kind in {"opening", "hint", "simpler"} or context is None or not context.answer.strip():
            question.fell_back = True
            question.fallback_reason = (
                NOT_ASKED["none" if self.model is None else kind]
                if (self.model is None or kind in NOT_ASKED)
                else "nothing to react to: the curated question"
            )
        else:
            check, took = self.react(context, question.intended)
            question.generation_s = round(took, 3)
            if check.ok:
                parts.append(check.text)
                question.fell_back, question.fallback_reason = False, ""
            else:
                question.fell_back, question.fallback_reason = True, check.reason
        said = " ".join(parts)
        question.text = (said + " " + question.intended).strip() if said else question.intended
        first = True
        for chunk in _chunks(question.text):
            if first:
                question.first_token_s = round(time.perf_counter() - start, 3)
                first = False
            yield chunk
        if not question.generation_s:
            question.generation_s = round(time.perf_counter() - start, 3)


# With the adapter, a free start is nearly always "Okay, so ..."; a pre-filled opening
# chosen by the answer's CRC-32 (the same in every process) varies it, at the same
# kept share (19/21 each on a sample of the judged set).
ADAPTER_PREFIXES = ("", "So", "You said")


def _prefix_for(model: ChatModel | None, said: str) -> str:
    """How the reaction starts: the base SmolLM2 is pre-filled with "So you" (it then
    echoes the candidate: 9 of 22 kept against 4 of 22 without, mostly "That's exactly
    what ..." judgements); the reaction adapter gets one of ``ADAPTER_PREFIXES``;
    other models (a user's --llm, scripted ones) start free."""
    from agent.llm import TransformersChatModel

    if not isinstance(model, TransformersChatModel):
        return ""
    if model.name.endswith("+voice-lora"):
        return ADAPTER_PREFIXES[zlib.crc32(said.encode("utf-8")) % len(ADAPTER_PREFIXES)]
    return "So you" if model.name.startswith("SmolLM2") else ""


def _chunks(text: str) -> Iterator[str]:
    """Word-sized chunks whose concatenation is exactly ``text``."""
    yield from re.findall(r"\s*\S+", text) or [text]


CLAUSE_END = (",", ";", ":", ".", "!", "?")


def _quote(text: str, words: int = 16, reach: int = 8) -> str:
    """A short, clean excerpt of the candidate's words for the prompt, cut where a clause ends.

    Cut at a fixed count, "you scale the kept ones up by one over one minus p" reached the
    model as "... by one over one", and the model said it back: "You said you scale the kept
    ones up by one over one."  So the excerpt runs on to the end of its clause when that is
    at most ``reach`` words further, else stops at the last clause end in its second half.
    """
    ws = " ".join(text.replace('"', "'").split()).split()
    if len(ws) <= words:
        return " ".join(ws)
    end = next((i + 1 for i in range(words - 1, min(len(ws), words + reach)) if ws[i].endswith(CLAUSE_END)), 0)
    if not end:
        end = next((i + 1 for i in range(words - 1, words // 2 - 1, -1) if ws[i].endswith(CLAUSE_END)), words)
    cut = ws[:end]
    if end == len(ws) or cut[-1].endswith((".", "!", "?")):
        return " ".join(cut)
    cut[-1] = cut[-1].rstrip(",;:")
    return " ".join(cut) + " ..."


def to_clause_end(answer: str, evidence: str, reach: int = 8) -> str:
    """``evidence`` (a stretch of ``answer``) run on to the end of its clause, when that is at
    most ``reach`` words further: a grading window ends at a word count, not where the
    candidate's thought does ("... up by one over one" | "minus p")."""
    at = answer.find(evidence)
    if not evidence or at < 0:
        return evidence
    rest = answer[at + len(evidence) :]
    for m in itertools.islice(re.finditer(r"\S+", rest), reach):  # a 100 KB answer: only the next few words
        if m.group().endswith(CLAUSE_END):
            return evidence + rest[: m.end()]
    return evidence
