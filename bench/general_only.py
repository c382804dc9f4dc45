#!/usr/bin/env python3
"""Writes the general criteria of a trial definition alone: the same definition without its drugs,
cohorts and cohort criteria, i.e. the work that DuckDB's SQL translation (bench/reference/) does.

Usage: general_only.py DEFINITION.toml OUT.toml

Drops every top-level [[cohort]], [[cohort_criterion]], [[drug]] and [[drug.*]] table, keeping
every other line as written (comments, codes, measures, observations, criteria). Without cohorts
I7 (matched to a cohort) fails for everyone; the reference does not evaluate I7.
"""

import sys

DROPPED = ("[[cohort]]", "[[cohort_criterion]]", "[[drug]]", "[[drug.")


def general_only(text: str) -> str:
    kept, dropping = [], False
    for line in text.split("\n"):
        if line.startswith("["):
            dropping = line.startswith(DROPPED)
        if not dropping:
            kept.append(line)
    return "\n".join(kept)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, out = sys.argv[1:]
    with open(source, encoding="utf-8") as f:
        text = general_only(f.read())
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
