"""Scenario families: many variants of one failure mode, each expanded into an ordinary :class:`Scenario`.

A family folder ``lab/families/<family>/`` holds ``family.yaml`` and one folder per service its
variants run (the app's code, its ``schema.sql``, its ``nginx.conf`` …)::

    family: db_pool_exhaustion          # the folder's name
    failure_mode: db_pool_exhaustion    # every variant's ground truth (or `none`: healthy, no twins)
    description: |                      # what varies, and why the split is what it is
      …
    base:                               # scenario.yaml's keys (no name), shared by every variant
      needs: [postgres]
      postgres: {schema: [schema.sql]}
      load: {concurrency: 16, duration: 6}
      fixed: {change: the pool sized for the load}
    variants:
      - name: ledger_async_p2           # lower_snake_case, unique in the family
        split: train                    # train | heldout
        stack: fastapi-async+uvicorn+sqlalchemy-asyncpg   # framework+server+driver
        dir: ledger                     # the service's folder inside the family: its running code
        app: {module: app:app, env: {POOL_SIZE: 2}}       # any scenario key, merged onto base
        env: {ERROR_STYLE: json}        # app keys (module, server, workers, worker_class, args,
                                        # env, …) may stand at the top, as in `fixed:`
        nginx: nginx.conf               # shorthand: nginx in front, with this template
        expected_failure_rate: [0.2, 0.9]
        fixed: {env: {POOL_SIZE: 16}}   # the twin's override, merged onto base's `fixed`

A variant is named ``family/variant``; it becomes the mapping a ``scenario.yaml`` would hold
(base, then the variant's keys, merged key by key) and goes through the same validation
(:func:`~tracehound.lab.scenario.scenario_from_dict`), so whatever runs a scenario runs a variant.

The split holds out whole stacks: every variant of one ``stack`` has the same ``split``, checked
on load, so the held-out variants answer "a stack the weights were never tuned on".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracehound.errors import BadScenario
from tracehound.failure_modes import FAILURE_MODES, NONE
from tracehound.lab.scenario import SCENARIOS_DIR, Scenario, get_scenario, merge, read_yaml, scenario_from_dict

FAMILIES_DIR = Path(__file__).parent / "families"
FAMILY_FILE = "family.yaml"
SPLITS = ("train", "heldout")

_FAMILY_KEYS = {"family", "failure_mode", "description", "base", "variants"}
_VARIANT_OWN = {"name", "split", "stack", "dir", "nginx"}
_APP_KEYS = {"module", "server", "workers", "worker_class", "args", "env", "instances", "instance_env", "ready"}
_SCENARIO_KEYS = {
    "symptom", "description", "needs", "app", "services", "postgres", "redis", "target", "flow", "load",
    "timeout", "keepalive", "expected_failure_rate", "fixed", "metrics", "page", "expect",
}


@dataclass(frozen=True)
class Variant:
    """One member of a family: where it sits in the split, and the scenario it expands into."""

    family: str
    name: str
    split: str
    stack: str
    scenario: Scenario

    @property
    def full_name(self) -> str:
        return f"{self.family}/{self.name}"


@dataclass(frozen=True)
class Family:
    """Variants of one failure mode (or of health), over several stacks."""

    name: str
    failure_mode: str
    description: str
    folder: Path
    variants: tuple[Variant, ...]

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        known = ", ".join(v.name for v in self.variants)
        raise BadScenario(f"no variant {name!r} in the lab family {self.name!r}", hint=f"its variants: {known}")

    def stacks(self, split: str | None = None) -> list[str]:
        """The family's stacks, in order, of one split or all."""
        return list(dict.fromkeys(v.stack for v in self.variants if split is None or v.split == split))


def families(root: Path = FAMILIES_DIR) -> list[Family]:
    """Every family under ``root``, by name; :class:`BadScenario` for the first invalid one."""
    if not root.is_dir():
        return []
    return [
        load_family(d)
        for d in sorted(root.iterdir())
        if d.is_dir() and not d.name.startswith(("_", ".")) and (d / FAMILY_FILE).is_file()
    ]


def variants(split: str = "all", root: Path = FAMILIES_DIR) -> list[Variant]:
    """Every variant of every family, of one split (``train``, ``heldout``) or ``all``."""
    if split not in (*SPLITS, "all"):
        raise BadScenario(f"unknown split {split!r}", hint=f"one of {', '.join(SPLITS)} or all")
    return [v for f in families(root) for v in f.variants if split in ("all", v.split)]


def get_family(name: str, root: Path = FAMILIES_DIR) -> Family:
    """The family called ``name``; :class:`BadScenario` naming the known ones otherwise."""
    folder = root / name
    if "/" in name or not (folder / FAMILY_FILE).is_file():
        known = ", ".join(f.name for f in families(root)) or "none"
        raise BadScenario(f"no lab family called {name!r}", hint=f"known families: {known}")
    return load_family(folder)


