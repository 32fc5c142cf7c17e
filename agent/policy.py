"""The escalation policy: after each graded answer, what does the interviewer do next?

It is a pure function of the topic's state, the grade and the session's level, so it
can be tested exhaustively without a model.  In order of precedence:

1. **skip** - the candidate passed: move to the next topic.
2. **misconception** - a wrong belief is challenged (once per misconception per topic),
   whatever the score: letting it stand is what a real interviewer would not do.
3. **strong** (rung score >= the level's bar) - a deeper rung on the same topic, up to
   the session's ceiling; at the top of the ladder, the next topic.
4. **partial** - a follow-up probing the most important missed key point (each point
   probed once).
5. **weak** - one simpler rephrase (or a hint) per rung, then the next topic.

Every follow-up counts against ``max_follow_ups`` per topic; at the cap the topic ends.
Each decision carries a human-readable reason that the review screen shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.config import SessionConfig
from agent.record import Decision
from rubrics.schema import Rung, Topic


@dataclass
class TopicState:
    """Where the interview stands on one topic."""

    topic: Topic
    ladder: list[Rung]  # the rungs this session may ask, shallow to deep
    index: int  # position of the current rung in ``ladder``
    follow_ups: int = 0
    helped: set[str] = field(default_factory=set)  # rungs that already got a hint or rephrase
    probed: set[str] = field(default_factory=set)  # "rung/key-point" already probed
    challenged: set[str] = field(default_factory=set)  # misconception ids already challenged

    @property
    def rung(self) -> Rung:
        return self.ladder[self.index]


def start_index(ladder: list[Rung], config: SessionConfig) -> int:
    """The first rung at or above the level's starting depth (else the deepest allowed)."""
    for i, rung in enumerate(ladder):
        if rung.depth >= config.policy.start_depth:
            return i
    return len(ladder) - 1


def decide(
    state: TopicState,
    config: SessionConfig,
    *,
    score: float,
    missed: list[str],
    misconceptions: list[str],
    skipped: bool = False,
    empty: bool = False,
) -> Decision:
    """Choose the next move.  ``missed``: key point ids not yet hit on this rung, most important first."""
    rung = state.rung
    bar = config.policy
    at_cap = state.follow_ups >= config.max_follow_ups

    if skipped:
        return Decision("next-topic", "The candidate skipped the question.")

    fresh = [m for m in misconceptions if m not in state.challenged]
    if fresh and not at_cap:
        mc = next(m for m in rung.misconceptions if m.id == fresh[0])
        return Decision(
            "challenge", f"The answer states a misconception ({mc.text!r}); challenge it.", rung.id, misconception=mc.id
        )

    if score >= bar.strong:
        if state.index + 1 < len(state.ladder):
            if at_cap:
                return Decision(
                    "next-topic",
                    f"Strong answer ({score:.1f} >= {bar.strong}), but the follow-up cap ({config.max_follow_ups}) is reached.",
                )
            nxt = state.ladder[state.index + 1]
            return Decision(
                "deeper", f"Strong answer ({score:.1f} >= {bar.strong}): go one rung deeper (depth {nxt.depth}).", nxt.id
            )
        return Decision(
            "next-topic", f"Strong answer ({score:.1f}) at the deepest rung this session allows (depth {rung.depth})."
        )

    if empty or score < bar.weak:
        why = "No answer" if empty else f"Weak answer ({score:.1f} < {bar.weak})"
        if rung.id in state.helped:
            return Decision("next-topic", f"{why} after a hint or rephrase: move on.")
        if at_cap:
            return Decision("next-topic", f"{why}, and the follow-up cap ({config.max_follow_ups}) is reached.")
        if rung.simpler and not empty:
            return Decision("simpler", f"{why}: rephrase the question more simply, once.", rung.id)
        return Decision("hint", f"{why}: give one hint and ask again.", rung.id)

    unprobed = [k for k in missed if f"{rung.id}/{k}" not in state.probed]
    if unprobed and not at_cap:
        return Decision(
            "probe", f"Partial answer ({score:.1f}): probe the missed point '{unprobed[0]}'.", rung.id, key_point=unprobed[0]
        )
    why = "the follow-up cap is reached" if at_cap else "every missed point has been probed"
    return Decision("next-topic", f"Partial answer ({score:.1f}), and {why}: move on.")


def apply(state: TopicState, decision: Decision) -> None:
    """Update the topic's state for a decision that stays on the topic."""
    if decision.action in {"next-topic", "end"}:
        return
    state.follow_ups += 1
    if decision.action == "deeper":
        state.index += 1
    elif decision.action in {"hint", "simpler"}:
        state.helped.add(state.rung.id)
    elif decision.action == "probe" and decision.key_point:
        state.probed.add(f"{state.rung.id}/{decision.key_point}")
    elif decision.action == "challenge" and decision.misconception:
        state.challenged.add(decision.misconception)
