"""The headless interview engine that the TUI, ``viva ask``, tests and benchmarks drive.

One loop, the same everywhere::

    interview = Interview(config, bank, grader, voice, retriever, sink=store.save)
    while not interview.done:
        for chunk in interview.speak():      # the interviewer's question, streamed
            show(chunk)
        # interview.pending.text is exactly what was streamed: nothing is taken back
        turn = interview.submit(read_answer())   # or interview.skip(); interview.hint() first
    for chunk in interview.speak():          # the closing remark
        show(chunk)

``submit`` grades the answer, decides the next move (:mod:`agent.policy`), appends the
turn to the record and hands the record to ``sink`` before returning, so the turn is
stored before the next question is even phrased.  Nothing here imports Textual.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from agent.config import SessionConfig
from agent.policy import TopicState, apply, decide, start_index
from agent.record import Decision, Question, QuestionKind, SessionRecord, Turn
from agent.voice import Context, Voice, to_clause_end
from core.errors import VivaError
from core.memory import release_free_memory
from rubrics.bank import Bank
from rubrics.grader import RUNG, Focus, Grade, Grader
from rubrics.schema import Rung, Topic

if TYPE_CHECKING:  # the retriever loads faiss and an index: the caller brings one, or none
    from knowledge.retriever import Hit, Retriever

Sink = Callable[[SessionRecord], None]


def plan_topics(bank: Bank, config: SessionConfig) -> list[str]:
    """The topics to ask: the requested ones (validated) or a random pick for the track."""
    def askable(t: Topic) -> bool:
        return bool(t.ladder(config.track, config.ceiling))

    if config.topics:
        unknown = [t for t in config.topics if t not in bank.topics]
        if unknown:
            raise VivaError(f"unknown topic(s): {', '.join(unknown)} (see `viva rubrics list`)")
        off = [t for t in config.topics if not askable(bank.topic(t))]
        if off:
            raise VivaError(
                f"topic(s) not on the {config.track} track: {', '.join(off)} (see `viva rubrics list --track {config.track}`)"
            )
        return list(dict.fromkeys(config.topics))
    pool = sorted(t.topic for t in bank if askable(t))
    rng = random.Random(config.seed)
    rng.shuffle(pool)
    return pool[: config.n_topics]


@dataclass
class _Asked:
    """What the engine knows about the question in flight beyond the record."""

    said: str = ""  # the candidate's words the follow-up builds on
    hinted: bool = False
    shown_at: float = 0.0


class Interview:
    def __init__(
        self,
        config: SessionConfig,
        bank: Bank,
        grader: Grader,
        voice: Voice,
        retriever: Retriever | None = None,
        *,
        sink: Sink | None = None,
        record: SessionRecord | None = None,
    ) -> None:
        self.config = config
        self.bank = bank
        self.grader = grader
        self.voice = voice
        self.retriever = retriever
        self.sink = sink
        self.record = record or SessionRecord(config=config, topics=plan_topics(bank, config))
        self.record.models = {"llm": voice.name, "embedder": getattr(grader.encoder, "identity", "embedder")}
        self.pending: Question | None = None
        self._topic_i = 0
        self._state: TopicState | None = None
        self._grades: dict[str, list[Grade]] = {}  # rung ref -> grades of its answers
        self._asked = _Asked()
        self._closing_spoken = False
        if self.record.turns:
            self._replay()
        else:
            self._open_topic(0)

    # -- reading the state ----------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.pending is None

    @property
    def topic(self) -> Topic | None:
        return self._state.topic if self._state else None

    @property
    def progress(self) -> tuple[int, int]:
        """(topic number, of how many), 1-based."""
        return min(self._topic_i + 1, len(self.record.topics)), len(self.record.topics)

    # -- the loop ---------------------------------------------------------------------

    def speak(self) -> Iterator[str]:
        """Stream the pending question (or, once done, the closing remark)."""
        if self.pending is None:
            yield from self._close()
            return
        q, state = self.pending, self._state
        assert state is not None
        if self.retriever is not None:
            hit = self._ground(self.retriever, q, state.rung)
            if hit is not None:
                q.passage = hit.passage.id
        elif state.rung.passages:
            q.passage = state.rung.passages[0]
        lead = ""
        if q.kind == "opening":
            lead = (
                f"Next topic: {state.topic.title.lower()}."
                if self.record.turns
                else f"Let's talk about {state.topic.title.lower()}."
            )
        # Every chunk the voice yields is final: q.text is exactly what was streamed.
        yield from self.voice.phrase(q, context=self._reaction_context(q), lead=lead)
        self._asked.shown_at = time.monotonic()
        # Embed the rung's key points now, while the candidate reads the question, so
        # grading the answer does not pay for it (~0.1-0.3 s on 2 cores).
        self.grader.prepare(state.rung)
        self.voice.prepare_soon()  # the reaction prompt's cache, built while the candidate answers
        release_free_memory()  # what grading and the reaction freed (core/memory.py: why here)

    def cancel(self) -> None:
        """Stop the interviewer mid-sentence; the rubric wording stands in."""
        self.voice.cancel()

    def hint(self) -> str:
        """The candidate asks for a hint: it costs ``config.hint_penalty`` on this answer."""
        if self._state is None:
            raise VivaError("the interview is over")
        self._asked.hinted = True
        rung = self._state.rung
        return rung.hint or (rung.simpler or "Think about the most basic mechanism involved.")

    def skip(self) -> Turn:
        return self.submit("", skipped=True)

    def submit(self, answer: str, *, skipped: bool = False, answer_s: float | None = None) -> Turn:
        """Grade the answer, decide, record (and sink) the turn, and queue the next question."""
        if self.pending is None or self._state is None:
            raise VivaError("the interview is over")
        q, state = self.pending, self._state
        rung = state.rung
        if answer_s is None:
            answer_s = time.monotonic() - self._asked.shown_at if self._asked.shown_at else 0.0
        t0 = time.perf_counter()
        asked = q.intended if q.intended == q.text else f"{q.intended} {q.text}"
        focus = focus_of(q)
        grade = self.grader.grade(rung, "" if skipped else answer, asked=asked, focus=focus)
        if "already-said" in grade.flags and focus.kind != "rung":
            grade = self._from_earlier(rung, q.ref, grade, focus)
        grade_ms = (time.perf_counter() - t0) * 1000
        penalty = self.config.hint_penalty if self._asked.hinted else 0.0
        if q.kind in {"hint", "simpler"}:
            penalty += self.config.hint_penalty / 2  # the interviewer had to help
        score = max(0.0, round(grade.score - penalty, 2))
        if not skipped:
            self._grades.setdefault(q.ref, []).append(grade)
        rung_grades = self._grades.get(q.ref, [])
        rung_score = max(0.0, round(self.grader.combine(rung, rung_grades) - penalty, 2)) if rung_grades else 0.0

        hit = {p.id for g in rung_grades for p in g.points if p.hit}
        weights = {k.id: k.weight for k in rung.effective_key_points()}
        missed = sorted((k for k in weights if k not in hit), key=lambda k: -weights[k])
        decision = decide(
            state,
            self.config,
            score=rung_score,
            missed=missed,
            misconceptions=[m.id for m in grade.misconceptions],
            skipped=skipped,
            empty="empty" in grade.flags,
        )
        turn = Turn(
            index=len(self.record.turns),
            question=q,
            answer=answer,
            grade=grade.rounded(),
            score=score,
            rung_score=rung_score,
            decision=decision,
            hinted=self._asked.hinted,
            skipped=skipped,
            answer_s=round(answer_s, 2),
            grade_ms=round(grade_ms, 1),
        )
        self.record.turns.append(turn)
        self._after(decision, said=_evidence(grade, answer, decision))
        if self.pending is None:
            self.record.status = "finished"
            self.record.ended_at = time.time()
        if self.sink is not None:
            self.sink(self.record)
        return turn

    def end(self) -> None:
        """End early (the candidate chose to stop); the record keeps what was answered."""
        self.pending = None
        self._state = None
        self.record.status = "finished"
        self.record.ended_at = time.time()
        if self.sink is not None:
            self.sink(self.record)

    def _from_earlier(self, rung: Rung, ref: str, grade: Grade, focus: Focus) -> Grade:
        """"I already said that" to a follow-up: judge what was asked on the earlier answers.

        The candidate may be right (the grader missed it) or not; either way the turn is
        judged on the words they point to, and says so.  Evidence spans are dropped:
        they index the earlier answer, not this one.
        """
        earlier = [g.answer for g in self._grades.get(ref, []) if g.answer.strip()]
        if not earlier:
            return grade
        best = max(self.grader.grade_many(rung, earlier, focus=focus), key=lambda g: g.score)
        points = [replace(p, span=None) for p in best.points]
        return replace(
            best, answer=grade.answer, points=points, misconceptions=[], contradictions=[], flags=grade.flags,
            judged_on=f"{best.judged_on}, in your earlier answer",
        )

    # -- moving through topics ------------------------------------------------------------

    def _after(self, decision: Decision, said: str) -> None:
        state = self._state
        assert state is not None
        self._asked = _Asked(said=said)
        if decision.action in {"next-topic", "end"}:
            self._open_topic(self._topic_i + 1)
            return
        apply(state, decision)
        rung = state.rung
        if decision.action == "deeper":
            self.pending = self._question(rung, "deeper", rung.question)
        elif decision.action == "probe":
            kp = next(k for k in rung.effective_key_points() if k.id == decision.key_point)
            self.pending = self._question(rung, "probe", kp.probe or _generic_probe(rung), key_point=kp.id)
        elif decision.action == "challenge":
            mc = next(m for m in rung.misconceptions if m.id == decision.misconception)
            text = mc.challenge or f"Are you sure about that? How would you check whether {mc.text[0].lower() + mc.text[1:-1]}?"
            self.pending = self._question(rung, "challenge", text, misconception=mc.id)
        elif decision.action == "simpler":
            self.pending = self._question(rung, "simpler", rung.simpler or rung.question)
        elif decision.action == "hint":
            self.pending = self._question(rung, "hint", f"A hint: {rung.hint} {rung.question}" if rung.hint else rung.question)

    def _open_topic(self, i: int) -> None:
        self._topic_i = i
        if i >= len(self.record.topics):
            self.pending, self._state = None, None
            return
        topic = self.bank.topic(self.record.topics[i])
        ladder = topic.ladder(self.config.track, self.config.ceiling)
        self._state = TopicState(topic=topic, ladder=ladder, index=start_index(ladder, self.config))
        self.pending = self._question(self._state.rung, "opening", self._state.rung.question)

    def _question(
        self, rung: Rung, kind: QuestionKind, intended: str, key_point: str | None = None, misconception: str | None = None
    ) -> Question:
        assert self._state is not None
        return Question(
            self._state.topic.topic, rung.id, rung.depth, kind, intended, key_point=key_point, misconception=misconception,
        )

    def _replay(self) -> None:
        """Rebuild the engine's state from a stored record (resuming a session)."""
        turns = list(self.record.turns)
        self._open_topic(0)
        for turn in turns:
            if self._state is None:
                break
            self.pending = turn.question
            if not turn.skipped:
                self._grades.setdefault(turn.question.ref, []).append(turn.grade)
            self._after(turn.decision, said="")
        self._asked = _Asked(said=turns[-1].answer if turns else "")

    def _ground(self, retriever: Retriever, q: Question, rung: Rung) -> Hit | None:
        """The primer passage the question draws on: the best of the rung's own, by query."""
        topics = {p.partition("/")[0] for p in rung.passages} | {q.topic}
        query = f"{q.intended} {self._asked.said}".strip()
        hits = retriever.search(query, k=3, topic=sorted(topics))
        best = [h for h in hits if h.passage.id in rung.passages] or hits
        return best[0] if best else None

    def _reaction_context(self, q: Question) -> Context | None:
        """What the interviewer may react to before a follow-up: the answer just graded.

        The secrets are what the reaction must not tell: the reference answers of the
        rung answered and of the rung asked next, every key point the answer did not
        hit (with its paraphrases), and the misconceptions' corrections.
        """
        if q.kind == "opening" or not self.record.turns or self._state is None:
            return None
        turn = self.record.turns[-1]
        if turn.skipped or not turn.answer.strip():
            return None
        rungs = {r.id: r for r in self._state.topic.rungs}
        hit = {p.id for p in turn.grade.hits}
        secrets: list[str] = []
        for rid in dict.fromkeys([turn.question.rung, q.rung]):
            rung = rungs.get(rid)
            if rung is None:
                continue
            secrets.append(rung.reference)
            for k in rung.effective_key_points():
                if rid != turn.question.rung or k.id not in hit:
                    secrets += [k.text, *k.paraphrases]
            secrets += [m.correction for m in rung.misconceptions if m.correction]
        strong = turn.decision.action == "deeper" and not turn.grade.misconceptions
        return Context(answer=turn.answer, said=self._asked.said or turn.answer, strong=strong, secrets=secrets)

    def _close(self) -> Iterator[str]:
        """The closing remark: the session's strongest and weakest topic by score, or the
        template when nothing was graded.  No model line: a 135M model's goodbyes were
        generic at best ("I'm sorry, but it's not possible to ...")."""
        if self._closing_spoken:
            return
        self._closing_spoken = True
        scores = self.record.topic_scores()
        if not scores:
            text = "Thanks for your time. Come back whenever you want to practise."
        else:
            text = closing_remark({self.bank.topic(t).title.lower(): v for t, v in scores.items()})
        self.record.closing = text
        if scores and self.sink is not None:
            self.sink(self.record)
        yield text


