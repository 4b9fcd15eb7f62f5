"""YAML read within bounds: libyaml's safe loader where present, and a document's size, aliases and depth capped.

A safe loader builds an alias once and shares it, so a "billion laughs" document loads quickly;
whoever walks it next (a flow's ``json:`` body is rendered for every request) expands every
alias and spends minutes of CPU and growing memory. The document is measured as a graph of
nodes before any Python object is built, and refused with what was too much.
"""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

#: The most bytes a YAML file of tracehound's (a flow, a scenario) may hold.
MAX_BYTES = 1_000_000
#: The most nodes a document may hold with every alias expanded.
MAX_NODES = 1_000_000
#: The most aliases (``*name``) a document may use.
MAX_ALIASES = 1_000
#: The deepest a document may nest.
MAX_DEPTH = 100


class YamlRefused(ValueError):
    """A YAML document beyond the bounds; the message says which, in words a user can act on."""


def load(text: str, max_bytes: int = MAX_BYTES) -> Any:
    """The document in ``text``, built by the safe loader once it is known to be within the bounds.

    Raises :class:`YamlRefused` for a document too large, with too many aliases, too deep, or
    referring to itself; ``yaml.YAMLError`` for one that is not YAML.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise YamlRefused(f"more than {max_bytes / 1e6:g} MB, the most tracehound reads of a YAML file")
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _measure(root: yaml.Node) -> None:
    """Refuse a node graph that expands past :data:`MAX_NODES`, uses too many aliases, nests too deep, or loops."""
    expanded: dict[int, int] = {}
    on_path: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, bool, int]] = [(root, False, 1)]
    while stack:
        node, finished, depth = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            expanded[key] = min(MAX_NODES + 1, 1 + sum(expanded[id(c)] for c in _children(node)))
            if expanded[key] > MAX_NODES:
                raise YamlRefused(f"its aliases expand to more than {MAX_NODES:,} values (an alias bomb?)")
            continue
        if key in expanded:  # a node met before: an alias of it
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlRefused(f"it uses more than {MAX_ALIASES:,} aliases")
            continue
        if key in on_path:
            raise YamlRefused("an alias refers to a value that contains it")
        if depth > MAX_DEPTH:
            raise YamlRefused(f"it nests deeper than {MAX_DEPTH} levels")
        on_path.add(key)
        stack.append((node, True, depth))
        stack.extend((c, False, depth + 1) for c in _children(node))


__all__ = ["MAX_ALIASES", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "YamlRefused", "load"]
