"""Page and panel numbers: digits or English number words (ONE ... NINETY-NINE)."""

from __future__ import annotations

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
WORDS: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
WORDS.update(_TENS)


MAX_NUMBER = 10**9  # a longer number reads as this (it is never in sequence anyway)


def digits_value(digits: str) -> int:
    """``"0012"`` -> 12; a number past :data:`MAX_NUMBER` (even one of 5,000
    digits, which ``int()`` refuses) is :data:`MAX_NUMBER`."""
    if len(digits.lstrip("0")) > 9:
        return MAX_NUMBER
    return int(digits)


def number_value(raw: str) -> int:
    """``"12"`` -> 12, ``"TWELVE"`` -> 12, ``"TWENTY-ONE"`` -> 21."""
    if raw.isdigit():
        return digits_value(raw)
    low = raw.lower()
    if low in WORDS:
        return WORDS[low]
    tens, _, unit = low.partition("-")
    return _TENS[tens] + WORDS[unit]


def number_word(n: int) -> str:
    """12 -> ``"TWELVE"`` (1..99)."""
    if n < 20:
        return _UNITS[n].upper()
    tens = {v: k for k, v in _TENS.items()}[n - n % 10]
    return (tens if n % 10 == 0 else f"{tens}-{_UNITS[n % 10]}").upper()