def closing_remark(scores: dict[str, float]) -> str:
    """Goodbye, grounded in the grades: {topic title: score 0-5}, in the order asked."""
    best = max(scores, key=lambda t: scores[t])
    worst = min(scores, key=lambda t: scores[t])
    text = f"Thanks, that's all I had. You were strongest on {best} ({scores[best]:.1f}/5)"
    if best == worst or scores[best] - scores[worst] < 0.5:
        return text + ("." if len(scores) == 1 else "; the other topics were close behind.")
    return text + f"; {worst} ({scores[worst]:.1f}/5) is the one to practise next."


def focus_of(q: Question) -> Focus:
    """What a question asks for: a probe its key point, a challenge its misconception."""
    if q.kind == "probe" and q.key_point:
        return Focus("key-point", q.key_point)
    if q.kind == "challenge" and q.misconception:
        return Focus("misconception", q.misconception)
    return RUNG


def _generic_probe(rung: Rung) -> str:
    return f"What else matters here? {rung.question}"


def _evidence(grade: Grade, answer: str, decision: Decision) -> str:
    """The candidate's own words a follow-up should build on (to the end of their clause)."""
    if decision.misconception:
        m = next((m for m in grade.misconceptions if m.id == decision.misconception), None)
        if m:
            return to_clause_end(answer, m.evidence)
    hits = sorted((p for p in grade.points if p.hit and p.evidence), key=lambda p: -p.similarity)
    if hits:
        return to_clause_end(answer, hits[0].evidence or "")
    return " ".join(answer.split()[:16])
