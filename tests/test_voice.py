"""The interviewer's voice v2: curated questions, one checked reaction, nothing taken back.

Fast: scripted models and the bag-of-words encoder; the real model's lines are judged
in ``test_voice_judged.py``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence

import pytest
from fakes import BagOfWordsEncoder
from helpers import ScriptedGrader, make_bank

from agent.config import SessionConfig
from agent.engine import Interview, closing_remark
from agent.llm import generation_threads
from agent.voice import NOT_ASKED, STOPPED, Context, Voice, check_reaction, first_sentence


class Scripted:
    """A chat model that replies with a fixed text (``{said}``: the quoted answer), word by word.

    ``events`` logs each word it yields, so a test can see what was generated before
    anything was shown; ``on_word(i)`` runs before word ``i`` (to press Escape there).
    """

    name = "scripted"

    def __init__(self, reply: str = " So you mentioned {said}.", on_word=None) -> None:  # noqa: ANN001
        self.reply = reply
        self.on_word = on_word
        self.calls: list[Sequence[dict]] = []
        self.events: list[str] = []

    def stream(self, messages, *, prefix="", max_new_tokens=60, stop=(), cancel: threading.Event | None = None) -> Iterator[str]:  # noqa: ANN001
        self.calls.append(messages)
        m = re.search(r'"(.*)"', messages[-1]["content"])
        said = (m.group(1) if m else "").split()[0] if m and m.group(1).split() else ""
        for i, word in enumerate(re.findall(r"\s*\S+", self.reply.format(said=said))[:max_new_tokens]):
            if self.on_word is not None:
                self.on_word(i)
            if cancel is not None and cancel.is_set():
                return
            self.events.append("gen:" + word)
            yield word
            if any(s in word for s in stop):
                return


def make(model, level: str = "junior", topics=("alpha",), **kw) -> Interview:  # noqa: ANN001
    voice = Voice(model, BagOfWordsEncoder())
    return Interview(SessionConfig(track="applied-nlp", level=level, topics=topics, **kw), make_bank(), ScriptedGrader(), voice)  # type: ignore[arg-type]


def spoken(iv: Interview, log: list[str] | None = None) -> str:
    chunks = []
    for c in iv.speak():
        if log is not None:
            log.append("show:" + c)
        chunks.append(c)
    return "".join(chunks)


# --- openings: curated, no model call, at once -------------------------------------


def test_an_opening_is_the_lead_in_and_the_curated_question_without_a_model_call() -> None:
    model = Scripted()
    iv = make(model)
    text = spoken(iv)
    q = iv.pending
    assert text == q.text == "Let's talk about topic alpha. What is the depth 1 question about alpha?"
    assert model.calls == []  # nothing generated, nothing thrown away
    assert q.fell_back and q.fallback_reason == NOT_ASKED["opening"]


def test_the_next_topic_opening_says_so() -> None:
    iv = make(Scripted(), topics=("alpha", "beta"), max_follow_ups=0)
    spoken(iv)
    iv.submit("strong")
    assert spoken(iv) == "Next topic: topic beta. What is the depth 1 question about beta?"


# --- follow-ups: a checked reaction, then the curated question verbatim ----------------


def test_a_good_reaction_is_said_before_the_curated_question() -> None:
    iv = make(Scripted())
    spoken(iv)
    iv.submit("strong")
    text = spoken(iv)
    q = iv.pending
    assert q.kind == "deeper"
    assert text == q.text == "So you mentioned strong. What is the depth 2 question about alpha?"
    assert not q.fell_back and q.fallback_reason == ""
    assert q.text.endswith(q.intended)


def test_a_model_loading_in_the_background_is_waited_for_by_the_first_reaction_only() -> None:
    """The first question needs no model, so it is asked while the model still loads; the
    first reaction waits for the load and is then the loaded model's."""
    from agent.llm import BackgroundChatModel

    gate = threading.Event()
    loaded = Scripted()

    def load() -> Scripted:
        gate.wait()
        return loaded

    model = BackgroundChatModel(load, "scripted")
    iv = make(model)
    assert spoken(iv) == iv.pending.text  # asked with the load still held at the gate
    assert not model.is_loaded and model.loading
    iv.submit("strong")
    gate.set()
    assert spoken(iv) == "So you mentioned strong. What is the depth 2 question about alpha?"
    assert model.is_loaded and not model.loading and len(loaded.calls) == 1


def test_a_model_that_fails_to_load_leaves_the_curated_question_and_says_why() -> None:
    from agent.llm import BackgroundChatModel
    from core.errors import ModelError

    def load() -> Scripted:
        raise ModelError("Could not load the LLM from /x: broken")

    iv = make(BackgroundChatModel(load, "scripted"))
    spoken(iv)
    iv.submit("strong")
    text = spoken(iv)
    q = iv.pending
    assert text == q.text == q.intended
    assert q.fell_back and "could not be used" in q.fallback_reason and "broken" in q.fallback_reason


