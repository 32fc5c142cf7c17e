"""Numbers and units in an answer, compared with the reference's.

"7 gigabytes, one byte per parameter" and "about 112 GB, sixteen bytes a parameter" share
every word an embedding cares about; only the numbers differ, and the numbers are the
answer.  This module pulls quantities out of text (digits, "16GB", "7B", "2x", "50%",
and spoken forms such as "a hundred and twelve gigs" via ``text2num``), normalises
memory units to bytes and multipliers such as "billion", and says whether an answer's
quantity of a unit disagrees with every quantity of that unit in a statement.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# Unit words -> (canonical unit, factor to the canonical unit).
_UNITS: dict[str, tuple[str, float]] = {
    "byte": ("byte", 1.0), "bytes": ("byte", 1.0), "b": ("byte", 1.0),
    "bit": ("byte", 1 / 8), "bits": ("byte", 1 / 8),
    "kb": ("byte", 1e3), "kilobyte": ("byte", 1e3), "kilobytes": ("byte", 1e3),
    "mb": ("byte", 1e6), "megabyte": ("byte", 1e6), "megabytes": ("byte", 1e6), "megs": ("byte", 1e6), "meg": ("byte", 1e6),
    "gb": ("byte", 1e9), "gig": ("byte", 1e9), "gigs": ("byte", 1e9), "gigabyte": ("byte", 1e9), "gigabytes": ("byte", 1e9),
    "tb": ("byte", 1e12), "terabyte": ("byte", 1e12), "terabytes": ("byte", 1e12),
    "gib": ("byte", 2**30), "mib": ("byte", 2**20), "tib": ("byte", 2**40),
    "%": ("percent", 1.0), "percent": ("percent", 1.0), "per": ("", 1.0),
    "x": ("times", 1.0), "times": ("times", 1.0), "fold": ("times", 1.0),
    "ms": ("second", 1e-3), "millisecond": ("second", 1e-3), "milliseconds": ("second", 1e-3),
    "s": ("second", 1.0), "sec": ("second", 1.0), "second": ("second", 1.0), "seconds": ("second", 1.0),
    "minute": ("second", 60.0), "minutes": ("second", 60.0), "hour": ("second", 3600.0), "hours": ("second", 3600.0),
}
_SCALES = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "mil": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12, "t": 1e12,
}
# After a number these name what was counted ("16 layers", "7 billion parameters").
_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "half": 0.5, "quarter": 0.25,
}
_SCIENTIFIC = r"\d+(?:\.\d+)?e[-+]?\d+"
_TOKEN = re.compile(rf"{_SCIENTIFIC}\b|\d+x\d+|[a-z]+\d[a-z0-9]*|\d+(?:[.,]\d+)*(?:[a-z%]+)?|[a-z]+|%")
_SCIENTIFIC_TOKEN = re.compile(rf"^{_SCIENTIFIC}$")
SCIENTIFIC = "e-notation"  # the unit of a number written (or said) as a power of ten
_DIGIT_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_DIGIT_OR_WORD = rf"(\d+(?:\.\d+)?|{'|'.join(_DIGIT_WORDS)})"
# Spoken exponents: "one e minus four", "5 e minus 4", "ten to the minus four" -> 1e-4.
_SPOKEN_EXPONENT = re.compile(rf"\b{_DIGIT_OR_WORD}\s*e\s*(?:minus|-)\s*{_DIGIT_OR_WORD}\b")
_TEN_TO_THE = re.compile(rf"\b(?:10|ten) to the (minus |negative )?{_DIGIT_OR_WORD}\b")
# Fractions as said: "three quarters of a word", "a half", "two thirds of the weights".  An
# ordinal is a fraction only before "of" ("a third of the time", not "a third layer").
_NUMERATORS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "nine": 9}
_DENOMINATORS = {"half": 2, "halves": 2, "quarter": 4, "quarters": 4}
_ORDINAL_DENOMINATORS = {
    "third": 3, "thirds": 3, "fifth": 5, "fifths": 5, "tenth": 10, "tenths": 10, "hundredth": 100, "hundredths": 100,
}


_AND_A_HALF = re.compile(rf"\b{_DIGIT_OR_WORD} and a half\b")


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation, longest first ("quarters" before "quarter")."""
    return "|".join(sorted(words, key=len, reverse=True))


