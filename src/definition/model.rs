//! The checked, typed model of a trial definition: what the parser produces and the engine compiles.
//! It is the logical plan of eligo and knows nothing of polars or of any other engine.

use std::path::PathBuf;

/// A checked trial definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// The definition file, its text and the blake3 hash of its bytes (for the manifest).
    pub path: PathBuf,
    pub hash: String,
    pub trial: Trial,
    /// Named code sets (`metastasis = "icd10: C77-C79"`), referenced by index from expressions.
    pub code_sets: Vec<CodeSet>,
    /// Lab analytes read from the measurement table, with their unit and conversions.
    pub measures: Vec<Measure>,
    /// Observation codes with their value kind and domain.
    pub observations: Vec<ObservationDef>,
    /// Tumour groups in priority order: a patient's group is the first whose codes match the primary.
    pub tumour_groups: Vec<TumourGroup>,
    /// General criteria in definition order (the default attrition order).
    pub criteria: Vec<Criterion>,
    /// Criteria of the protocol that registry data cannot assess; listed, never evaluated.
    pub not_assessable: Vec<NotAssessable>,
    /// Criteria applied to every matched patient x cohort pair (I3, E8, E9, E11, ...), in order.
    pub cohort_criteria: Vec<Criterion>,
    pub drugs: Vec<Drug>,
    pub cohorts: Vec<Cohort>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub id: String,
    pub title: String,
    pub registration: String,
    /// Horizon within which a cohort must fill its next stage to be reachable.
    pub horizon_months: f64,
    /// Stage sizes (DRUP-style: 8, then 24), shared by every cohort unless it overrides them.
    pub stages: Vec<u32>,
}

/// Index into `Definition::code_sets`.
pub type CodeSetId = usize;
/// Index into `Definition::measures`.
pub type MeasureId = usize;
/// Index into `Definition::observations`.
pub type ObservationId = usize;
/// Index into `Definition::drugs`.
pub type DrugId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vocabulary {
    /// ICD-10, matched on the code with the dot removed (`C34.1` -> `C341`).
    Icd10,
    /// ATC, matched by prefix where the pattern ends in `*`.
    Atc,
    Loinc,
}

/// A named set of codes of one vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeSet {
    pub name: String,
    pub vocabulary: Vocabulary,
    pub patterns: Vec<CodePattern>,
    /// Patterns removed from the set (`C00-C97 except C44`).
    pub except: Vec<CodePattern>,
}

/// One code pattern, normalized: upper case, no dot.
#[derive(Debug, Clone, PartialEq)]
pub enum CodePattern {
    /// The code itself or any code below it (`C34` matches `C341`).
    Prefix(String),
    /// An inclusive range of 3-character categories (`C77-C79`), or of codes with the same length
    /// (`K920-K922`): matches a code whose prefix of the bounds' length lies within the bounds.
    Range(String, String),
}

/// A physical unit, as UCUM text (`g/dL`), or the pseudo-unit `xULN` for ratios to the upper limit
/// of normal.
pub type Unit = String;

/// A lab analyte: measurement rows with one of `loinc`, converted to `unit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub name: String,
    pub loinc: Vec<String>,
    /// The unit every value is converted to; thresholds compared with this measure must be in it.
    pub unit: Unit,
    /// How each accepted source unit becomes `unit` (the identity for `unit` itself is implied).
    pub conversions: Vec<Conversion>,
    /// What a record's value is.
    pub value: MeasureValue,
    /// Plausible range of the converted value; records outside are dropped and counted.
    pub domain: Option<(f64, f64)>,
}

