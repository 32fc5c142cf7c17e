"""Tracks, levels and limits have one home, ``core.tracks``; every other module agrees with it.

Each test asks one consumer what it accepts or offers - the session config, the store's
import check, the rubric and primer schemas, the CLI's choices, the setup screen and
the help text - and compares the answer with ``core.tracks``.  The last one reads the
runtime sources and fails if a track id is spelled anywhere else, so a new track or a
renamed one cannot leave a stale copy behind.
"""

from __future__ import annotations

import argparse
import json
import re

import pytest
from conftest import REPO
from helpers import finished_record

from agent.config import LEVEL_POLICY, SessionConfig
from agent.export import to_json
from agent.store import validate_session
from core.errors import DataError, VivaError
from core.tracks import (
    DEFAULT_LEVEL,
    DEFAULT_TOPICS,
    DEFAULT_TRACK,
    FOLLOW_UP_LIMITS,
    LEVEL_IDS,
    LEVELS,
    RESEARCH,
    TAG_IDS,
    TOPIC_LIMITS,
    TRACK_IDS,
    TRACKS,
    level_title,
    topic_range,
    track,
    track_title,
)
from knowledge.passages import Passage, parse_primer
from rubrics.bank import parse_topic
from rubrics.schema import adhoc_rung
from viva.cli import build_parser


def test_the_vocabulary_is_consistent() -> None:
    assert TRACK_IDS == ("product-analytics", "applied-nlp", "applied-cv")
    assert TAG_IDS == (*TRACK_IDS, "research") and RESEARCH.id not in TRACK_IDS
    assert LEVEL_IDS == ("junior", "middle", "senior")
    assert DEFAULT_TRACK in TRACK_IDS and DEFAULT_LEVEL in LEVEL_IDS
    assert TOPIC_LIMITS[0] <= DEFAULT_TOPICS <= TOPIC_LIMITS[1]
    assert len({t.short for t in (*TRACKS, RESEARCH)}) == len(TAG_IDS)
    assert track_title("applied-nlp") == "Applied NLP" and track_title("x") == "x"
    assert level_title("junior") == "Junior" and [lv.title for lv in LEVELS] == ["Junior", "Middle", "Senior"]
    assert topic_range() == f"{TOPIC_LIMITS[0]}-{TOPIC_LIMITS[1]}"


def test_the_session_config_accepts_exactly_the_core_values() -> None:
    default = SessionConfig()
    assert (default.track, default.level, default.n_topics) == (DEFAULT_TRACK, DEFAULT_LEVEL, DEFAULT_TOPICS)
    assert set(LEVEL_POLICY) == set(LEVEL_IDS)
    for t in TRACK_IDS:
        for lv in LEVEL_IDS:
            assert SessionConfig(track=t, level=lv).ceiling <= track(t).ceiling
    with pytest.raises(VivaError, match="unknown track"):
        SessionConfig(track=RESEARCH.id)  # a tag, not a track one interviews on
    with pytest.raises(VivaError, match="unknown level"):
        SessionConfig(level="staff")
    lo, hi = TOPIC_LIMITS
    assert SessionConfig(n_topics=lo).n_topics == lo and SessionConfig(n_topics=hi).n_topics == hi
    for n in (lo - 1, hi + 1):
        with pytest.raises(VivaError, match=f"between {lo} and {hi}"):
            SessionConfig(n_topics=n)
    lo, hi = FOLLOW_UP_LIMITS
    assert SessionConfig(max_follow_ups=lo).max_follow_ups == lo and SessionConfig(max_follow_ups=hi).max_follow_ups == hi
    for n in (lo - 1, hi + 1):
        with pytest.raises(VivaError, match=f"between {lo} and {hi}"):
            SessionConfig(max_follow_ups=n)


def _validate_with(**config: object) -> None:
    data = json.loads(to_json(finished_record()))
    data["config"].update(config)
    validate_session(data, "x.json")


