//! Test fixtures: small registry extracts described row by row in Rust, written as Parquet with
//! arrow-rs (independently of the polars reader under test), dates given relative to the index
//! date. `Fixture::run` drives the `eligo` binary as a user does and reads the patient-level
//! results back.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

/// The index date of every fixture patient unless a test says otherwise.
pub const INDEX: &str = "2025-06-01";
/// The as-of date of fixture runs.
pub const AS_OF: &str = "2025-06-30";

pub fn days(date: &str) -> i32 {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("a test date");
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

#[derive(Clone)]
pub struct Person {
    pub id: i64,
    pub sex: String,
    pub birth_year: Option<i32>,
    pub death: Option<i32>,
    pub region: Option<String>,
    pub site: Option<String>,
    pub index: Option<i32>,
}

struct Diagnosis(i64, String, i32);
struct Measurement(i64, String, i32, f64, String, Option<f64>);
struct Observation(i64, String, i32, Option<f64>, Option<String>);
struct Treatment(i64, Option<String>, String, i32, Option<i32>);
struct Test(i64, String, Option<bool>, i32);
struct Variant(i64, String, String, String, Option<String>, Option<f64>);

/// A hand-written extract and the outcomes expected of it.
pub struct Fixture {
    pub index: i32,
    persons: Vec<Person>,
    diagnoses: Vec<Diagnosis>,
    measurements: Vec<Measurement>,
    observations: Vec<Observation>,
    treatments: Vec<Treatment>,
    tests: Vec<Test>,
    variants: Vec<Variant>,
    /// (person, criterion) -> (expected outcome, why)
    expected: BTreeMap<(i64, String), (String, String)>,
    /// Rows per Parquet row group of every table written (arrow-rs's default where None).
    pub row_group_rows: Option<usize>,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            index: days(INDEX),
            persons: Vec::new(),
            diagnoses: Vec::new(),
            measurements: Vec::new(),
            observations: Vec::new(),
            treatments: Vec::new(),
            tests: Vec::new(),
            variants: Vec::new(),
            expected: BTreeMap::new(),
            row_group_rows: None,
        }
    }

    /// A new patient: female, born 1960, index date `INDEX`, region Vest.
    pub fn patient(&mut self) -> i64 {
        let id = self.persons.len() as i64 + 1;
        self.persons.push(Person {
            id,
            sex: "F".into(),
            birth_year: Some(1960),
            death: None,
            region: Some("Vest".into()),
            site: Some("Haukeland".into()),
            index: Some(self.index),
        });
        id
    }

    pub fn person_mut(&mut self, id: i64) -> &mut Person {
        &mut self.persons[(id - 1) as usize]
    }

    /// A diagnosis `offset` days from the index date (negative: before).
    pub fn diagnosis(&mut self, p: i64, icd10: &str, offset: i32) -> &mut Self {
        self.diagnoses
            .push(Diagnosis(p, icd10.into(), self.index + offset));
        self
    }

    pub fn lab(&mut self, p: i64, loinc: &str, offset: i32, value: f64, unit: &str) -> &mut Self {
        self.measurements.push(Measurement(
            p,
            loinc.into(),
            self.index + offset,
            value,
            unit.into(),
            None,
        ));
        self
    }

    /// A lab result with the lab's upper limit of normal.
    pub fn lab_uln(
        &mut self,
        p: i64,
        loinc: &str,
        offset: i32,
        value: f64,
        unit: &str,
        uln: f64,
    ) -> &mut Self {
        self.measurements.push(Measurement(
            p,
            loinc.into(),
            self.index + offset,
            value,
            unit.into(),
            Some(uln),
        ));
        self
    }

    pub fn obs_num(&mut self, p: i64, code: &str, offset: i32, value: f64) -> &mut Self {
        self.observations.push(Observation(
            p,
            code.into(),
            self.index + offset,
            Some(value),
            None,
        ));
        self
    }

    pub fn obs_text(&mut self, p: i64, code: &str, offset: i32, value: &str) -> &mut Self {
        self.observations.push(Observation(
            p,
            code.into(),
            self.index + offset,
            None,
            Some(value.into()),
        ));
        self
    }

    /// A drug (or, with `atc` None, radiotherapy) from `start` to `end` (None: ongoing).
    pub fn treatment(
        &mut self,
        p: i64,
        atc: Option<&str>,
        start: i32,
        end: Option<i32>,
    ) -> &mut Self {
        let kind = if atc.is_some() {
            "drug"
        } else {
            "radiotherapy"
        };
        self.treatments.push(Treatment(
            p,
            atc.map(str::to_string),
            kind.into(),
            self.index + start,
            end.map(|e| self.index + e),
        ));
        self
    }

    /// A molecular test report; returns its test_id.
    pub fn test(&mut self, p: i64, approved: Option<bool>, offset: i32) -> String {
        let id = format!("T{}-{}", p, self.tests.len() + 1);
        self.tests
            .push(Test(p, id.clone(), approved, self.index + offset));
        id
    }

    pub fn variant(
        &mut self,
        p: i64,
        test: &str,
        gene: &str,
        class: &str,
        alteration: Option<&str>,
        value: Option<f64>,
    ) -> &mut Self {
        self.variants.push(Variant(
            p,
            test.into(),
            gene.into(),
            class.into(),
            alteration.map(str::to_string),
            value,
        ));
        self
    }

    /// Expect `outcome` (`pass`, `fail`, `unknown`, `n/a`) for criterion `id` of patient `p`.
    pub fn expect(&mut self, p: i64, id: &str, outcome: &str, why: &str) -> &mut Self {
        self.expected
            .insert((p, id.to_string()), (outcome.to_string(), why.to_string()));
        self
    }

    /// Writes the extract as Parquet into `dir`.
    pub fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let ps = &self.persons;
        write(
            self.row_group_rows,
            dir,
            "person",
            vec![
                (
                    "person_id",
                    false,
                    Arc::new(Int64Array::from_iter_values(ps.iter().map(|p| p.id))) as ArrayRef,
                ),
                (
                    "sex",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        ps.iter().map(|p| p.sex.clone()),
                    )),
                ),
                (
                    "birth_year",
                    true,
                    Arc::new(Int32Array::from(
                        ps.iter().map(|p| p.birth_year).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "death_date",
                    true,
                    Arc::new(Date32Array::from(
                        ps.iter().map(|p| p.death).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "region",
                    true,
                    Arc::new(StringArray::from(
                        ps.iter().map(|p| p.region.clone()).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "site",
                    true,
                    Arc::new(StringArray::from(
                        ps.iter().map(|p| p.site.clone()).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "index_date",
                    true,
                    Arc::new(Date32Array::from(
                        ps.iter().map(|p| p.index).collect::<Vec<_>>(),
                    )),
                ),
            ],
        );
        let ds = &self.diagnoses;
        write(
            self.row_group_rows,
            dir,
            "diagnosis",
            vec![
                (
                    "person_id",
                    false,
                    Arc::new(Int64Array::from_iter_values(ds.iter().map(|d| d.0))) as ArrayRef,
                ),
                (
                    "icd10",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        ds.iter().map(|d| d.1.clone()),
                    )),
                ),
                (
                    "date",
                    false,
                    Arc::new(Date32Array::from_iter_values(ds.iter().map(|d| d.2))),
                ),
            ],
        );
        let ms = &self.measurements;
        write(
            self.row_group_rows,
            dir,
            "measurement",
            vec![
                (
                    "person_id",
                    false,
                    Arc::new(Int64Array::from_iter_values(ms.iter().map(|m| m.0))) as ArrayRef,
                ),
                (
                    "loinc",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        ms.iter().map(|m| m.1.clone()),
                    )),
                ),
                (
                    "date",
                    false,
                    Arc::new(Date32Array::from_iter_values(ms.iter().map(|m| m.2))),
                ),
                (
                    "value",
                    false,
                    Arc::new(Float64Array::from_iter_values(ms.iter().map(|m| m.3))),
                ),
                (
                    "unit",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        ms.iter().map(|m| m.4.clone()),
                    )),
                ),
                (
                    "range_low",
                    true,
                    Arc::new(Float64Array::from(vec![None::<f64>; ms.len()])),
                ),
                (
                    "range_high",
                    true,
                    Arc::new(Float64Array::from(
                        ms.iter().map(|m| m.5).collect::<Vec<_>>(),
                    )),
                ),
            ],
        );
        let os = &self.observations;
        write(
            self.row_group_rows,
            dir,
            "observation",
            vec![
                (
                    "person_id",
                    false,
                    Arc::new(Int64Array::from_iter_values(os.iter().map(|o| o.0))) as ArrayRef,
                ),
                (
                    "code",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        os.iter().map(|o| o.1.clone()),
                    )),
                ),
                (
                    "date",
                    false,
                    Arc::new(Date32Array::from_iter_values(os.iter().map(|o| o.2))),
                ),
                (
                    "value_num",
                    true,
                    Arc::new(Float64Array::from(
                        os.iter().map(|o| o.3).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "value_text",
                    true,
                    Arc::new(StringArray::from(
                        os.iter().map(|o| o.4.clone()).collect::<Vec<_>>(),
                    )),
                ),
            ],
        );
        let ts = &self.treatments;
        write(
            self.row_group_rows,
            dir,
            "treatment",
            vec![
                (
                    "person_id",
                    false,
                    Arc::new(Int64Array::from_iter_values(ts.iter().map(|t| t.0))) as ArrayRef,
                ),
                (
                    "atc",
                    true,
                    Arc::new(StringArray::from(
                        ts.iter().map(|t| t.1.clone()).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "kind",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        ts.iter().map(|t| t.2.clone()),
                    )),
                ),
                (
                    "start_date",
                    false,
                    Arc::new(Date32Array::from_iter_values(ts.iter().map(|t| t.3))),
                ),
                (
                    "end_date",
                    true,
                    Arc::new(Date32Array::from(
                        ts.iter().map(|t| t.4).collect::<Vec<_>>(),
                    )),
                ),
            ],
        );
        let mt = &self.tests;
        write(
            self.row_group_rows,
            dir,
            "molecular_test",
            vec![
                (
                    "person_id",
                    false,
                    Arc::new(Int64Array::from_iter_values(mt.iter().map(|t| t.0))) as ArrayRef,
                ),
                (
                    "test_id",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        mt.iter().map(|t| t.1.clone()),
                    )),
                ),
                (
                    "method",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        mt.iter().map(|_| "ngs-panel"),
                    )),
                ),
                (
                    "specimen",
                    true,
                    Arc::new(StringArray::from(vec![Some("tissue-primary"); mt.len()])),
                ),
                (
                    "approved_lab",
                    true,
                    Arc::new(BooleanArray::from(
                        mt.iter().map(|t| t.2).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "report_date",
                    false,
                    Arc::new(Date32Array::from_iter_values(mt.iter().map(|t| t.3))),
                ),
            ],
        );
        let vs = &self.variants;
        write(
            self.row_group_rows,
            dir,
            "variant",
            vec![
                (
                    "person_id",
                    false,
                    Arc::new(Int64Array::from_iter_values(vs.iter().map(|v| v.0))) as ArrayRef,
                ),
                (
                    "test_id",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        vs.iter().map(|v| v.1.clone()),
                    )),
                ),
                (
                    "gene",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        vs.iter().map(|v| v.2.clone()),
                    )),
                ),
                (
                    "class",
                    false,
                    Arc::new(StringArray::from_iter_values(
                        vs.iter().map(|v| v.3.clone()),
                    )),
                ),
                (
                    "alteration",
                    true,
                    Arc::new(StringArray::from(
                        vs.iter().map(|v| v.4.clone()).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "value",
                    true,
                    Arc::new(Float64Array::from(
                        vs.iter().map(|v| v.5).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "tier",
                    true,
                    Arc::new(StringArray::from(vec![None::<String>; vs.len()])),
                ),
            ],
        );
    }

    /// Writes the extract, runs `eligo run --restricted` on it and returns the patient-level
    /// results: person -> criterion id (or `status`, or a cohort id) -> value.
    pub fn run(&self, extra: &[&str]) -> Results {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("extract");
        let out = dir.path().join("out");
        self.write(&data);
        let output = eligo()
            .args(["run", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .args(["--as-of", AS_OF, "--restricted", "--min-cell", "3"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "eligo run failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        Results {
            patients: read_patients(&out.join("restricted/patients.parquet")),
            out: out.clone(),
            _dir: dir,
        }
    }

    /// Every expectation that the results do not meet, one line each.
    pub fn mismatches(&self, results: &Results) -> Vec<String> {
        let mut wrong = Vec::new();
        for ((p, id), (expected, why)) in &self.expected {
            let got = results.get(*p, id);
            if got.as_deref() != Some(expected.as_str()) {
                wrong.push(format!(
                    "patient {p}, {id}: expected {expected}, got {} ({why})",
                    got.unwrap_or_else(|| "nothing".into())
                ));
            }
        }
        wrong
    }
}

/// The results of a fixture run.
pub struct Results {
    pub patients: HashMap<i64, HashMap<String, Option<String>>>,
    pub out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Results {
    pub fn get(&self, p: i64, column: &str) -> Option<String> {
        self.patients.get(&p)?.get(column)?.clone()
    }
}

/// The binary under test.
pub fn eligo() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eligo"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Writes `table`'s columns to `dir`, in row groups of at most `group_rows` rows where given.
fn write(group_rows: Option<usize>, dir: &Path, table: &str, columns: Vec<(&str, bool, ArrayRef)>) {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, nullable, array)| Field::new(*name, array.data_type().clone(), *nullable))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch =
        RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.2).collect()).unwrap();
    let file = File::create(dir.join(format!("{table}.parquet"))).unwrap();
    let properties = group_rows.map(|rows| {
        WriterProperties::builder()
            .set_max_row_group_row_count(Some(rows))
            .build()
    });
    let mut writer = ArrowWriter::try_new(file, schema, properties).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// The record batches of a Parquet file, read with arrow-rs.
fn batches(path: &Path) -> ParquetRecordBatchReader {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
}

/// Each row of `batch` as its columns other than `skip`, cast to Utf8, by name (null as None).
fn text_rows(batch: &RecordBatch, skip: &str) -> Vec<HashMap<String, Option<String>>> {
    let texts: Vec<(String, ArrayRef)> = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(field, _)| field.name() != skip)
        .map(|(field, column)| {
            let text = arrow::compute::cast(column, &DataType::Utf8).unwrap();
            (field.name().clone(), text)
        })
        .collect();
    (0..batch.num_rows())
        .map(|row| {
            texts
                .iter()
                .map(|(name, column)| {
                    let column = column.as_any().downcast_ref::<StringArray>().unwrap();
                    let value = (!column.is_null(row)).then(|| column.value(row).to_string());
                    (name.clone(), value)
                })
                .collect()
        })
        .collect()
}