/// `value_in(unit) = value_in(from) * factor`.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub from: Unit,
    pub factor: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MeasureValue {
    /// The converted value itself.
    Value,
    /// The value divided by the upper limit of normal: the record's `range_high` (same unit as
    /// the record), else `fallback` (in the measure's `unit`, after conversion). Unit `xULN`.
    RatioToUln { fallback: f64 },
    /// Records of these LOINC codes are creatinine, converted to mg/dL by `creatinine_units`
    /// (mg/dL itself included), and become eGFR by CKD-EPI 2021 from the patient's age at index
    /// and sex (F/M; U gives no value). Records of other codes use the measure's conversions.
    EgfrFromCreatinine {
        creatinine_loinc: Vec<String>,
        creatinine_units: Vec<Conversion>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// `value_num`
    Number,
    /// `value_text`
    Text,
}

/// An observation code and how to read its value.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservationDef {
    pub name: String,
    pub code: String,
    pub kind: ValueKind,
    /// For numbers: inclusive range. Out-of-domain records are dropped and counted.
    pub number_domain: Option<(f64, f64)>,
    /// For texts: the allowed values. Others are dropped and counted.
    pub text_domain: Option<Vec<String>>,
}

/// A tumour group (`nsclc`, `colorectal`): a code set over the primary cancer's ICD-10 code.
#[derive(Debug, Clone, PartialEq)]
pub struct TumourGroup {
    pub name: String,
    pub label: String,
    pub codes: CodeSetId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriterionKind {
    Inclusion,
    Exclusion,
}

/// What an unknown rule result becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum MissingRule {
    /// Stays unknown.
    Unknown,
    /// "Absence = pass": the criterion excludes on a recorded event only.
    Pass,
    Fail,
    /// Pass, unless the condition holds, then unknown (E2c: no status, but a C79.3 diagnosis).
    PassUnless(Cond),
}

/// One eligibility criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    /// The protocol's id (`I4b`, `E5`).
    pub id: String,
    /// The protocol text, short.
    pub text: String,
    pub kind: CriterionKind,
    /// Where false: n/a (counts as pass, reported separately). Two-valued: unknown counts as true.
    pub applies_if: Option<Cond>,
    /// For an inclusion: pass when true, fail when false. For an exclusion: fail when true, pass
    /// when false. Unknown is resolved by `missing`.
    pub rule: Cond,
    pub missing: MissingRule,
    /// The rule is a registry proxy of the protocol's intent (E3): flagged as such in reports.
    pub proxy: bool,
    /// Where the rule comes from (protocol section, SmPC), shown in reports.
    pub source: Option<String>,
    /// The rule as written in the definition file, for reports.
    pub rule_text: String,
    /// The missing-data rule in words (`unknown`, `absence = pass`, ...), for reports.
    pub missing_text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotAssessable {
    pub id: String,
    pub text: String,
    pub reason: String,
}

/// A three-valued condition over one patient (and, for cohort criteria, one cohort).
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Const(bool),
    /// The literal `unknown`.
    Unknown,
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// `confirmed(c)`: true only where c is true; unknown becomes false.
    Confirmed(Box<Cond>),
    /// `alive at index`: death_date null or >= idx. Never unknown.
    AliveAtIndex,
    /// `primary exists`: a primary cancer (see the engine) is recorded at or before idx.
    PrimaryExists,
    /// `primary in SET`: false where there is no primary.
    PrimaryIn(CodeSetId),
    /// `sex in ["F", "U"]`.
    SexIn(Vec<String>),
    /// `any QUERY`: true if a selected record's filter is true, unknown if none is true but one is
    /// unknown, false otherwise (also when no record is selected).
    Any(Query),
    /// `latest QUERY <test>`: the test on the latest record; same-date ties resolved against
    /// eligibility (see `Polarity`); unknown where no record is selected.
    Latest {
        query: Query,
        test: Test,
    },
    /// `matched to any cohort` (I7).
    MatchedAnyCohort,
    /// Cohort criteria only: the cohort's drug is given by this route.
    DrugRouteIs(Route),
    /// Cohort criteria only: a variant of a test at or before idx matches one of the resistance
    /// biomarkers of the cohort's drug (E11).
    ResistanceBiomarker,
}

