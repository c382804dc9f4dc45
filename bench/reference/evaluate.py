#!/usr/bin/env python3
"""Evaluate the IMPRESS-Norway general criteria on an extract with DuckDB.

Usage: evaluate.py EXTRACT --as-of YYYY-MM-DD --out results.parquet [--threads N]

Registers the extract's tables as views (every column of the extract contract; an absent table
is an empty view, an absent nullable column is null), runs impress_general.sql and writes one row
per person, sorted by person_id. Prints the wall time of the whole run (read, evaluate, write).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
QUERY_FILE = HERE / "impress_general.sql"

# The extract contract (version 1): columns and their types. "ID" stands for the id type of the
# extract (Int64 or Utf8), taken from person.person_id.
CONTRACT: dict[str, list[tuple[str, str]]] = {
    "person": [
        ("person_id", "ID"),
        ("sex", "VARCHAR"),
        ("birth_year", "INTEGER"),
        ("death_date", "DATE"),
        ("region", "VARCHAR"),
        ("site", "VARCHAR"),
        ("index_date", "DATE"),
    ],
    "diagnosis": [
        ("person_id", "ID"),
        ("icd10", "VARCHAR"),
        ("date", "DATE"),
        ("morphology", "VARCHAR"),
        ("oncotree", "VARCHAR"),
    ],
    "measurement": [
        ("person_id", "ID"),
        ("loinc", "VARCHAR"),
        ("date", "DATE"),
        ("value", "DOUBLE"),
        ("unit", "VARCHAR"),
        ("range_low", "DOUBLE"),
        ("range_high", "DOUBLE"),
    ],
    "observation": [
        ("person_id", "ID"),
        ("code", "VARCHAR"),
        ("date", "DATE"),
        ("value_num", "DOUBLE"),
        ("value_text", "VARCHAR"),
    ],
    "treatment": [
        ("person_id", "ID"),
        ("atc", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("start_date", "DATE"),
        ("end_date", "DATE"),
    ],
    "molecular_test": [
        ("person_id", "ID"),
        ("test_id", "VARCHAR"),
        ("method", "VARCHAR"),
        ("specimen", "VARCHAR"),
        ("approved_lab", "BOOLEAN"),
        ("report_date", "DATE"),
    ],
    "variant": [
        ("person_id", "ID"),
        ("test_id", "VARCHAR"),
        ("gene", "VARCHAR"),
        ("class", "VARCHAR"),
        ("alteration", "VARCHAR"),
        ("value", "DOUBLE"),
        ("tier", "VARCHAR"),
    ],
}

CRITERIA = [
    "D0", "I1a", "I1b", "I1c", "I2", "I4a", "I4b", "I4c", "I4d", "I4e", "I4f", "I4g",
    "I5", "I6", "E2a", "E2b", "E2c", "E2d", "E3", "E4", "E5", "E6", "E10", "E12",
]


class ExtractError(Exception):
    """The extract cannot be read as the contract describes it."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_source(extract: Path, name: str) -> str | None:
    """The read_parquet(...) expression of a table, or None when the extract does not have it."""
    single = extract / f"{name}.parquet"
    if single.is_file():
        return f"read_parquet({_quote(str(single))})"
    folder = extract / name
    if folder.is_dir() and any(folder.rglob("*.parquet")):
        pattern = str(folder / "**" / "*.parquet")
        return f"read_parquet({_quote(pattern)}, hive_partitioning = true)"
    return None


def register_views(con: duckdb.DuckDBPyConnection, extract: Path) -> None:
    """One view per contract table with exactly the contract's columns."""
    person = table_source(extract, "person")
    if person is None:
        raise ExtractError(f"{extract}: the required table person (person.parquet or person/) is missing")
    described = con.execute(f"DESCRIBE SELECT * FROM {person}").fetchall()
    types = {row[0]: row[1] for row in described}
    if "person_id" not in types:
        raise ExtractError(f"{extract}: person has no column person_id")
    id_type = types["person_id"]
    for name, columns in CONTRACT.items():
        source = table_source(extract, name)
        present: set[str] = set()
        if source is not None:
            present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        select = []
        for column, kind in columns:
            kind = id_type if kind == "ID" else kind
            if column in present:
                select.append(_ident(column))
            else:
                select.append(f"CAST(NULL AS {kind}) AS {_ident(column)}")
        body = f"SELECT {', '.join(select)} FROM {source}" if source else (
            f"SELECT {', '.join(select)} WHERE false"
        )
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {body}")


def default_as_of(extract: Path) -> dt.date:
    """extract.toml's extracted_on, else today (the contract's default)."""
    meta = extract / "extract.toml"
    if meta.is_file():
        import tomllib

        with meta.open("rb") as handle:
            value = tomllib.load(handle).get("extracted_on")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
    return dt.date.today()


def connect(extract: Path, as_of: dt.date, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # timestamps are truncated to their UTC date
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET VARIABLE as_of = DATE '{as_of.isoformat()}'")
    register_views(con, extract)
    return con


def query_text() -> str:
    text = QUERY_FILE.read_text(encoding="utf-8").rstrip()
    return text[:-1] if text.endswith(";") else text


def evaluate(extract: Path, as_of: dt.date, threads: int | None = None):
    """The results as a pyarrow Table (for tests and small extracts)."""
    con = connect(extract, as_of, threads)
    relation = con.sql(query_text())
    if hasattr(relation, "to_arrow_table"):  # duckdb 2
        return relation.to_arrow_table()
    return relation.fetch_arrow_table()  # duckdb 1.x


def evaluate_to_parquet(extract: Path, as_of: dt.date, out: Path, threads: int | None = None) -> None:
    con = connect(extract, as_of, threads)
    # newline before ')' so that a trailing comment in the query cannot swallow it
    con.execute(f"COPY ({query_text()}\n) TO {_quote(str(out))} (FORMAT parquet)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extract", type=Path, help="the extract folder")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                        help="as-of date YYYY-MM-DD (default: extract.toml's extracted_on, else today)")
    parser.add_argument("--out", type=Path, required=True, help="results Parquet file to write")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = parser.parse_args(argv)
    as_of = args.as_of if args.as_of is not None else default_as_of(args.extract)
    start = time.perf_counter()
    try:
        evaluate_to_parquet(args.extract, as_of, args.out, args.threads)
    except (ExtractError, duckdb.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    print(f"duckdb {duckdb.__version__}: evaluated {args.extract} as of {as_of} "
          f"-> {args.out} in {elapsed:.3f} s wall time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