/// Reads `restricted/masks.parquet`: each row's Utf8 columns by name (null as None) and its
/// `patients` count.
pub fn read_masks(path: &Path) -> Vec<(HashMap<String, Option<String>>, u64)> {
    let mut rows = Vec::new();
    for batch in batches(path) {
        let batch = batch.unwrap();
        let patients = batch.column_by_name("patients").expect("a patients column");
        let patients = arrow::compute::cast(patients, &DataType::UInt64).unwrap();
        let patients = patients.as_any().downcast_ref::<UInt64Array>().unwrap();
        let texts = text_rows(&batch, "patients");
        rows.extend(texts.into_iter().zip(patients.values().iter().copied()));
    }
    rows
}

/// The person ids of `restricted/patients.parquet` in the file's row order.
pub fn person_order(path: &Path) -> Vec<i64> {
    let mut ids = Vec::new();
    for batch in batches(path) {
        let batch = batch.unwrap();
        let column = batch.column(0).as_any().downcast_ref::<Int64Array>();
        ids.extend(column.expect("person_id is Int64").values().iter());
    }
    ids
}

/// Reads `restricted/patients.parquet`: person_id (Int64) and Utf8 columns.
pub fn read_patients(path: &Path) -> HashMap<i64, HashMap<String, Option<String>>> {
    let mut out: HashMap<i64, HashMap<String, Option<String>>> = HashMap::new();
    for batch in batches(path) {
        let batch = batch.unwrap();
        let ids = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("person_id is Int64");
        let name = batch.schema().field(0).name().clone();
        for (id, values) in ids.values().iter().zip(text_rows(&batch, &name)) {
            out.entry(*id).or_default().extend(values);
        }
    }
    out
}