def test_the_store_import_check_accepts_exactly_the_core_values() -> None:
    for t in TRACK_IDS:
        _validate_with(track=t)
    for lv in LEVEL_IDS:
        _validate_with(level=lv)
    _validate_with(n_topics=TOPIC_LIMITS[1], max_follow_ups=FOLLOW_UP_LIMITS[1])
    for bad in ({"track": RESEARCH.id}, {"level": "staff"}, {"n_topics": TOPIC_LIMITS[1] + 1},
                {"n_topics": TOPIC_LIMITS[0] - 1}, {"max_follow_ups": FOLLOW_UP_LIMITS[1] + 1}):  # fmt: skip
        with pytest.raises(DataError, match=f"config.{next(iter(bad))}"):
            _validate_with(**bad)


def _topic_tagged(tags: str) -> str:
    return f"""\
topic: demo
title: Demo
rungs:
  - id: what
    depth: 1
    tracks: [{tags}]
    question: What is it?
    reference: It is a thing that does something useful.
"""


def test_rubrics_and_the_primer_take_every_tag_and_nothing_else() -> None:
    assert parse_topic(_topic_tagged(", ".join(TAG_IDS)), "demo.yaml").rungs[0].tracks == list(TAG_IDS)
    with pytest.raises(DataError, match="unknown track"):
        parse_topic(_topic_tagged("applied-nlp, sales"), "demo.yaml")
    primer = "---\ntopic: demo\ntitle: Demo\ntracks: [{}]\ndepth: 1\n---\n# Demo\n\n## One {{#one}}\n\nOne two three four five.\n"
    assert parse_primer(primer.format(", ".join(TAG_IDS)), "demo.md").passages[0].tracks == TAG_IDS
    with pytest.raises(DataError, match="unknown track"):
        parse_primer(primer.format("sales"), "demo.md")
    assert Passage("a", "t", "T", "h", "x", "s").tracks == TAG_IDS
    assert adhoc_rung("It is a thing.", "What is it?").tracks == [RESEARCH.id]


def test_the_shipped_bank_uses_only_core_tags_and_every_track_has_topics() -> None:
    from rubrics.bank import load_bank

    bank = load_bank()
    used = {t for topic in bank for r in topic.rungs for t in r.tracks}
    assert used <= set(TAG_IDS)
    for t in TRACK_IDS:
        assert any(topic.ladder(t, SessionConfig(track=t).ceiling) for topic in bank), t


def _subcommand(parser: argparse.ArgumentParser, *path: str) -> argparse.ArgumentParser:
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def _option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action:
    return next(a for a in parser._actions if flag in a.option_strings)


def test_the_cli_offers_the_core_choices_and_defaults() -> None:
    parser = build_parser()
    ask = _subcommand(parser, "ask")
    assert tuple(_option(ask, "--track").choices or ()) == TRACK_IDS and _option(ask, "--track").default == DEFAULT_TRACK
    assert tuple(_option(ask, "--level").choices or ()) == LEVEL_IDS and _option(ask, "--level").default == DEFAULT_LEVEL
    assert _option(ask, "--topics").default == DEFAULT_TOPICS and topic_range() in (_option(ask, "--topics").help or "")
    assert tuple(_option(_subcommand(parser, "rubrics", "list"), "--track").choices or ()) == TAG_IDS
    assert tuple(_option(_subcommand(parser, "knowledge", "search"), "--track").choices or ()) == TAG_IDS


def test_the_setup_screen_and_the_help_use_the_core_limits() -> None:
    from tui.screens import setup
    from tui.screens.help import HELP

    assert (setup.MIN_TOPICS, setup.MAX_TOPICS) == TOPIC_LIMITS
    assert len(str(setup.MAX_TOPICS)) <= 2  # the input box takes two digits
    assert f"how many topics ({topic_range()}" in HELP


TRACK_LITERAL = re.compile("[\"'](?:" + "|".join(map(re.escape, TAG_IDS)) + ")[\"']")


def test_no_runtime_module_spells_a_track_id_but_core_tracks() -> None:
    offenders = []
    for package in ("core", "agent", "knowledge", "rubrics", "tui", "viva"):
        for path in sorted((REPO / package).rglob("*.py")):
            if path == REPO / "core" / "tracks.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if TRACK_LITERAL.search(code):
                    offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
