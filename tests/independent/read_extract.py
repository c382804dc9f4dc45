#!/usr/bin/env python3
"""Independent reader of an eligo extract: checks, with pyarrow instead of arrow-rs, that every
table's schema equals the extract contract (version 1) and that ids are unique.

Usage: read_extract.py DIR. Exit 0 when the extract conforms, 1 with a list of problems
otherwise, 3 when pyarrow is missing. The contract is typed out here from
extract-contract.md, not taken from eligo's code, so the two implementations check each other.
"""
import sys
from pathlib import Path

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
except ImportError:
    print("pyarrow is not installed (pip install pyarrow)", file=sys.stderr)
    sys.exit(3)

# (column, arrow type, required) per table, as extract-contract.md lists them; ids are Int64.
CONTRACT = {
    "person": [
        ("person_id", pa.int64(), True), ("sex", pa.string(), True),
        ("birth_year", pa.int32(), False), ("death_date", pa.date32(), False),
        ("region", pa.string(), False), ("site", pa.string(), False),
        ("index_date", pa.date32(), False),
    ],
    "diagnosis": [
        ("person_id", pa.int64(), True), ("icd10", pa.string(), True),
        ("date", pa.date32(), True), ("morphology", pa.string(), False),
        ("oncotree", pa.string(), False),
    ],
    "measurement": [
        ("person_id", pa.int64(), True), ("loinc", pa.string(), True),
        ("date", pa.date32(), True), ("value", pa.float64(), True),
        ("unit", pa.string(), True), ("range_low", pa.float64(), False),
        ("range_high", pa.float64(), False),
    ],
    "observation": [
        ("person_id", pa.int64(), True), ("code", pa.string(), True),
        ("date", pa.date32(), True), ("value_num", pa.float64(), False),
        ("value_text", pa.string(), False),
    ],
    "treatment": [
        ("person_id", pa.int64(), True), ("atc", pa.string(), False),
        ("kind", pa.string(), True), ("start_date", pa.date32(), True),
        ("end_date", pa.date32(), False),
    ],
    "molecular_test": [
        ("person_id", pa.int64(), True), ("test_id", pa.string(), True),
        ("method", pa.string(), True), ("specimen", pa.string(), False),
        ("approved_lab", pa.bool_(), False), ("report_date", pa.date32(), True),
    ],
    "variant": [
        ("person_id", pa.int64(), True), ("test_id", pa.string(), True),
        ("gene", pa.string(), True), ("class", pa.string(), True),
        ("alteration", pa.string(), False), ("value", pa.float64(), False),
        ("tier", pa.string(), False),
    ],
}


def files_of(root: Path, table: str):
    single = root / f"{table}.parquet"
    folder = root / table
    if single.is_file():
        return [single]
    if folder.is_dir():
        return sorted(folder.glob("*.parquet"))
    return []


def main(root: Path) -> int:
    problems = []
    for table, columns in CONTRACT.items():
        files = files_of(root, table)
        if not files:
            problems.append(f"{table}: no file")
            continue
        expected = [(name, typ) for name, typ, _ in columns]
        for f in files:
            schema = ds.dataset(f, format="parquet").schema
            found = [(field.name, field.type) for field in schema]
            if found != expected:
                problems.append(f"{f}: schema {found} != contract {expected}")
            for name, _, required in columns:
                if required and schema.field(name).nullable:
                    problems.append(f"{f}: required column {name} is nullable")
        data = ds.dataset([str(f) for f in files], format="parquet").to_table()
        for name, _, required in columns:
            if required and data.column(name).null_count:
                problems.append(f"{table}.{name}: {data.column(name).null_count} nulls")
        key = {"person": "person_id", "molecular_test": "test_id"}.get(table)
        if key is not None:
            distinct = len(pc.unique(data.column(key)))
            if distinct != data.num_rows:
                problems.append(f"{table}.{key}: {data.num_rows - distinct} duplicates")
        print(f"{table}: {len(files)} file(s), {data.num_rows} rows")
    for p in problems:
        print("problem:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1])))