def get_variant(name: str, root: Path = FAMILIES_DIR) -> Variant:
    """The variant ``family/variant``; :class:`BadScenario` naming what exists otherwise."""
    family, _, variant = name.partition("/")
    return get_family(family, root).variant(variant)


def resolve(name: str) -> Scenario:
    """A lab scenario by name, or a family's variant by ``family/variant``."""
    return get_variant(name).scenario if "/" in name else get_scenario(name)


def resolve_many(names: list[str]) -> list[Scenario]:
    """Scenarios and variants by name; a bare family name stands for all its variants."""
    out: list[Scenario] = []
    for n in names:
        if "/" not in n and not (SCENARIOS_DIR / n).is_dir() and (FAMILIES_DIR / n / FAMILY_FILE).is_file():
            out.extend(v.scenario for v in get_family(n).variants)
        else:
            out.append(resolve(n))
    return out


def load_family(folder: Path) -> Family:
    """Read and validate ``folder/family.yaml`` and expand its variants."""
    folder = Path(folder).resolve()
    path = folder / FAMILY_FILE
    doc = read_yaml(path)

    def fail(message: str) -> BadScenario:
        return BadScenario(f"{path}: {message}")

    if not isinstance(doc, dict):
        raise fail("a family is a mapping (family, failure_mode, base, variants)")
    unknown = sorted(set(map(str, doc)) - _FAMILY_KEYS)
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} (expected one of {', '.join(sorted(_FAMILY_KEYS))})")
    name = doc.get("family")
    if name != folder.name:
        raise fail(f"family {name!r} must be the folder's name {folder.name!r}")
    mode = doc.get("failure_mode")
    if mode != NONE and mode not in FAILURE_MODES:
        raise fail(f"unknown failure_mode {mode!r} (expected one of {', '.join(FAILURE_MODES)} or none)")
    base = doc.get("base") or {}
    if not isinstance(base, dict) or "name" in base or "failure_mode" in base:
        raise fail("'base' is a mapping of scenario.yaml's keys, without name and failure_mode")
    raw = doc.get("variants")
    if not isinstance(raw, list) or not raw:
        raise fail("'variants' must be a non-empty list")
    out: list[Variant] = []
    split_of: dict[str, str] = {}
    for i, v in enumerate(raw):
        variant = _variant(v, i, name, mode, base, folder, path, fail)
        if any(o.name == variant.name for o in out):
            raise fail(f"variant name {variant.name!r} is used twice")
        first = split_of.setdefault(variant.stack, variant.split)
        if first != variant.split:
            raise fail(f"variant {variant.name!r}: stack {variant.stack!r} is {first} in another variant; "
                       "the split holds out whole stacks")
        out.append(variant)
    description = doc.get("description") or ""
    return Family(name, mode, str(description).strip(), folder, tuple(out))


def _variant(v: Any, i: int, family: str, mode: str, base: dict[str, Any], folder: Path, path: Path,
             fail: Callable[[str], BadScenario]) -> Variant:
    """One entry of ``variants:``, merged onto ``base`` and validated as a scenario."""
    if not isinstance(v, dict):
        raise fail(f"variants[{i}] must be a mapping (name, split, stack, dir, and overrides)")
    unknown = sorted(set(map(str, v)) - _VARIANT_OWN - _APP_KEYS - _SCENARIO_KEYS)
    if unknown:
        raise fail(f"variants[{i}]: unknown key {unknown[0]!r}")
    name = v.get("name")
    if not isinstance(name, str) or not name:
        raise fail(f"variants[{i}] needs a name")
    split = v.get("split")
    if split not in SPLITS:
        raise fail(f"variant {name!r}: split must be one of {', '.join(SPLITS)}")
    stack = v.get("stack")
    if not isinstance(stack, str) or stack.count("+") != 2:
        raise fail(f"variant {name!r}: stack must be framework+server+driver, e.g. flask+gunicorn+psycopg")
    sub = v.get("dir")
    if not isinstance(sub, str) or "/" in sub or not (folder / sub).is_dir():
        raise fail(f"variant {name!r}: dir must name a service folder inside {folder}")
    over = {k: x for k, x in v.items() if k in _SCENARIO_KEYS}
    app_over = {k: x for k, x in v.items() if k in _APP_KEYS}
    if app_over:
        over["app"] = merge(over.get("app") or {}, app_over)
    doc: dict[str, Any] = merge(base, over)
    nginx = v.get("nginx")
    if nginx is not None:
        if not isinstance(nginx, str):
            raise fail(f"variant {name!r}: nginx names the template of the proxy in front, e.g. nginx.conf")
        doc["needs"] = [*(doc.get("needs") or []), *([] if "nginx" in (doc.get("needs") or []) else ["nginx"])]
        doc["nginx"] = {"config": nginx}
    full = f"{family}/{name}"
    doc["name"] = full
    doc["failure_mode"] = mode
    return Variant(family, name, split, stack, scenario_from_dict(doc, folder / sub, path, full))
