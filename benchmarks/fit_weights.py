"""Fit the catalog's weights on kept investigations of the training split, judge them on the held-out one.

    python benchmarks/fit_weights.py /tmp/diag-lab /tmp/diag-families          # fit and report, write nothing
    python benchmarks/fit_weights.py DIR... --write                              # write the weights into the catalog
    python benchmarks/fit_weights.py DIR... --lam 4 --max-step 1.0               # more shrinkage, smaller moves

Each DIR holds investigations kept by ``benchmarks/diagnosis.py --keep`` (``NAME-faulty``,
``NAME-twin``). Nothing is run again: every investigation's evidence is read once
(``diagnosis.kept_evidence``) and scored as often as the fit needs ("record once, score many").
An investigation kept with every source counts twice, as it was and with the traffic alone (the
black box), so that one set of weights serves both.

The model is the scorer's own (:mod:`tracehound.diagnosis.scoring`): a cause's score is its prior's
log, plus the symptom's points, plus each signal's weight times its strength, plus each absent
weight for a signal tested and not seen; the confidences are the softmax of the scores. The fit
maximises the likelihood of the true cause over the training investigations that reproduced, with
a ridge penalty ``lam`` pulling every weight toward its hand-set value, and keeps each weight a
readable number: the catalog's weights only (no new pairs of cause and signal, so every weight
keeps its ``why``), the sign of its hand-set value (a weight that would flip has no ``why`` that
fits it: it stops at ±0.1), within ``max_step`` of the hand-set value, and rounded to 0.1.

The split is the lab's: a family variant's ``split``; the lab's own scenarios are training data
(the hand-set weights were tuned on them). The held-out variants are only scored: top-1, top-3
and expected calibration error (ECE) before and after, with the reliability table. The weights
that moved most are listed with the figures.

The reported confidences' temperature (``diagnosis/calibration.yaml``) is fitted on the training
investigations too, each stack scored by weights fitted without it, so that it is set by stacks the
weights never saw, as the held-out ones are.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from diagnosis import Kept, kept_evidence  # benchmarks/diagnosis.py, beside this script

from tracehound import lab
from tracehound.diagnosis.entries import CALIBRATION_FILE, CATALOG_DIR, MAX_WEIGHT, load_catalog
from tracehound.diagnosis.scoring import strongest
from tracehound.errors import TracehoundError


@dataclass
class Case:
    """One reproduced investigation as the fit sees it: truth, seen strengths, tested names, symptom points."""

    name: str
    view: str
    split: str
    #: What is held out together when the temperature is fitted: a variant's stack, or a lab scenario.
    group: str
    truth: str
    seen: dict[str, float]
    tested: set[str]
    symptom: dict[str, float]


def split_and_group(k: Kept) -> tuple[str, str]:
    """A variant's own split and its family's stack; a lab scenario is training data, a group of its own."""
    try:
        v = lab.get_variant(k.scenario.name)
    except (TracehoundError, KeyError, ValueError):
        return "train", k.scenario.name
    return v.split, f"{v.family}:{v.stack}"


def cases_of(folder: Path) -> list[Case]:
    """The reproduced investigations kept in ``folder``: each once, and with every source also traffic-only."""
    out = []
    for path in sorted(p for p in folder.glob("*-*") if (p / "investigation" / "report.json").exists()):
        try:
            views = {"as kept": kept_evidence(path)}
            alone = kept_evidence(path, traffic_only=True)
        except TracehoundError as e:
            print(f"skipped {path.name}: {e.line()}", file=sys.stderr)
            continue
        if set(alone.tested) != set(views["as kept"].tested):
            views["traffic only"] = alone
        for view, k in views.items():
            if not k.reproduced:
                continue
            seen = {n: s.strength for n, s in strongest(k.signals).items() if s.strength > 0}
            out.append(Case(path.name, view, *split_and_group(k), k.truth, seen, set(k.tested) | set(seen),
                            {m: k.symptom.for_mode(m) for m in k.symptom.points} if k.symptom else {}))
    return out


class Model:
    """The scorer's linear log-odds model over the catalog's weights, as arrays."""

    def __init__(self) -> None:
        self.catalog = load_catalog()
        self.modes = sorted(self.catalog)
        self.index = {m: i for i, m in enumerate(self.modes)}
        # One parameter per catalog weight: (mode, signal, kind) with kind "seen" or "absent".
        self.params: list[tuple[str, str, str]] = []
        values = []
        for m in self.modes:
            e = self.catalog[m]
            for s, w in e.signals.items():
                self.params.append((m, s, "seen"))
                values.append(w)
            for s, w in e.absent.items():
                self.params.append((m, s, "absent"))
                values.append(w)
        self.theta0 = np.array(values, np.float64)
        self.mode_of = np.array([self.index[m] for m, _, _ in self.params])
        self.prior = np.array([math.log(max(self.catalog[m].prior, 1e-6)) for m in self.modes])

    def arrays(self, cases: list[Case]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features (cases × params), base scores (cases × modes) and the truth's index per case."""
        phi = np.zeros((len(cases), len(self.params)))
        base = np.tile(self.prior, (len(cases), 1))
        truth = np.array([self.index[c.truth] for c in cases], np.int64)
        for i, c in enumerate(cases):
            for j, (_, s, kind) in enumerate(self.params):
                if kind == "seen":
                    phi[i, j] = c.seen.get(s, 0.0)
                else:
                    phi[i, j] = float(s in c.tested and s not in c.seen)
            for m, pts in c.symptom.items():
                if m in self.index:
                    base[i, self.index[m]] += pts
        return phi, base, truth

    def scores(self, theta: np.ndarray, phi: np.ndarray, base: np.ndarray) -> np.ndarray:
        out = base.copy()
        contrib = phi * theta
        for j in range(len(self.modes)):
            out[:, j] += contrib[:, self.mode_of == j].sum(axis=1)
        return out

    def bounds(self, max_step: float) -> tuple[np.ndarray, np.ndarray]:
        """Each weight keeps its sign, stays within ``max_step`` of its hand-set value and within ±MAX_WEIGHT."""
        t0 = self.theta0
        lo = np.where(t0 > 0, np.maximum(0.1, t0 - max_step), np.maximum(-MAX_WEIGHT, t0 - max_step))
        hi = np.where(t0 > 0, np.minimum(MAX_WEIGHT, t0 + max_step), np.minimum(-0.1, t0 + max_step))
        return lo, hi