_FRACTION = re.compile(
    rf"\b({_alternatives(_NUMERATORS)})[ -]"
    rf"((?:{_alternatives(_DENOMINATORS)})\b|(?:{_alternatives(_ORDINAL_DENOMINATORS)})(?= of\b))"
)


def _digits(word: str) -> str:
    return str(_DIGIT_WORDS.index(word) + 1) if word in _DIGIT_WORDS else word


def _spoken_numbers(text: str) -> str:
    """Exponents and fractions spelled out, as digits text2num leaves alone ("1e-4", "0.75")."""

    def fraction(m: re.Match[str]) -> str:
        den = _DENOMINATORS.get(m.group(2)) or _ORDINAL_DENOMINATORS[m.group(2)]
        return f"{_NUMERATORS[m.group(1)] / den:.4g}"

    text = _AND_A_HALF.sub(lambda m: f"{float(_digits(m.group(1))) + 0.5:g}", text)
    text = _FRACTION.sub(fraction, text)
    text = _TEN_TO_THE.sub(lambda m: f"1e{'-' if m.group(1) else ''}{_digits(m.group(2))}", text)
    return _exponents(text)


def _exponents(text: str) -> str:
    return _SPOKEN_EXPONENT.sub(lambda m: f"{_digits(m.group(1))}e-{_digits(m.group(2))}", text)
_NAMED_NUMBER = re.compile(r"\b([a-z]+)-(\d)")
_NUMBER_UNIT = re.compile(r"^(\d+(?:[.,]\d+)*)([a-z%]*)$")
# Names that contain digits but are not quantities: fp16, bf16, int8, gpt2, l2, resnet50, 1d, 3x3...
_NOT_QUANTITY = re.compile(
    r"^(?:fp|bf|int|uint|float|gpt|l|resnet|vgg|t|llama|qwen|v|h|a|top|conv|k)\d|^\d+d$|^\d+x\d+$"
    r"|^\d+(?:st|nd|rd|th)s?$"  # ordinals ("the 3rd layer", text2num's "third"): a position, not an amount
)
# Tolerance: within this factor two quantities of one unit are "the same number".
TOLERANCE = 1.35


# Counted nouns whose number is a claim ("16 layers"), as opposed to the nouns of an
# example scenario ("8,000 photos", "a million users"), whose numbers are the speaker's own.
COUNT_NOUNS = frozenset({
    "parameter", "param", "weight", "layer", "head", "token", "dimension", "dim", "epoch", "step", "update",
    "hop", "row", "bit", "channel", "neuron", "unit", "gpu", "word", "character", "exponent", "mantissa",
    "sample", "example", "feature", "class", "time", "order", "digit", "decimal", "hour", "day",
})
_HEDGES = frozenset({"a", "an", "about", "around", "roughly", "approximately", "like", "maybe", "say", "some", "couple", "few"})
_UPPER = (("up", "to"), ("under",), ("below",), ("less", "than"), ("fewer", "than"), ("at", "most"), ("within",), ("max",))
_LOWER = (("over",), ("above",), ("more", "than"), ("at", "least"), ("beyond",), ("past",), ("min",))


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # canonical unit, or the counted noun's stem ("layer", "parameter"); "" if bare
    lo: float | None = None  # the range it stands for ("5 to 10", "up to 1M"); None: just ``value``
    hi: float | None = None

    def agrees(self, other: Quantity) -> bool:
        """Whether two quantities of one unit can be the same number (ranges and bounds overlap)."""
        a_lo, a_hi = (self.lo if self.lo is not None else self.value), (self.hi if self.hi is not None else self.value)
        b_lo, b_hi = (other.lo if other.lo is not None else other.value), (other.hi if other.hi is not None else other.value)
        if _same(self.value, other.value):
            return True
        return a_lo / TOLERANCE <= b_hi and b_lo / TOLERANCE <= a_hi if min(a_lo, b_lo) >= 0 else a_lo <= b_hi and b_lo <= a_hi


