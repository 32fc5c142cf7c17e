"""Wiring: load the models and data an interview needs, once, and build interviews.

The TUI calls :func:`load_components` in a worker thread (it takes seconds: torch, the
embedder, the FAISS index, the LLM) and then builds any number of interviews from the
result; ``viva ask`` and the benchmarks go through :func:`build_interview`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.config import SessionConfig
from agent.engine import Interview, Sink
from agent.record import SessionRecord

if TYPE_CHECKING:  # the real modules import torch and faiss: loaded in load_components
    from agent.llm import ChatModel
    from agent.voice import Voice
    from knowledge.retriever import Retriever
    from rubrics.bank import Bank
    from rubrics.grader import Grader


@dataclass
class Components:
    bank: Bank
    grader: Grader
    retriever: Retriever
    voice: Voice

    def interview(self, config: SessionConfig, *, sink: Sink | None = None, record: SessionRecord | None = None) -> Interview:
        return Interview(config, self.bank, self.grader, self.voice, self.retriever, sink=sink, record=record)


def load_components(
    llm: str | None = None,
    embedder: str | None = None,
    progress: Callable[[str], None] = lambda step: None,
    chat_model: ChatModel | None = None,  # a ready one (tests, the TUI's fake) instead of loading one
    bank: Callable[[], Bank] | None = None,  # where the bank comes from (the app's, loaded once) instead of parsing it
    background_llm: bool = False,
) -> Components:
    """Load everything; ``llm='none'`` skips the LLM and uses the rubric's own wording.

    ``background_llm``: return before the LLM is loaded (it goes on loading in a thread,
    :class:`agent.llm.BackgroundChatModel`); the TUI asks for this, since the first
    question needs no model.  A bad path is still reported here, before anything loads.
    """
    from core.models import check_model_sources, ensure_offline

    ensure_offline()
    # A bad path is reported now, not after the embedder and the index have loaded.
    check_model_sources(None if chat_model is not None else llm, embedder, llm_needed=chat_model is None)
    progress("rubrics")
    from rubrics.bank import load_bank

    questions = (bank or load_bank)()
    progress("embedder")
    from core.embedding import Embedder

    encoder = Embedder.load(embedder)
    progress("judge")
    from rubrics.grader import Grader
    from rubrics.judge import Judge

    grader = Grader(encoder, judge=Judge.load())
    progress("index")
    from knowledge.retriever import Retriever

    retriever = Retriever.load(encoder)
    from agent.voice import Voice

    if chat_model is None and (llm or "").lower() != "none":
        from agent.llm import BackgroundChatModel, TransformersChatModel, chat_model_name, wants_adapter

        if background_llm:
            # The first question needs no model: it loads while the candidate reads it.
            chat_model = BackgroundChatModel(lambda: TransformersChatModel.load(llm), chat_model_name(llm, wants_adapter(llm)))
        else:
            progress("llm")
            chat_model = TransformersChatModel.load(llm)
    progress("ready")
    return Components(questions, grader, retriever, Voice(chat_model, encoder))


def build_interview(
    config: SessionConfig,
    *,
    llm: str | None = None,
    embedder: str | None = None,
    sink: Sink | None = None,
    record: SessionRecord | None = None,
) -> Interview:
    return load_components(llm, embedder).interview(config, sink=sink, record=record)