def softmax(s: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = s / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit(model: Model, cases: list[Case], lam: float, max_step: float, steps: int = 4000) -> np.ndarray:
    """Projected gradient descent on the penalised negative log-likelihood of the true causes."""
    phi, base, truth = model.arrays(cases)
    theta = model.theta0.copy()
    lo, hi = model.bounds(max_step)
    y = np.zeros((len(cases), len(model.modes)))
    y[np.arange(len(cases)), truth] = 1.0
    rate = 0.05
    for _ in range(steps):
        p = softmax(model.scores(theta, phi, base))
        # d(-log p_truth)/d(score_m) = p_m - y_m, and score_m moves with theta_j by phi_ij for j of mode m.
        resid = (p - y)[:, model.mode_of]
        grad = (resid * phi).sum(axis=0) + 2 * lam * (theta - model.theta0)
        theta = np.clip(theta - rate * grad, lo, hi)
    return np.clip(np.round(theta, 1), lo, hi)


def fit_temperature(model: Model, cases: list[Case], lam: float, max_step: float) -> float:
    """The softmax temperature that gives the true causes the most likelihood on stacks the weights did not see.

    Each group (a family's stack, or a lab scenario) is scored with weights fitted on the others,
    so the temperature reflects a stack never tuned on, as the held-out families are.
    """
    groups = sorted({c.group for c in cases})
    scores, truths = [], []
    for g in groups:
        inside = [c for c in cases if c.group == g]
        theta = fit(model, [c for c in cases if c.group != g], lam, max_step, steps=1500)
        phi, base, truth = model.arrays(inside)
        scores.append(model.scores(theta, phi, base))
        truths.append(truth)
    s, truth = np.concatenate(scores), np.concatenate(truths)
    grid = np.arange(0.2, 3.01, 0.05)
    nll = [-np.log(softmax(s, t)[np.arange(len(truth)), truth] + 1e-12).sum() for t in grid]
    return float(round(grid[int(np.argmin(nll))], 2))


def judge(model: Model, theta: np.ndarray, cases: list[Case], temperature: float = 1.0) -> dict:
    """Top-1, top-3, mean log-likelihood and the reliability of the first cause's confidence."""
    if not cases:
        return {"n": 0}
    phi, base, truth = model.arrays(cases)
    p = softmax(model.scores(theta, phi, base), temperature)
    order = np.argsort(-p, axis=1)
    top1 = order[:, 0] == truth
    top3 = (order[:, :3] == truth[:, None]).any(axis=1)
    conf = p[np.arange(len(cases)), order[:, 0]]
    return {"n": len(cases), "top1": float(top1.mean()), "top3": float(top3.mean()),
            "nll": float(-np.log(p[np.arange(len(cases)), truth] + 1e-12).mean()),
            "ece": ece(conf, top1), "table": reliability(conf, top1)}


def ece(conf: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the bins' gaps between confidence and accuracy, weighted by their share."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > a) & (conf <= b)
        if m.any():
            total += m.mean() * abs(conf[m].mean() - right[m].mean())
    return float(total)


def reliability(conf: np.ndarray, right: np.ndarray) -> list[tuple[str, int, float, float]]:
    """(bin, investigations, mean confidence, share right) per confidence bin that holds any."""
    rows = []
    for a, b in ((0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.0)):
        m = (conf > a) & (conf <= b)
        if m.any():
            rows.append((f"{a:.0%}-{b:.0%}", int(m.sum()), float(conf[m].mean()), float(right[m].mean())))
    return rows


def write_weights(model: Model, theta: np.ndarray) -> list[Path]:
    """The fitted weights into the catalog's YAML, each on its own line, comments and order untouched."""
    changed = []
    for m in model.modes:
        path = CATALOG_DIR / f"{m}.yaml"
        text = path.read_text()
        new = text
        for j in np.flatnonzero(model.mode_of == model.index[m]):
            _, s, kind = model.params[j]
            if theta[j] == model.theta0[j]:
                continue
            new = _set_weight(new, "signals" if kind == "seen" else "absent", s, float(theta[j]))
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def _set_weight(text: str, block: str, signal: str, value: float) -> str:
    """``text`` with ``signal``'s weight under the top-level ``block:`` set to ``value``."""
    head = re.search(rf"^{block}:\n", text, re.M)
    assert head is not None, block
    end = re.search(r"^\S", text[head.end():], re.M)
    stop = head.end() + (end.start() if end else len(text) - head.end())
    body = text[head.end():stop]
    line = re.compile(rf"^(\s+{re.escape(signal)}:\s*)-?\d+(?:\.\d+)?", re.M)
    body, n = line.subn(lambda mt: f"{mt.group(1)}{value:g}", body, count=1)
    assert n == 1, (block, signal)
    return text[:head.end()] + body + text[stop:]


def _print_judged(label: str, r: dict) -> None:
    if not r["n"]:
        print(f"{label}: no reproduced investigation")
        return
    print(f"{label}: {r['n']} investigations, top-1 {r['top1']:.0%}, top-3 {r['top3']:.0%}, "
          f"mean -log p(truth) {r['nll']:.2f}, ECE {r['ece']:.3f}")
    for b, n, c, a in r["table"]:
        print(f"    confidence {b:>8}: {n:3d}  mean confidence {c:.0%}  right {a:.0%}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="+", type=Path, help="folders of investigations kept by diagnosis.py --keep")
    ap.add_argument("--lam", type=float, default=2.0, help="ridge penalty toward the hand-set weights (default 2)")
    ap.add_argument("--max-step", type=float, default=1.5, help="the most a weight may move (default 1.5)")
    ap.add_argument("--top", type=int, default=20, help="how many of the weights that moved most to list")
    ap.add_argument("--write", action="store_true", help="write the fitted weights into the catalog's YAML")
    args = ap.parse_args()
    cases = [c for d in args.dirs for c in cases_of(d)]
    train = [c for c in cases if c.split == "train"]
    held = [c for c in cases if c.split == "heldout"]
    if not train:
        print("fit_weights: error: no reproduced training investigation in the folders given", file=sys.stderr)
        return 2
    model = Model()
    theta = fit(model, train, args.lam, args.max_step)
    temperature = fit_temperature(model, train, args.lam, args.max_step)
    print(f"{len(train)} training and {len(held)} held-out investigations (reproduced; views counted apart)\n")
    for label, group in (("train", train), ("held-out", held)):
        _print_judged(f"{label}, hand-set weights", judge(model, model.theta0, group))
        _print_judged(f"{label}, fitted weights", judge(model, theta, group))
        _print_judged(f"{label}, fitted, temperature {temperature:g}", judge(model, theta, group, temperature))
        print()
    moved = np.argsort(-np.abs(theta - model.theta0))[: args.top]
    print("the weights that moved most:")
    for j in moved:
        if theta[j] == model.theta0[j]:
            break
        m, s, kind = model.params[j]
        print(f"  {m:22} {s:42} {kind:6} {model.theta0[j]:+.1f} -> {theta[j]:+.1f}")
    if args.write:
        for path in write_weights(model, theta):
            print(f"wrote {path}")
        text = CALIBRATION_FILE.read_text()
        CALIBRATION_FILE.write_text(re.sub(r"^temperature: .*$", f"temperature: {temperature:g}", text, flags=re.M))
        print(f"wrote {CALIBRATION_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