def test_a_failed_reaction_is_dropped_before_anyone_sees_it() -> None:
    model = Scripted(" Dropout is a regularization technique that randomly zeroes activations during training and")
    iv = make(model)
    spoken(iv)
    iv.submit("partial")
    text = spoken(iv)
    q = iv.pending
    assert q.kind == "probe"
    assert text == q.text == q.intended  # the curated question alone
    assert "regularization" not in text
    assert q.fell_back and q.fallback_reason == "not one complete sentence"


def test_the_reaction_is_held_back_until_complete_and_checked() -> None:
    model = Scripted()
    iv = make(model)
    spoken(iv)
    iv.submit("strong")
    log = model.events
    spoken(iv, log)
    first_show = next(i for i, e in enumerate(log) if e.startswith("show:"))
    assert all(e.startswith("gen:") for e in log[:first_show])
    assert all(e.startswith("show:") for e in log[first_show:])  # generation done before the first word shown


def test_a_judging_reaction_is_dropped_unless_the_grade_supports_it() -> None:
    iv = make(Scripted(" Great, you said {said}."))
    spoken(iv)
    iv.submit("partial")  # a probe: praise is not supported
    spoken(iv)
    assert iv.pending.fell_back and iv.pending.fallback_reason.startswith("judges the answer")
    iv = make(Scripted(" Great, you said {said}."))
    spoken(iv)
    iv.submit("strong")  # deeper: mild praise is fine
    spoken(iv)
    assert not iv.pending.fell_back


def test_a_challenge_reaction_never_criticises() -> None:
    iv = make(Scripted(" That is wrong, {said} is not it."))
    spoken(iv)
    iv.submit("wrong")
    text = spoken(iv)
    q = iv.pending
    assert q.kind == "challenge" and text == q.intended
    assert q.fallback_reason.startswith("judges the answer")


def test_hints_and_simpler_rephrases_are_the_rubric_text() -> None:
    model = Scripted()
    iv = make(model, level="middle")
    spoken(iv)
    iv.submit("weak")
    n = len(model.calls)
    text = spoken(iv)
    assert iv.pending.kind in {"hint", "simpler"} and len(model.calls) == n
    assert text == iv.pending.text and iv.pending.fell_back
    assert iv.pending.fallback_reason == NOT_ASKED[iv.pending.kind]


def test_no_model_means_the_curated_text_and_an_honest_reason() -> None:
    iv = make(None)
    spoken(iv)
    iv.submit("strong")
    assert spoken(iv) == iv.pending.intended
    assert iv.pending.fell_back and iv.pending.fallback_reason == NOT_ASKED["none"]


# --- cancel ------------------------------------------------------------------------------


def test_escape_drops_the_reaction_and_records_why() -> None:
    holder: list[Interview] = []
    model = Scripted(" So you mentioned {said} and a lot more here.", on_word=lambda i: i == 2 and holder[0].cancel())
    iv = make(model)
    holder.append(iv)
    spoken(iv)
    iv.submit("strong")
    text = spoken(iv)
    assert text == iv.pending.text == iv.pending.intended
    assert iv.pending.fell_back and iv.pending.fallback_reason == STOPPED


def test_stopped_by_the_candidate_only_when_cancel_was_called() -> None:
    # The model stops on its own (a stop string, a rejected line): never "stopped by the candidate".
    for reply in (" So you mentioned {said}. And more.", " Why?", " {said}"):
        iv = make(Scripted(reply))
        spoken(iv)
        iv.submit("strong")
        spoken(iv)
        assert iv.pending.fallback_reason != STOPPED, reply


# --- the final text is what was streamed, every line of a whole interview ---------------------


@pytest.mark.parametrize("reply", [" So you mentioned {said}.", " Lecturing on and on", " Great.", " {said}?"])
def test_every_line_equals_what_was_streamed(reply: str) -> None:
    iv = make(Scripted(reply), level="middle", topics=("alpha", "beta"))
    script = iter(["partial", "strong", "wrong", "strong", "weak", "", "b", "strong"] * 2)
    while not iv.done:
        assert spoken(iv) == iv.pending.text
        iv.submit(next(script))
    closing = spoken(iv)
    assert closing == iv.record.closing


# --- the reaction check --------------------------------------------------------------------

ANSWER = "um so dropout randomly switches off some neurons on each batch while training"
SECRETS = [
    "Dropout is used only during training; at inference all units are kept.",
    "Units cannot rely on specific partners, so features become redundant and robust instead of co-adapted.",
]


