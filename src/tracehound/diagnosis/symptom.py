"""The symptom read: the user's words matched to the catalog's ``symptom_phrases``, offline.

"It fails after a quiet spell", "never when it is busy", "for some customers", "an empty {}":
users describe intermittent failures in a handful of recurring ways, and each catalog entry lists
the wording that points to it (``symptom_phrases:``, a phrase and its log-odds points). The
matcher normalises the text (lower case, light stemming, filler words dropped), finds each phrase's
words in order within a clause (a word or two may come between), and reads the clause's negation
("never", "not", "doesn't" … before or inside the match): a phrase the user denies counts against
its mode at half its weight, and a phrase written with its own negation ("never when busy")
matches only a denial.

The result, :class:`SymptomMatch`, gives each failure mode a bounded bump (:data:`CAP` either
way, well below one strong signal) that the diagnoser adds as its own line of evidence and the
planner may use to order experiments. It guides; it never decides alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tracehound.errors import BadSymptom

#: The longest symptom read, in characters: a user's report is a few sentences.
MAX_CHARS = 4000
#: The most a symptom moves one failure mode's score, either way (natural-log odds).
CAP = 1.0
#: The most one phrase may weigh in the catalog.
MAX_PHRASE_WEIGHT = 1.0
#: A denied phrase ("not when it is busy") counts this share of its weight, against.
DENIED = 0.5
#: Words of the user's text that may come between two words of a phrase.
MAX_GAP = 2
#: How many words before a match a negation still reaches ("it never happens when busy").
NEGATION_REACH = 4

_TOKEN = re.compile(r"\{\s*\}|\[\s*\]|[a-z0-9]+(?:'[a-z]+)?")
#: Clause boundaries: negation does not cross them, and no phrase spans them.
_CLAUSE = re.compile(r"[.;:!?,()\n]+|\b(?:but|although|though|however|whereas|yet|except)\b")
_NEGATIONS = frozenset({"not", "no", "never", "without", "nothing", "none", "nor", "neither", "hardly",
                        "cannot", "nobody", "nowhere"})
#: Words that carry no meaning for a match (articles, pronouns, forms of "to be" and "to do").
_FILLER = frozenset({
    "a", "an", "the", "it", "its", "it's", "is", "are", "was", "were", "be", "been", "being", "am", "this",
    "that", "these", "those", "there", "their", "our", "my", "we", "i", "you", "your", "they", "them", "he",
    "she", "us", "me", "of", "to", "do", "does", "did", "really", "very", "so", "quite", "also",
    "still", "then", "and", "or", "has", "have", "had", "will", "would", "can", "could", "get", "gets",
    "got", "seems", "seem", "seemed", "kind", "sort", "like", "please", "oh", "well", "actually", "ones",
    "for", "on", "at", "with", "from", "by", "about",
})


class Phrased(Protocol):
    """What the matcher reads of a catalog entry: its id and its phrases with their points."""

    @property
    def id(self) -> str: ...

    @property
    def symptom_phrases(self) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class PhraseHit:
    """One catalog phrase found in the symptom."""

    mode: str
    #: The phrase as the catalog writes it.
    phrase: str
    #: The user's words that matched it.
    words: str
    #: The user denied it ("never when it is busy" against "when it is busy").
    denied: bool = False
    #: The phrase's weight in the catalog.
    weight: float = 0.0
    #: Where the words are in the symptom (start, end).
    span: tuple[int, int] = field(default=(0, 0), compare=False)

    @property
    def points(self) -> float:
        return -DENIED * self.weight if self.denied else self.weight

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "phrase": self.phrase, "words": self.words, "weight": self.weight,
                "denied": self.denied, "points": round(self.points, 3)}


@dataclass(frozen=True)
class SymptomMatch:
    """The symptom's phrases found, and the bounded points they give each failure mode."""

    text: str
    hits: tuple[PhraseHit, ...] = ()
    #: Failure mode → points, the sum of its hits clipped to ±:data:`CAP`; modes with no hit are absent.
    points: Mapping[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.points)

    def for_mode(self, mode: str) -> float:
        """The points the symptom gives ``mode`` (0 when nothing matched it)."""
        return self.points.get(mode, 0.0)

    def hits_for(self, mode: str) -> list[PhraseHit]:
        return [h for h in self.hits if h.mode == mode]

    def quote(self, mode: str) -> str:
        """The user's words that moved ``mode``: ``'after a quiet spell', 'never when it is busy'``."""
        return ", ".join(f"'{h.words}'" for h in self.hits_for(mode))

    def line(self, mode: str) -> str:
        """``symptom: 'after a quiet spell' +0.80``, or an empty string when nothing matched ``mode``."""
        pts = self.for_mode(mode)
        return f"symptom: {self.quote(mode)} {pts:+.2f}" if pts else ""

    def ranked(self) -> list[tuple[str, float]]:
        """Failure modes the symptom moved, most supported first."""
        return sorted(self.points.items(), key=lambda kv: (-kv[1], kv[0]))

    def to_dict(self) -> dict[str, Any]:
        return {"hits": [h.to_dict() for h in self.hits],
                "points": {k: round(v, 3) for k, v in self.ranked()}}


