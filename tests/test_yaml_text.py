"""libyaml reads the project's YAML into exactly what PyYAML's Python parser does.

``core.yaml_text`` switches the rubric bank and the primer's front matter to the C
parser for start-up time; these tests hold it to the same objects and the same error
positions, so a broken rubric is still named by file and line.
"""

from __future__ import annotations

import pytest
import yaml

from core import yaml_text
from rubrics.bank import BANK_DIR


def _python(text: str) -> object:
    return yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - the reference parser


@pytest.mark.parametrize("path", sorted(BANK_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_rubric_file_reads_the_same(path) -> None:
    text = path.read_text(encoding="utf-8")
    assert yaml_text.safe_load(text) == _python(text)


def test_tricky_scalars_read_the_same() -> None:
    text = 'a: 1e-4\nb: 0.01\nc: "yes"\nd: yes\ne: 2026-12-07\nf: ~\ng: [x, "[bold]", "\\u00e9"]\nh: >-\n  folded\n  text\n'
    assert yaml_text.safe_load(text) == _python(text)


def test_an_error_keeps_its_line() -> None:
    bad = "topic: x\nrungs:\n  - id: a\n   question: misindented\n"
    with pytest.raises(yaml.YAMLError) as c_err:
        yaml_text.safe_load(bad)
    with pytest.raises(yaml.YAMLError) as py_err:
        _python(bad)
    assert c_err.value.problem_mark.line == py_err.value.problem_mark.line  # type: ignore[attr-defined]


def test_every_primer_front_matter_reads_the_same() -> None:
    from knowledge.corpus import PRIMER_DIR
    from knowledge.passages import _FRONT_MATTER

    checked = 0
    for path in sorted(PRIMER_DIR.rglob("*.md")):
        match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        if match:
            assert yaml_text.safe_load(match.group(1)) == _python(match.group(1)), path.name
            checked += 1
    assert checked > 10
