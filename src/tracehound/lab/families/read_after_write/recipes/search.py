"""An in-memory inverted index over recipe titles, tags and ingredients."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


@dataclass
class Doc:
    id: int
    cookbook: str
    title: str
    minutes: int


@dataclass
class Index:
    docs: dict[int, Doc] = field(default_factory=dict)
    postings: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_book: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def add(self, doc: Doc, text: str) -> None:
        self.docs[doc.id] = doc
        self.by_book[doc.cookbook].add(doc.id)
        for w in words(text):
            self.postings[w].add(doc.id)

    def search(self, query: str, limit: int = 20) -> list[Doc]:
        terms = words(query)
        if not terms:
            return []
        ids = set.intersection(*(self.postings.get(t, set()) for t in terms))
        return [self.docs[i] for i in sorted(ids, reverse=True)[:limit]]

    def cookbook(self, book: str) -> list[Doc]:
        return [self.docs[i] for i in sorted(self.by_book.get(book, ()), reverse=True)]