/// A test on the value of the latest record.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Numeric comparison against a person-level quantity, in the measure's (or observation's) unit.
    Compare(CmpOp, Quantity),
    /// Text value is one of these.
    In(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A person-level number, possibly conditional (`5 xULN if any liver_metastasis else 2.5 xULN`).
#[derive(Debug, Clone, PartialEq)]
pub enum Quantity {
    Number(f64),
    /// `if COND then A else B`; COND two-valued (unknown counts as false).
    If(Box<Cond>, Box<Quantity>, Box<Quantity>),
}

/// Which records a query selects.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub source: Source,
    pub window: Window,
    /// Extra record-level condition (`where ...`); None selects every record of the source.
    pub filter: Option<RecordCond>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Diagnosis rows whose ICD-10 code is in the set (`any metastasis`).
    Diagnosis(Option<CodeSetId>),
    /// Treatment rows, all kinds, optionally with ATC in the set.
    Treatment(Option<CodeSetId>),
    Measure(MeasureId),
    Observation(ObservationId),
    /// Molecular test reports (I6).
    MolecularTest,
}

/// The time window relative to idx. Records after idx are never selected.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// date <= idx
    UpToIndex,
    /// idx - days <= date <= idx
    WithinDays(u32),
    /// Treatment: start <= idx and (end null or end >= idx - grace_days).
    Ongoing { grace_days: u32 },
}

/// A record-level condition after `where`. May use person-level conditions, which are constant
/// for the patient.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordCond {
    Not(Box<RecordCond>),
    And(Vec<RecordCond>),
    Or(Vec<RecordCond>),
    /// The record's code (ICD-10 for diagnosis, ATC for treatment) is in the set.
    CodeIn(CodeSetId),
    /// Treatment only: `kind is "radiotherapy"`.
    KindIs(String),
    /// Treatment only: start <= idx - days.
    StartedAtLeastDaysBefore(u32),
    /// Molecular test only: `approved_lab` (null is unknown).
    ApprovedLab,
    /// Observation only (`allergy`): the value_text, an ATC code, is one of the cohort drug's codes.
    ValueIsDrugAtc,
    /// Treatment only: the ATC code is one of the cohort drug's codes (E9).
    AtcIsDrugAtc,
    /// A person-level condition.
    Person(Box<Cond>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Oral,
    Iv,
}

/// A drug or combination, from the cohort table.
#[derive(Debug, Clone, PartialEq)]
pub struct Drug {
    pub name: String,
    /// ATC codes of every substance (prefixes allowed).
    pub atc: Vec<String>,
    pub route: Route,
    /// Findings that make the drug ineffective (E11).
    pub resistance: Vec<Biomarker>,
    /// The drug's own criteria from its SmPC (I8/E13), evaluated for the cohorts of this drug.
    pub criteria: Vec<Criterion>,
    pub source: String,
}

/// A rule over variant rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Biomarker {
    /// HGNC symbol, or signature name (`TMB`, `MSI`).
    pub gene: String,
    /// `snv`, `indel`, `amplification`, `deletion`, `fusion`, `expression`, `signature`; None: any.
    pub class: Option<String>,
    /// Glob over `alteration` (`V600*`, `exon19del`, `*::ALK`); None: any.
    pub alteration: Option<String>,
    /// `value >= min_value` (copy number >= 6, TMB >= 10).
    pub min_value: Option<f64>,
}

/// A drug x biomarker x tumour group cohort.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub id: String,
    pub drug: DrugId,
    /// Matches when any of these matches a variant.
    pub biomarkers: Vec<Biomarker>,
    /// Display label of the biomarker rule (`BRAF V600E/K`).
    pub biomarker_label: String,
    /// Tumour groups (indices into `Definition::tumour_groups`); empty = every solid tumour.
    pub tumour_groups: Vec<usize>,
    /// Label of the tumour groups for reports.
    pub tumour_label: String,
    /// On-label indications of the drug for this biomarker: excluded from the cohort.
    pub on_label: Vec<usize>,
    pub stages: Vec<u32>,
    pub enrolled: u32,
    pub source: String,
}
