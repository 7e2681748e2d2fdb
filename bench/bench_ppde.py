"""Benchmark rule files: parse time and price-plus-constraints time per job.

    .venv/bin/python bench/bench_ppde.py [--jobs N] [--seed S]

Generates (deterministically) a file with 1,000 cost rules and 200 constraints, and a
5,000-line file, then measures:

- parsing the 5,000-line file (target < 100 ms), against splitting the same text into
  words — the least any parser must do — as a ratio;
- pricing and constraint-checking one job against 1,000 cost rules and 200 constraints
  (target well under 1 ms), against a naive linear scan that tests every rule, as a ratio.

Both reference figures are measured in the same run on the same machine, so the ratios
stay meaningful on slower or faster hardware.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from printmgmt.ppde import RuleEngine, parse
from printmgmt.ppde.model import CostScope, JobAttributes, RuleFile

MEDIA = [f"media-{n:02d}" for n in range(40)]
COLOURS = ["white", "yellow", "blue", "pink", "green"]
SIDES = ["one-sided", "two-sided-long-edge", "two-sided-short-edge"]
MODES = ["monochrome", "color"]
STAPLES = ["3", *map(str, range(20, 36))]
PUNCHES = ["3", *map(str, range(70, 86))]
COVERS = ["no-cover", "print-none", "print-front", "print-back", "print-both"]


def rule_file(rng: random.Random, *, cost_rules: int, constraints: int, padding: int) -> str:
    """A file of mappings, cost rules in every scope, constraints and padding comments."""
    lines = [
        "*LandscapeOrientation: Minus90",
        "*Staple org.savapage-finishings-staple",
        *(f"*Staple S{v} {v}" for v in STAPLES),
        "*Punch org.savapage-finishings-punch",
        *(f"*Punch P{v} {v}" for v in PUNCHES),
        "*SPJob/Copy: org.savapage-cover-front-type " + " ".join(COVERS),
        "*SPJobTicket/Media: media-color " + " ".join(COLOURS),
    ]
    for number in range(cost_rules):
        scope = number % 5
        media = rng.choice(MEDIA)
        if scope == 0:
            lines.append(
                f"*SPJobTicket/Media/Cost: 0.{rng.randrange(10, 99)} m{number} "
                f"media/{media} print-color-mode/{rng.choice(MODES)} \\\n"
                f"    sides/{rng.choice(SIDES)} media-color/{rng.choice(COLOURS)}"
            )
        elif scope == 1:
            lines.append(f"*SPJobTicket/Sheet/Cost: 0.01 s{number} media/{media}")
        elif scope == 2:
            lines.append(
                f"*SPJob/Copy/Cost: 0.{rng.randrange(10, 99)} c{number} "
                f"org.savapage-finishings-staple/{rng.choice(STAPLES[1:])} media/{media}"
            )
        elif scope == 3:
            lines.append(
                f"*SPJob/Copy/Cost: 0.{rng.randrange(10, 99)} k{number} "
                f"org.savapage-cover-front-type/!no-cover media/{media}"
            )
        else:
            lines.append(f"*SPJobTicket/Set/Cost: 0.05 t{number} media-color/{rng.choice(COLOURS)}")
    for number in range(constraints):
        lines.append(
            f"*SPConstraint: c{number} org.savapage-finishings-punch/{rng.choice(PUNCHES[1:])} "
            f"media/{rng.choice(MEDIA)}"
        )
    lines.extend(f"# padding line {n}: admins comment their files" for n in range(padding))
    return "\n".join(lines) + "\n"


def random_job(rng: random.Random) -> dict[str, str | tuple[str, ...]]:
    return {
        "media": rng.choice(MEDIA),
        "sides": rng.choice(SIDES),
        "print-color-mode": rng.choice(MODES),
        "media-color": rng.choice(COLOURS),
        "org.savapage-finishings-staple": rng.choice(STAPLES),
        "org.savapage-finishings-punch": rng.choice(PUNCHES),
        "org.savapage-cover-front-type": rng.choice(COVERS),
        "number-up": rng.choice(["1", "2", "4"]),
    }


def linear_scan(rules: RuleFile, job: JobAttributes) -> int:
    """The naive reference: test every cost rule and every constraint against the job."""
    matched = sum(1 for rule in rules.cost_rules if rule.matches(job))
    return matched + sum(1 for c in rules.constraints if c.violated_by(job))


def timed(function: Callable[[], object], repeats: int) -> float:
    """Median wall time of `function` in seconds."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        function()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1e9


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--jobs", type=int, default=2000)
    options.add_argument("--seed", type=int, default=4)
    args = options.parse_args()
    rng = random.Random(args.seed)

    priced_text = rule_file(rng, cost_rules=1000, constraints=200, padding=0)
    result = parse(priced_text, filename="bench-1000.ppde")
    assert result.rules is not None, result.diagnostics[:3]
    rules = result.rules
    counts = {scope: sum(r.scope is scope for r in rules.cost_rules) for scope in CostScope}
    engine = RuleEngine(rules)
    jobs = [random_job(rng) for _ in range(args.jobs)]

    def price_all() -> None:
        for job in jobs:
            engine.violations(job)
            engine.price(job, pages=17, copies=3)

    def scan_all() -> None:
        for job in jobs:
            linear_scan(rules, job)

    per_job = timed(price_all, 5) / len(jobs)
    per_scan = timed(scan_all, 5) / len(jobs)

    # 5,000 physical lines of real rules (3,500 cost rules, 700 constraints), topped up
    # with comment lines.
    unpadded = rule_file(random.Random(args.seed), cost_rules=3500, constraints=700, padding=0)
    big_text = rule_file(
        random.Random(args.seed),
        cost_rules=3500,
        constraints=700,
        padding=5000 - unpadded.count("\n"),
    )
    physical_lines = big_text.count("\n")
    parse_time = timed(lambda: parse(big_text, filename="bench-5000.ppde"), 11)
    split_time = timed(lambda: [line.split() for line in big_text.splitlines()], 11)

    print(f"rule file: {len(rules.cost_rules)} cost rules ", end="")
    print("(" + ", ".join(f"{s.name.lower()} {n}" for s, n in counts.items()) + "), ", end="")
    print(f"{len(rules.constraints)} constraints")
    print(f"price + constraints per job: {per_job * 1e6:8.1f} µs   (target < 1000 µs)")
    print(f"naive linear scan per job:   {per_scan * 1e6:8.1f} µs   (reference)")
    print(f"  ratio engine / linear scan: {per_job / per_scan:.2f}")
    print(
        f"parse {physical_lines} lines ({len(big_text):,} chars): {parse_time * 1e3:6.1f} ms   ",
        end="",
    )
    print("(target < 100 ms)")
    print(f"split the same text into words:   {split_time * 1e3:6.1f} ms   (reference)")
    print(f"  ratio parse / split: {parse_time / split_time:.1f}")


if __name__ == "__main__":
    main()
