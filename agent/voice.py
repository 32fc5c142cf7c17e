"""The interviewer's voice: the LLM phrases each question, and every output is checked.

The rubric bank is the backbone; the model only gives it a voice.  A 135M model copies
its examples and drifts easily, so:

* prompts are short (well under 300 tokens) and few-shot, with the assistant turn
  pre-filled (``Question:``) so the model continues a question instead of lecturing;
* the model is told *what* to ask (the rubric's intended question or the key point's
  probe, never the key point itself) and given the candidate's own words and the
  heading of a retrieved primer passage to make it specific;
* every output is checked (:func:`check_question`): one question, sane length, on the
  intended topic by embedding similarity, no rubric answer leaked.  A failed check
  falls back to the rubric's own wording, and the record says why.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from agent.llm import ChatModel, Message
from agent.record import Question
from viva.embedding import Encoder

SYSTEM = "You are a calm, friendly interviewer for a machine learning job. You ask one short question at a time."

# Two short examples: the model copies their shape (one acknowledging clause, one question).
EXAMPLES: list[tuple[str, str]] = [
    (
        'Topic: dropout. Candidate said: "it switches off random neurons". Ask: What happens to dropout when the model serves predictions?',
        "Okay, random neurons switched off. And what happens to dropout once the model is serving predictions?",
    ),
    (
        'Topic: batch size. Candidate said: "bigger batches train faster". Ask: What goes wrong with batch norm on very small batches?',
        "Right, speed is one side. What goes wrong with batch norm when each batch holds only four examples?",
    ),
]
PREFIX = "Question:"
CLOSING_EXAMPLE = (
    "Topics: dropout, optimizers. Overall: solid on basics, missed warmup. Say goodbye in two sentences.",
    "Thanks, that was a good conversation. Your basics on dropout were solid; spend some time on why warmup helps.",
)


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


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _words(text) if w not in _STOP}


def coverage(text: str, intended: str) -> float:
    want = _stems(intended)
    return len(want & _stems(text)) / len(want) if want else 1.0


class Voice:
    """Phrases questions with a chat model (or not at all: ``model=None`` uses rubric wording)."""

    def __init__(self, model: ChatModel | None, encoder: Encoder, *, max_new_tokens: int = 44) -> None:
        self.model = model
        self.encoder = encoder
        self.max_new_tokens = max_new_tokens
        self._cancel = threading.Event()

    @property
    def name(self) -> str:
        return getattr(self.model, "name", "none") if self.model else "none (rubric wording)"

    def cancel(self) -> None:
        """Stop the generation in progress (Escape in the TUI); the rubric wording is used."""
        self._cancel.set()

    def prompt(self, question: Question, topic_title: str, said: str, heading: str | None) -> list[Message]:
        messages: list[Message] = [{"role": "system", "content": SYSTEM}]
        for user, assistant in EXAMPLES:
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": f"{PREFIX} {assistant}"}]
        topic = topic_title if not heading else f"{topic_title} ({heading})"
        said = _quote(said) if said else "(nothing yet)"
        ask = question.intended
        messages.append({"role": "user", "content": f'Topic: {topic}. Candidate said: "{said}". Ask: {ask}'})
        return messages

    def phrase(
        self,
        question: Question,
        *,
        topic_title: str,
        said: str = "",
        heading: str | None = None,
        forbidden: Sequence[str] = (),
        lead: str = "",
    ) -> Iterator[str]:
        """Stream the question's text; when done, ``question.text`` holds what was said.

        ``lead`` (e.g. "Let's talk about dropout.") is said first, verbatim.  The streamed
        tokens are provisional: if the check fails, ``question.text`` is the rubric
        wording, and the caller shows that instead.
        """
        self._cancel = threading.Event()
        start = time.perf_counter()
        if lead:
            yield lead + " "
            question.first_token_s = time.perf_counter() - start
        if self.model is None or question.kind in {"hint", "simpler"}:
            # A hint or a simpler rephrase is the rubric's own text: a small model would blur it.
            question.text = (lead + " " + question.intended).strip()
            yield question.intended
            question.generation_s = time.perf_counter() - start
            if question.first_token_s is None:
                question.first_token_s = question.generation_s
            return
        chunks: list[str] = []
        messages = self.prompt(question, topic_title, said, heading)
        for chunk in self.model.stream(
            messages, prefix=PREFIX, max_new_tokens=self.max_new_tokens, stop=("?", "\n"), cancel=self._cancel
        ):
            if question.first_token_s is None:
                question.first_token_s = time.perf_counter() - start
            chunks.append(chunk)
            yield chunk
            if "?" in chunk or self._cancel.is_set():
                break
        question.generation_s = time.perf_counter() - start
        if self._cancel.is_set() and "?" not in "".join(chunks):
            question.fell_back, question.fallback_reason = True, "stopped by the candidate"
            question.text = (lead + " " + question.intended).strip()
            return
        # A rubric question is worded with care; rephrasing it must keep its meaning, so
        # openings and deeper rungs need a closer match than a probe built on the answer.
        rubric_q = question.kind in {"opening", "deeper"}
        check = check_question(
            "".join(chunks), question.intended, self.encoder, forbidden,
            min_similarity=0.8 if rubric_q else 0.6, min_coverage=0.6 if rubric_q else 0.0,
        )
        if check.ok:
            question.text = (lead + " " + check.text).strip()
        else:
            question.fell_back, question.fallback_reason = True, check.reason
            question.text = (lead + " " + question.intended).strip()

    def closing(self, summary: str, fallback: str, must_mention: Sequence[str] = ()) -> Iterator[str]:
        """A short closing remark; the template when the model is absent or misbehaves.

        The remark must name one of ``must_mention`` (the session's topics), or it is
        generic filler and the template is used.
        """
        if self.model is None:
            yield fallback
            return
        self._cancel = threading.Event()
        messages: list[Message] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": CLOSING_EXAMPLE[0]},
            {"role": "assistant", "content": CLOSING_EXAMPLE[1]},
            {"role": "user", "content": summary + " Say goodbye in two sentences."},
        ]
        text = "".join(self.model.stream(messages, max_new_tokens=48, stop=("\n",), cancel=self._cancel))
        text = " ".join(text.split())
        # Keep whole sentences, no questions, no markup.
        sentences = re.findall(r"[^.!?]+[.!]", text)
        text = " ".join(s.strip() for s in sentences[:2])
        mentions = any(m.lower() in text.lower() for m in must_mention) if must_mention else True
        if len(text.split()) < 5 or not mentions or any(ch in text for ch in "[]{}<>|#*`?"):
            text = fallback
        yield text


def _quote(text: str, words: int = 16) -> str:
    """A short, clean excerpt of the candidate's words for the prompt."""
    ws = " ".join(text.replace('"', "'").split()).split()
    return " ".join(ws[:words]) + (" ..." if len(ws) > words else "")