@pytest.mark.parametrize(
    ("raw", "strong", "ok", "reason"),
    [
        (" So random neurons are switched off on each batch.", False, True, ""),
        ("Interviewer: \"You switch off neurons at random.\" Next", False, True, ""),
        (" So what happens at inference?", False, False, "asks its own question"),
        (" That's a great example.", False, False, "judges the answer"),
        (" Great, random neurons are switched off.", True, True, ""),
        (" That is wrong, neurons are not switched off.", True, False, "judges the answer"),
        (" Okay.", False, False, "1 words"),
        (" That is an interesting topic to explore further.", False, False, "names nothing the candidate said"),
        (" So neurons switched off stop features from being co-adapted and redundant.", False, False, "says more of its own"),
        (" So random neurons switched off get co-adapted.", False, False, "tells the candidate part of the answer"),
        (" That's exactly what I'm going to show you about neurons.", True, False, "talks about itself"),
        (" This is called switching off neurons.", False, False, "talks about itself"),
        (" So neurons switched off (the SVM trick).", False, False, "markup"),
        (" So the neurons switched off are all kept at inference.", False, False, "tells the candidate part of the answer"),
        (" Neurons get switched off on each batch and " + "then " * 20 + "more.", False, False, "29 words"),
        (" So [b]neurons[/b] are switched off.", False, False, "markup"),
        (" So neurons are switched off", False, False, "not one complete sentence"),
    ],
)
def test_check_reaction(raw: str, strong: bool, ok: bool, reason: str) -> None:
    check = check_reaction(raw, ANSWER, BagOfWordsEncoder(), SECRETS, strong=strong, question="What happens at test time?")
    assert check.ok is ok, check
    assert check.reason.startswith(reason), check


def test_first_sentence() -> None:
    assert first_sentence(' Reaction: "So you switch it off." Then the model rambles on.') == "So you switch it off."
    assert first_sentence("No full stop here") == "No full stop here"


# --- the closing remark and the threads ---------------------------------------------------------


def test_the_closing_remark_is_grounded_in_the_grades_not_the_model() -> None:
    model = Scripted(" I'm sorry, but it's not possible to answer your questions.")
    iv = make(model, topics=("alpha", "beta"), max_follow_ups=1)
    for a in ["strong", "strong", "weak", "weak", "weak", "weak"]:
        if iv.done:
            break
        spoken(iv)
        iv.submit(a)
    n = len(model.calls)
    closing = spoken(iv)
    assert len(model.calls) == n  # no model line
    assert "strongest on topic alpha" in closing and "topic beta" in closing and "practise" in closing
    assert "sorry" not in closing


def test_closing_remark_shapes() -> None:
    assert closing_remark({"dropout": 4.2}) == "Thanks, that's all I had. You were strongest on dropout (4.2/5)."
    two = closing_remark({"dropout": 4.2, "optimizers": 1.0})
    assert two.endswith("optimizers (1.0/5) is the one to practise next.")
    assert "close behind" in closing_remark({"dropout": 3.0, "optimizers": 2.8})


def test_generation_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.cpu

    monkeypatch.setenv("VIVA_LLM_THREADS", "3")
    assert generation_threads() == 3
    monkeypatch.delenv("VIVA_LLM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(core.cpu, "running_elsewhere", lambda loadavg=None: 0)
    assert generation_threads() == 2  # the other core is free: both
    monkeypatch.setattr(core.cpu, "running_elsewhere", lambda loadavg=None: 1)
    assert generation_threads() == 1  # anything else running: one, never two spinning against it
    monkeypatch.setattr(core.cpu, "running_elsewhere", lambda loadavg=None: None)
    assert generation_threads() == 1  # load unknown: one
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr(core.cpu, "running_elsewhere", lambda loadavg=None: 2)
    assert generation_threads() == 4  # half the cores, at most 4
    monkeypatch.setattr(core.cpu, "running_elsewhere", lambda loadavg=None: None)
    assert generation_threads() == 4  # load unknown (not Linux): the fixed choice
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # a test worker's cap holds
    assert generation_threads() == 1


def test_voice_context_defaults() -> None:
    assert Context().secrets == ()


def test_the_candidates_words_reach_the_model_cut_where_a_clause_ends() -> None:
    """Seen in tmux: the prompt's excerpt stopped at 24 words, "... up by one over one", and
    the reaction said it back ("You said you scale the kept ones up by one over one.")."""
    from agent.voice import _quote, to_clause_end

    answer = (
        "so during training dropout zeroes some units, so the expected activation shrinks, and you scale the kept "
        "ones up by one over one minus p. it's not that you rescale at inference"
    )
    assert _quote(answer, 24).endswith("one over one minus p.")  # runs on to the clause end
    assert _quote(answer, 16) == "so during training dropout zeroes some units, so the expected activation shrinks ..."
    assert _quote("no clause ends here at all " * 5, 8).endswith(" ...")  # nothing to cut at: the count, marked
    assert _quote("short answer", 24) == "short answer"
    window = answer[: answer.index(" minus")]  # a grading window ends at a word count
    assert to_clause_end(answer, window).endswith("one over one minus p.")
    assert to_clause_end(answer, "not in the answer") == "not in the answer"
    assert to_clause_end(answer, "it's not that") == "it's not that"  # no clause end within reach: as it was