def check_symptom(text: str | None) -> str | None:
    """The symptom as given, or None when there is none; :class:`BadSymptom` when empty or too long."""
    if text is None:
        return None
    if not text.strip():
        raise BadSymptom("the symptom is empty", hint="describe what users see in a sentence, or leave --symptom out")
    if len(text) > MAX_CHARS:
        raise BadSymptom(f"the symptom is {len(text):,} characters long; at most {MAX_CHARS:,} are read",
                         hint="give the user's report in a few sentences")
    return text


def match_symptom(text: str | None, catalog: Mapping[str, Phrased] | Iterable[Phrased]) -> SymptomMatch:
    """The catalog's phrases found in ``text``, with each failure mode's bounded points.

    None gives an empty match; an empty or over-long text is :class:`BadSymptom`.
    """
    text = check_symptom(text)
    if text is None:
        return SymptomMatch("")
    entries = catalog.values() if isinstance(catalog, Mapping) else catalog
    clauses = _clauses(text)
    hits: list[PhraseHit] = []
    for e in entries:
        found = []
        for phrase, weight in e.symptom_phrases.items():
            at = _find(compile_phrase(phrase), clauses)
            if at is not None:
                found.append(PhraseHit(e.id, phrase, *at[:2], weight=weight, span=at[2]))
        # Two phrases of one mode on the same words ("504", "gateway timeout") count once, the heavier.
        kept: list[PhraseHit] = []
        for h in sorted(found, key=lambda h: (-abs(h.weight), h.span)):
            if all(h.span[1] <= k.span[0] or k.span[1] <= h.span[0] for k in kept):
                kept.append(h)
        hits += sorted(kept, key=lambda h: h.span)
    points: dict[str, float] = {}
    for h in hits:
        points[h.mode] = points.get(h.mode, 0.0) + h.points
    clipped = {m: max(-CAP, min(CAP, p)) for m, p in points.items() if abs(p) > 1e-9}
    return SymptomMatch(text, tuple(hits), clipped)


# -- text to words ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """A catalog phrase as the matcher reads it: its meaningful word stems, and whether it is a denial."""

    stems: tuple[str, ...]
    negative: bool


@dataclass(frozen=True)
class _Word:
    stem: str
    start: int
    end: int
    negation: bool


def compile_phrase(phrase: str) -> Phrase:
    """The stems a phrase matches on; a phrase with no meaningful word has none (the loader refuses it)."""
    words = _words(_normal(phrase), 0)
    return Phrase(tuple(w.stem for w in words if not w.negation), any(w.negation for w in words))


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'").lower()


def stem(word: str) -> str:
    """A light suffix stripper, the same for phrases and text: ``saving``, ``saved``, ``saves`` → ``sav``."""
    if word.endswith("n't"):
        return "not"
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 5 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix, keep in (("ing", 2), ("ed", 2), ("s", 2)):
        if len(word) > len(suffix) + keep and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def _words(text: str, offset: int) -> list[_Word]:
    out = []
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if tok[0] in "{[":
            tok = tok[0] + tok[-1]
        s = stem(tok)
        neg = s in _NEGATIONS
        if not neg and tok in _FILLER:
            continue
        out.append(_Word(s, offset + m.start(), offset + m.end(), neg))
    return out


def _clauses(text: str) -> list[tuple[str, list[_Word]]]:
    """The text's clauses, each as its words (stems, with their place in the text)."""
    low = _normal(text)
    if len(low) != len(text):  # a normalisation that changed lengths: quote the normalised text
        text = low
    out = []
    pos = 0
    for m in [*_CLAUSE.finditer(low), None]:
        end = m.start() if m is not None else len(low)
        out.append((text, _words(low[pos:end], pos)))
        pos = m.end() if m is not None else len(low)
    return out


def _find(phrase: Phrase, clauses: list[tuple[str, list[_Word]]]) -> tuple[str, bool, tuple[int, int]] | None:
    """The user's words matching ``phrase``, whether they deny it, and where; None when it is not there."""
    if not phrase.stems:
        return None
    for text, words in clauses:
        content = [i for i, w in enumerate(words) if not w.negation]
        stems = [words[i].stem for i in content]
        for k, s in enumerate(stems):
            if s != phrase.stems[0]:
                continue
            at = [k]
            for want in phrase.stems[1:]:
                nxt = next((j for j in range(at[-1] + 1, min(len(stems), at[-1] + 2 + MAX_GAP)) if stems[j] == want),
                           None)
                if nxt is None:
                    break
                at.append(nxt)
            if len(at) < len(phrase.stems):
                continue
            first, last = content[at[0]], content[at[-1]]
            cues = [i for i in range(max(0, first - NEGATION_REACH), last + 1) if words[i].negation]
            start = min([first, *cues])
            span = (words[start].start, words[last].end)
            return text[span[0] : span[1]], bool(cues) != phrase.negative, span
    return None


__all__ = ["CAP", "DENIED", "MAX_CHARS", "MAX_PHRASE_WEIGHT", "Phrase", "PhraseHit", "Phrased", "SymptomMatch",
           "check_symptom", "compile_phrase", "match_symptom", "stem"]