_ALIASES = {"param": "parameter", "dim": "dimension", "gpus": "gpu", "char": "character"}
_DIGIT_SCALE = re.compile(r"\b(\d+(?:\.\d+)?)\s+(thousand|million|billion|trillion)\b")


def _times_scale(m: re.Match[str]) -> str:
    """ "7 billion" -> "7000000000" before text2num, which would read it as "7 1000000000"."""
    return f"{float(m.group(1)) * _SCALES[m.group(2)]:.0f}"


def _stem(word: str) -> str:
    word = word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
    return _ALIASES.get(word, word)


@lru_cache(maxsize=4096)
def extract(text: str) -> tuple[Quantity, ...]:
    """The quantities stated in ``text``, in order."""
    from text_to_num import alpha2digit

    spoken = _DIGIT_SCALE.sub(_times_scale, text.lower().replace("\u2019", "'"))
    # "GPT-3", "ResNet-50", "Llama-2" are names, not the numbers 3, 50 and 2: joined, they
    # read as "gpt3", which :data:`_NOT_QUANTITY` knows (a lone "0.05" was "wrong" against
    # the 3 of a point that cites GPT-3).
    spoken = _NAMED_NUMBER.sub(r"\1\2", spoken)
    spoken = _spoken_numbers(spoken)
    try:
        spoken = alpha2digit(spoken, "en")
    except Exception:  # noqa: BLE001 - a text2num hiccup must never break grading
        pass
    spoken = _exponents(spoken)  # text2num may have made "five e minus four" "5 e minus 4"
    toks = _TOKEN.findall(spoken.lower())
    out: list[Quantity] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        value: float | None = None
        unit_hint = ""
        m = _NUMBER_UNIT.match(tok)
        if _SCIENTIFIC_TOKEN.match(tok):
            value = float(tok)
            unit_hint = SCIENTIFIC  # "1e-4", "3e-4": learning rates and decays, compared with each other
        elif m and not _NOT_QUANTITY.match(tok):
            try:
                value = float(m.group(1).replace(",", ""))
            except ValueError:
                value = None
            unit_hint = m.group(2)
        elif tok in _SMALL and i + 1 < len(toks) and (toks[i + 1] in _UNITS or toks[i + 1] in _SCALES):
            value = float(_SMALL[tok])
        elif (
            tok in {"a", "one"} and i + 1 < len(toks) and toks[i + 1] in _UNITS and _UNITS[toks[i + 1]][0] == "byte"
            and not (tok == "a" and toks[i + 1] == "bit")  # "a bit less than a word": a little, not one bit
        ):
            value = 1.0
        if value is None:
            i += 1
            continue
        j = i + 1
        # "7b", "16gb", "2x", "50%" carry their unit in the token itself.
        if unit_hint in _SCALES and unit_hint not in {"t", "m"} or unit_hint in {"b", "bn"}:
            value *= _SCALES.get(unit_hint, 1e9)
            unit_hint = ""
        elif unit_hint == "m":
            value *= 1e6
            unit_hint = ""
        while j < len(toks) and toks[j] in _SCALES and toks[j] not in {"t", "m", "k"}:
            value *= _SCALES[toks[j]]
            j += 1
        unit = ""
        span: tuple[float, float] | None = None
        if unit_hint == SCIENTIFIC:
            unit = SCIENTIFIC
        elif unit_hint:
            unit_name, factor = _UNITS.get(unit_hint, (_stem(unit_hint), 1.0))
            unit, value = unit_name, value * factor
        elif j < len(toks):
            nxt = toks[j]
            if nxt in _UNITS and _UNITS[nxt][0]:
                unit_name, factor = _UNITS[nxt]
                unit, value = unit_name, value * factor
                j += 1
            elif _stem(nxt) in COUNT_NOUNS or nxt in COUNT_NOUNS:
                unit = _stem(nxt)
            elif nxt in {"or", "to", "and"} and j + 1 < len(toks) and toks[j + 1][:1].isdigit():
                # "5e-4 or 1e-4", "0.01 to 0.1": bare (the next number's unit may join it,
                # _ranges), and "to" spans the two
                upto = _plain_number(toks[j + 1]) if nxt == "to" else None
                span = (value, upto) if upto is not None and upto > value else None
            elif nxt.isalpha():
                unit = "?"  # a scenario's noun: not compared
        lo = hi = None
        before = tuple(t for t in toks[max(0, i - 5) : i] if t not in _HEDGES)[-2:]
        if span is not None:
            lo, hi = span
        elif any(before[-len(b):] == b for b in _UPPER):
            lo, hi = 0.0, value
        elif any(before[-len(b):] == b for b in _LOWER):
            lo, hi = value, math.inf
        out.append(Quantity(value, unit, lo, hi))
        i = max(j, i + 1)
    return tuple(_ranges(out, toks))


