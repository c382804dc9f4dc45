#!/usr/bin/env python3
"""Compare eligo's patient-level results with the DuckDB reference, patient by patient.

Usage: compare.py ELIGO_PATIENTS.parquet DUCKDB_RESULTS.parquet

Compares every criterion column that both files have (eligo's restricted/patients.parquet also
holds `status` and cohort columns; they are not criteria of the reference and are skipped).
Prints, per criterion, the number of disagreements and the first 5 person_ids with both values;
a person present in one file only is reported too. Exit 0 when everything agrees, 1 otherwise,
2 when a file cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import CRITERIA  # noqa: E402

SHOWN = 5


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def compare(eligo: Path, reference: Path, out=sys.stdout) -> int:
    """Print the comparison; return the total number of disagreements (persons missing included)."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet({_quote(str(eligo))})")
    con.execute(f"CREATE VIEW d AS SELECT * FROM read_parquet({_quote(str(reference))})")
    eligo_columns = [row[0] for row in con.execute("DESCRIBE e").fetchall()]
    reference_columns = [row[0] for row in con.execute("DESCRIBE d").fetchall()]
    for name, columns in (("eligo", eligo_columns), ("reference", reference_columns)):
        if "person_id" not in columns:
            raise ValueError(f"{name} file has no person_id column")
    criteria = [c for c in CRITERIA if c in eligo_columns and c in reference_columns]
    # person_id compared as text so that Int64 and Utf8 ids still line up
    con.execute(
        "CREATE TABLE j AS SELECT CAST(COALESCE(e.person_id, d.person_id) AS VARCHAR) AS pid, "
        "e.person_id IS NOT NULL AS in_eligo, d.person_id IS NOT NULL AS in_reference, "
        + ", ".join(f"CAST(e.{_ident(c)} AS VARCHAR) AS {_ident('e_' + c)}, "
                    f"CAST(d.{_ident(c)} AS VARCHAR) AS {_ident('d_' + c)}" for c in criteria)
        + " FROM e FULL OUTER JOIN d ON CAST(e.person_id AS VARCHAR) = CAST(d.person_id AS VARCHAR)"
    )
    persons = con.execute("SELECT count(*) FROM j").fetchone()[0]
    total = 0
    print(f"{persons} persons, {len(criteria)} criteria compared: {', '.join(criteria)}", file=out)
    missing = {
        "only in eligo": "in_eligo AND NOT in_reference",
        "only in reference": "in_reference AND NOT in_eligo",
    }
    for label, where in missing.items():
        count = con.execute(f"SELECT count(*) FROM j WHERE {where}").fetchone()[0]
        if count:
            first = [r[0] for r in con.execute(
                f"SELECT pid FROM j WHERE {where} ORDER BY pid LIMIT {SHOWN}").fetchall()]
            print(f"persons {label}: {count}, e.g. {', '.join(first)}", file=out)
            total += count
    both = "in_eligo AND in_reference"
    for c in criteria:
        e, d = _ident("e_" + c), _ident("d_" + c)
        where = f"{both} AND {e} IS DISTINCT FROM {d}"
        count = con.execute(f"SELECT count(*) FROM j WHERE {where}").fetchone()[0]
        total += count
        line = f"{c:5} {count} disagreement{'s' if count != 1 else ''}"
        if count:
            rows = con.execute(
                f"SELECT pid, {e}, {d} FROM j WHERE {where} ORDER BY pid LIMIT {SHOWN}").fetchall()
            shown = "; ".join(f"{pid}: eligo={ev} duckdb={dv}" for pid, ev, dv in rows)
            line += f"  e.g. {shown}"
        print(line, file=out)
    print("agree" if total == 0 else f"DISAGREE: {total} differences", file=out)
    return total


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        total = compare(Path(args[0]), Path(args[1]))
    except (duckdb.Error, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
