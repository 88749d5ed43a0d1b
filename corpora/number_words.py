"""Generates the quickstart corpus: German number words -> English number words.

German writes a number as one word with the units before the tens ("vierundfünfzig", four-and-
fifty); English writes separate words with the tens first ("fifty four"). A model must split the
compound and reorder its parts, and, because the test numbers never occur in training, it must
generalize; the numbers up to 100, which people type first, and the round hundreds are in
training.
``python corpora/number_words.py`` writes ``corpora/number_words/{train,valid,test}.{de,en}``
(deterministic: the committed files are its output).
"""

import os
import random

DE_UNITS = ["", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
DE_TEENS = ["zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn",
            "achtzehn", "neunzehn"]
DE_TENS = ["", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig",
           "neunzig"]
EN_UNITS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
EN_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
            "eighteen", "nineteen"]
EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

# Numbers are drawn per order of magnitude, so that short numbers are not drowned by the 90,000
# five-digit ones: (first, last, test, valid, train) for each range. The numbers up to 100, what
# a person types first, are all in training and in no other split.
RANGES = [(1, 100, 0, 0, 100), (101, 999, 90, 45, 764), (1_000, 9_999, 250, 125, 4_000),
          (10_000, 99_999, 650, 325, 7_000)]
SMALL, SMALL_REPEATS = 100, 5  # the numbers up to SMALL are in training 5 times (frequent in text)
ROUND = 100  # and every multiple of ROUND that dev and test do not hold (round numbers, too)


def german(n: int, compound: bool = False) -> str:
    """German number word for 1 <= n <= 999999; ``compound`` gives "ein" for a leading 1."""
    if n >= 1000:
        return _prefix(n // 1000) + "tausend" + (german(n % 1000) if n % 1000 else "")
    if n >= 100:
        return _prefix(n // 100) + "hundert" + (german(n % 100) if n % 100 else "")
    if n >= 20:
        units = n % 10
        return (_prefix(units) + "und" if units else "") + DE_TENS[n // 10]
    if n >= 10:
        return DE_TEENS[n - 10]
    return "ein" if compound and n == 1 else DE_UNITS[n]


def _prefix(n: int) -> str:
    return german(n, compound=True)


def english(n: int) -> str:
    """English number words for 1 <= n <= 999999, e.g. 354 -> "three hundred fifty four"."""
    if n >= 1000:
        return _join(english(n // 1000), "thousand", n % 1000 and english(n % 1000))
    if n >= 100:
        return _join(EN_UNITS[n // 100], "hundred", n % 100 and english(n % 100))
    if n >= 20:
        return _join(EN_TENS[n // 10], EN_UNITS[n % 10])
    return EN_TEENS[n - 10] if n >= 10 else EN_UNITS[n]


def _join(*words) -> str:
    return " ".join(word for word in words if word)


def splits(seed: int = 20261126) -> dict:
    """Disjoint samples of 1..99,999 per order of magnitude: {"train": [...], "valid", "test"};
    the numbers up to SMALL come SMALL_REPEATS times in training, and every multiple of ROUND
    not held out is in training."""
    rng = random.Random(seed)
    result = {"test": [], "valid": [], "train": []}
    for first, last, *sizes in RANGES:
        numbers = list(range(first, last + 1))
        rng.shuffle(numbers)
        start = 0
        for name, size in zip(result, sizes):
            result[name] += numbers[start:start + size]
            start += size
    result["train"] += [n for n in result["train"] if n <= SMALL] * (SMALL_REPEATS - 1)
    held_out, trained = set(result["valid"]) | set(result["test"]), set(result["train"])
    result["train"] += [n for n in range(ROUND, 100_000, ROUND) if n not in held_out | trained]
    for numbers in result.values():
        rng.shuffle(numbers)
    return result


def write(directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    for name, numbers in splits().items():
        for lang, words in (("de", german), ("en", english)):
            with open(os.path.join(directory, f"{name}.{lang}"), "w", encoding="utf-8") as f:
                f.writelines(words(n) + "\n" for n in numbers)


if __name__ == "__main__":
    write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "number_words"))