def _plain_number(tok: str) -> float | None:
    """A token that is only a number ("0.1", "1e-4"), as a float."""
    try:
        return float(tok.replace(",", "")) if _SCIENTIFIC_TOKEN.match(tok) or re.fullmatch(r"\d+(?:[.,]\d+)*", tok) else None
    except ValueError:
        return None


def _ranges(qs: list[Quantity], toks: list[str]) -> list[Quantity]:
    """ "5 to 10 epochs": the bare first number takes the second's unit, and both the range."""
    out = list(qs)
    for k in range(len(out) - 1):
        a, b = out[k], out[k + 1]
        spanned = a.lo is None or (a.lo == a.value and a.hi == b.value)  # none yet, or "a to b" itself
        if a.unit == "" and b.unit not in {"", "?"} and a.value < b.value and spanned:
            rng = Quantity(a.value, b.unit, a.value, b.value)
            out[k], out[k + 1] = rng, Quantity(b.value, b.unit, a.value, b.value)
    return out


def _same(a: float, b: float) -> bool:
    if a == b:
        return True
    if a <= 0 or b <= 0:
        return abs(a - b) < 1e-9
    return abs(math.log(a / b)) <= math.log(TOLERANCE)


@dataclass(frozen=True)
class Mismatch:
    unit: str
    said: float
    expected: tuple[float, ...]

    def describe(self) -> str:
        return (
            f"{_human(self.said, self.unit)} where the reference has {' or '.join(_human(v, self.unit) for v in self.expected)}"
        )


def _human(value: float, unit: str) -> str:
    """16 -> "16 bytes", 1.12e11 -> "112 GB", 7e9 parameters -> "7 billion parameters"."""
    if unit == "byte":
        for factor, name in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")):
            if value >= factor:
                return f"{value / factor:g} {name}"
        return f"{value:g} byte" + ("" if value == 1 else "s")
    if unit == "percent":
        return f"{value:g}%"
    if unit == "times":
        return f"{value:g}x"
    if unit == SCIENTIFIC:
        return f"{value:g}"
    number = f"{value:g}"
    for factor, name in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= factor:
            number = f"{value / factor:g} {name}"
            break
    if not unit:
        return number
    return f"{number} {unit}" + ("" if value == 1 else "s")


def mismatch(answer: str, statement: str) -> Mismatch | None:
    """A quantity of ``answer`` that disagrees with every one of its unit in ``statement``.

    Only units both texts use are compared (a bare number is compared with bare numbers
    only when both texts have exactly one), so a number the statement does not speak
    about never counts against the answer.  An answer that also states the right value
    of that unit is not a mismatch ("2 bytes for weights ... 16 in total").
    """
    said, expected = extract(answer), extract(statement)
    if not said or not expected:
        return None
    units = ({q.unit for q in said} & {q.unit for q in expected}) - {"?"}
    if "" in units and (sum(q.unit == "" for q in said) != 1 or sum(q.unit == "" for q in expected) != 1):
        units.discard("")
    for unit in sorted(units):
        mine = [q for q in said if q.unit == unit]
        theirs = [q for q in expected if q.unit == unit]
        if not any(m.agrees(t) for m in mine for t in theirs):
            return Mismatch(unit, mine[0].value, tuple(t.value for t in theirs))
    return None


def agreement(answer: str, statement: str) -> bool | None:
    """True when ``answer`` states one of ``statement``'s numbers, False when it states
    another number of that unit instead, None when the two share no unit."""
    said, expected = extract(answer), extract(statement)
    units = ({q.unit for q in said} & {q.unit for q in expected}) - {"?", ""}
    if not units:
        return None
    return mismatch(answer, statement) is None
