"""Which language an article is in (py3langid: a small model inside the package, no download)."""

from __future__ import annotations

import functools
from typing import Any

# Names for the report-language instruction; other codes are passed to the model as they are.
NAMES = {
    "ar": "Arabic", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "no": "Norwegian", "pl": "Polish",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sv": "Swedish", "th": "Thai",
    "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or ``None`` when too short or unsure."""
    # 1,500 characters decide the language of an article as well as 5,000 do (the 12 dev pages
    # and the BBC articles came out the same) at a third of the cost: 0.8 ms instead of 2.4 ms.
    sample = text[:1500]
    if len(sample.strip()) < 20:
        return None
    code, probability = _identifier().classify(sample)
    return str(code) if probability >= 0.5 else None


def language_name(code_or_name: str) -> str:
    """ "fr" → "French"; a name (or an unknown code) stays as given."""
    code = code_or_name.lower()
    return NAMES.get(code) or _iso639()[0].get(code, code_or_name).split(" (")[0]


@functools.cache
def _iso639() -> tuple[dict[str, str], dict[str, str]]:
    """ISO 639-1 codes → English names (python-iso639, the standard's own tables), and every
    name (the short ones above too, and without a parenthesis: "Modern Greek") → its code."""
    from iso639 import ALL_LANGUAGES

    codes = {lang.part1: lang.name for lang in ALL_LANGUAGES if lang.part1}
    names: dict[str, str] = {}
    for code, name in [*codes.items(), *NAMES.items()]:
        plain = name.split("(")[0].strip()
        for form in (name, plain, plain.split(",")[0], plain.split()[-1]):
            names.setdefault(form.casefold(), code)
    return codes, names


def language_code(value: str) -> str:
    """The ISO 639-1 code of ``value``: a code ("de", or a tag such as "pt-BR", whose language
    is taken) or an English name ("German", any case); a ``ConfigError`` listing the codes for
    anything else (``--language klingon``)."""
    from analyst.errors import ConfigError

    codes, names = _iso639()
    wanted = value.strip()
    primary = wanted.replace("_", "-").split("-")[0].lower()
    if primary in codes:
        return primary
    if wanted.casefold() in names:
        return names[wanted.casefold()]
    raise ConfigError(
        f"unknown language {value!r}: give an ISO 639-1 code or its English name "
        f"(codes: {' '.join(sorted(codes))})"
    )
