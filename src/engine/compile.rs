//! Compiles the conditions of a checked definition into polars expressions. Record-level parts of
//! a condition (`any ...`, `latest ...`) become *atoms*: aggregations per patient over one record
//! table, registered here and reduced per patient in one pass per table ([`super::per_patient`]);
//! the rest becomes an expression over patient-level columns, three-valued (a null Boolean is
//! unknown, with Kleene logic).
//!
//! Same-date ties of `latest` are resolved against eligibility: the compiler tracks whether a true
//! atom is favourable to eligibility (its *polarity*) and keeps the least favourable tied record.

mod answers;
mod drugs;
mod kernels;
mod record_atoms;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use polars::prelude::*;

use super::codes::{
    atc_bits, atc_prefixes, in_set_by_word, selected_words, set_bits, word_sets, AtcPrefixes,
    AtcWords, CODE_SETS, DRUG_ATC, MAX_WORD_SETS,
};
use super::kernel::RecordAtom;
use super::measures::{MeasureRules, CODE_KEY, MEASURE_KEY};
use super::observations::{ObservationRules, OBSERVATION_KEY, TEXT_KEY};
use super::outcome::{Missing, OutcomeParts};
use super::patient_core::primary_in;
use super::records::{one_of, RecordTable};
use super::EngineError;
use crate::definition::model::{
    CmpOp, Cond, Criterion, CriterionKind, Definition, Drug, MissingRule,
};
use answers::Answer;
pub(crate) use answers::AnswerColumn;

/// Added to dates (days since 1970) in `latest` keys so that every key is positive: any date
/// after the year 1696. Keys stay below 2^31 for dates before the year 4900, so they fit Int32.
pub(crate) const DATE_OFFSET: i32 = 100_000;

/// Outcome codes of the patient-level frame (see [`super::mask::Outcome`]).
pub(crate) const PASS: u8 = 0;
pub(crate) const FAIL: u8 = 1;
pub(crate) const UNKNOWN: u8 = 2;
pub(crate) const NOT_APPLICABLE: u8 = 3;

/// How an atom's record-level column becomes its per-patient value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduce {
    /// The largest value: an `any` code (2, 1, 0), a `latest` key.
    Max,
    /// The bitwise or of words with a bit per drug: every drug's `any` atom in one column.
    BitOr,
    /// The sum: a count of records.
    Sum,
}

/// A record-level column reduced per patient in its table's pass.
pub(crate) struct Atom {
    pub name: String,
    /// Elementwise over the table's records, aliased to `name`.
    pub column: Expr,
    pub reduce: Reduce,
    /// The atom as a kernel evaluates it, where one can (a measure's or an observation's `any`,
    /// or `latest` with a test that fits its values, without a filter); `column` is the same
    /// atom as a polars expression.
    pub kernel: Option<RecordAtom>,
}

impl Reduce {
    /// The per-patient value of column `name`, as a group-by's aggregation.
    pub(crate) fn aggregate(self, name: &str) -> Expr {
        let column = col(name);
        match self {
            Reduce::Max => column.max(),
            Reduce::BitOr => column.bitwise_or(),
            Reduce::Sum => column.sum(),
        }
    }
}

/// What a condition is evaluated for: a patient, or a patient and one drug's cohorts.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    pub drug: Option<(usize, &'a Drug)>,
}

/// What a table's reader computes of its records as it reads them, for the engine and the
/// checks at once (`engine::tables::Tables::read`): the measurements' and observations' keys, the
/// treatments' ATC words and the observations' drug words where the atoms read them.
pub(crate) struct KeyRules {
    pub(crate) measures: Arc<MeasureRules>,
    pub(crate) observations: Arc<ObservationRules>,
    /// The drugs' prefixes an observation's text is matched to ([`DRUG_ATC`]), where `value is
    /// drug atc` is tested by a word.
    pub(crate) observation_drugs: Option<AtcPrefixes>,
    pub(crate) treatments: Option<AtcWords>,
}

/// Compiles conditions and collects the atoms they need.
pub(crate) struct Compiler<'d> {
    definition: &'d Definition,
    /// The measures' values and unit checks, by (LOINC, unit) key.
    measures: Arc<MeasureRules>,
    /// The observations' codes, domains and texts, for the observation kernel.
    observations: Arc<ObservationRules>,
    /// Per table, the atoms reduced in its pass.
    atoms: BTreeMap<RecordTable, Vec<Atom>>,
    names: HashMap<String, String>,
    /// Per table, record-level columns that several atoms share (a measure's source mask and
    /// converted value, an observation's, a code set's membership), computed once.
    shared: BTreeMap<RecordTable, Vec<(String, Expr)>>,
    /// The shared columns registered, by table: a table computes its own.
    shared_names: HashSet<(RecordTable, String)>,
    /// The tables whose records' code sets are tested, by a word per record ([`CODE_SETS`]).
    code_set_words: BTreeSet<RecordTable>,
    /// The tables whose records are matched to the drugs' ATC lists, by a word per record
    /// ([`DRUG_ATC`]): the treatments' codes, the observations' texts.
    drug_atc_words: BTreeSet<RecordTable>,
    /// Whether an atom reads the treatments' codes as text, not only their words
    /// ([`AtcWords::codes_read`]).
    treatment_codes_read: bool,
    /// The atoms' answers the conditions read, each a column of the patient frame.
    answers: Vec<AnswerColumn>,
}

/// How tied latest records are reduced: keep the truth of all of them, or of any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ties {
    /// True only if every tied record satisfies the test (the atom is favourable when true).
    All,
    /// True if any tied record satisfies it (the atom is unfavourable when true).
    Any,
}

fn null_bool() -> Expr {
    lit(NULL).cast(DataType::Boolean)
}

fn cmp(left: Expr, op: CmpOp, right: Expr) -> Expr {
    match op {
        CmpOp::Lt => left.lt(right),
        CmpOp::Le => left.lt_eq(right),
        CmpOp::Gt => left.gt(right),
        CmpOp::Ge => left.gt_eq(right),
        CmpOp::Eq => left.eq(right),
        CmpOp::Ne => left.neq(right),
    }
}

impl<'d> Compiler<'d> {
    pub(crate) fn new(definition: &'d Definition) -> Compiler<'d> {
        Compiler {
            definition,
            measures: Arc::new(MeasureRules::new(definition)),
            observations: Arc::new(ObservationRules::new(definition)),
            atoms: BTreeMap::new(),
            names: HashMap::new(),
            shared: BTreeMap::new(),
            shared_names: HashSet::new(),
            code_set_words: BTreeSet::new(),
            drug_atc_words: BTreeSet::new(),
            treatment_codes_read: false,
            answers: Vec::new(),
        }
    }

    /// Per record table, the atoms: record-level columns, each reduced per patient by a plain
    /// aggregation (computing the columns first keeps polars on its vectorized paths).
    pub(crate) fn atoms(&self) -> &BTreeMap<RecordTable, Vec<Atom>> {
        &self.atoms
    }

    /// What the tables' readers compute of their records as they read them ([`KeyRules`]):
    /// the measurement and observation keys, and the treatments' ATC words and observations'
    /// drug words the compiled atoms read (so only once every condition is compiled).
    pub(crate) fn key_rules(&self) -> KeyRules {
        let treatments = RecordTable::Treatment;
        let sets = (self.code_set_words.contains(&treatments))
            .then(|| word_sets(&self.definition.code_sets));
        let drugs_of = |table: RecordTable| {
            (self.drug_atc_words.contains(&table)).then(|| atc_prefixes(&self.drug_lists()))
        };
        let drugs = drugs_of(treatments);
        KeyRules {
            measures: Arc::clone(&self.measures),
            observations: Arc::clone(&self.observations),
            observation_drugs: drugs_of(RecordTable::Observation),
            treatments: (sets.is_some() || drugs.is_some()).then_some(AtcWords {
                sets,
                drugs,
                codes_read: self.treatment_codes_read,
            }),
        }
    }

    /// Every drug's ATC list, in drug order: the lists a [`DRUG_ATC`] word has a bit of.
    pub(crate) fn drug_lists(&self) -> Vec<Vec<String>> {
        (self.definition.drugs.iter())
            .map(|drug| drug.atc.clone())
            .collect()
    }

    /// A `table` record's [`DRUG_ATC`] word (a treatment's of its code, an observation's of its
    /// text) where `selected`, 0 elsewhere.
    pub(super) fn drug_atc_word(&mut self, table: RecordTable, selected: Expr) -> Expr {
        self.drug_atc_words.insert(table);
        selected_words(selected, col(DRUG_ATC))
    }

    /// Per record table, the shared record-level columns the atoms refer to; computed before them.
    pub(crate) fn shared(&self) -> &BTreeMap<RecordTable, Vec<(String, Expr)>> {
        &self.shared
    }

    /// A shared record-level column of `table`, registered on first use.
    fn share(&mut self, table: RecordTable, name: String, make: impl FnOnce() -> Expr) -> Expr {
        if self.shared_names.insert((table, name.clone())) {
            self.shared
                .entry(table)
                .or_default()
                .push((name.clone(), make().alias(name.as_str())));
        }
        col(name.as_str())
    }

    /// A record's `code in` set `set` (diagnoses, treatments): the set's bit of the table's
    /// [`CODE_SETS`] word, where the word holds it.
    fn code_in(&mut self, table: RecordTable, set: usize) -> Expr {
        if set < MAX_WORD_SETS {
            self.code_set_words.insert(table);
        } else if table == RecordTable::Treatment {
            self.treatment_codes_read = true;
        }
        in_set_by_word(CODE_SETS, "code", &self.definition.code_sets, set)
    }

    /// Per table, the record-level columns that shared columns and kernels read, computed
    /// first: the measurement records' (LOINC, unit) key, the observation records' code and
    /// text keys, the code sets of diagnoses' and treatments' codes where a set is tested.
    /// Those the records already have (`has`: the measurement and observation keys, computed
    /// as their tables were read) are not computed again.
    pub(crate) fn prepared(&self, table: RecordTable, has: &Schema) -> Vec<Expr> {
        let mut prepared = match table {
            // From the code and unit keys where the table was read with them.
            RecordTable::Measurement => match has.contains(CODE_KEY) {
                true => vec![(MEASURE_KEY, self.measures.key_of_keys())],
                false => vec![(MEASURE_KEY, self.measures.key())],
            },
            RecordTable::Observation => vec![
                (OBSERVATION_KEY, self.observations.key()),
                (TEXT_KEY, self.observations.text_key()),
            ],
            _ => Vec::new(),
        };
        if self.code_set_words.contains(&table) {
            prepared.push((CODE_SETS, set_bits(col("code"), &self.definition.code_sets)));
        }
        if self.drug_atc_words.contains(&table) {
            // The observations' texts are matched as their normal form (`normalized_atc`).
            let (matched, normalize) = match table {
                RecordTable::Observation => ("value_text", true),
                _ => ("code", false),
            };
            let every_row = lit(true);
            let words = atc_bits(every_row, col(matched), &self.drug_lists(), normalize);
            prepared.push((DRUG_ATC, words));
        }
        (prepared.into_iter())
            .filter(|(name, _)| !has.contains(name))
            .map(|(name, expr)| expr.alias(name))
            .collect()
    }

    /// The measures' values and unit checks, by (LOINC, unit) key.
    pub(crate) fn measures(&self) -> &Arc<MeasureRules> {
        &self.measures
    }

    /// A measurement-level Boolean: the row is of one of the definition's measures but has a unit
    /// none of those measures can convert (a data-quality count); None without measures.
    pub(crate) fn unconvertible_unit(&self) -> Option<Expr> {
        (!self.definition.measures.is_empty()).then(|| self.measures.unconvertible())
    }

    /// The atoms' answer columns the conditions read, to add to the patient frame after the
    /// atoms.
    pub(crate) fn answers(&self) -> &[AnswerColumn] {
        &self.answers
    }

    /// The column of `atom`'s `answer`, registered once.
    fn answer(&mut self, atom: String, answer: Answer) -> Expr {
        let name = format!("{atom}?{answer:?}");
        if !self.answers.iter().any(|a| a.name == name) {
            self.answers.push(AnswerColumn {
                name: name.clone(),
                atom,
                answer,
            });
        }
        col(name)
    }

    /// The outcome code (UInt8) of a criterion, as one polars expression (the reference for
    /// the codes evaluation computes from the parts).
    #[cfg(test)]
    pub(crate) fn criterion(
        &mut self,
        criterion: &Criterion,
        ctx: Context,
    ) -> Result<Expr, EngineError> {
        Ok(self.criterion_parts(criterion, ctx)?.expr())
    }

    /// A criterion's three-valued parts, from which its outcome code is computed.
    pub(crate) fn criterion_parts(
        &mut self,
        criterion: &Criterion,
        ctx: Context,
    ) -> Result<OutcomeParts, EngineError> {
        let inclusion = criterion.kind == CriterionKind::Inclusion;
        let rule = self.cond(&criterion.rule, inclusion, ctx)?;
        let missing = match &criterion.missing {
            MissingRule::Unknown => Missing::Code(UNKNOWN),
            MissingRule::Pass => Missing::Code(PASS),
            MissingRule::Fail => Missing::Code(FAIL),
            MissingRule::PassUnless(cond) => Missing::PassUnless(self.cond(cond, false, ctx)?),
        };
        let applies = match &criterion.applies_if {
            Some(applies) => Some(self.cond(applies, false, ctx)?),
            None => None,
        };
        Ok(OutcomeParts {
            // true: the criterion passes.
            passes: if inclusion { rule } else { rule.not() },
            missing,
            applies,
        })
    }

    /// A three-valued condition over patient-level columns. `favourable`: whether the condition
    /// being true makes the patient more eligible (decides how same-date ties are broken).
    pub(crate) fn cond(
        &mut self,
        cond: &Cond,
        favourable: bool,
        ctx: Context,
    ) -> Result<Expr, EngineError> {
        Ok(match cond {
            Cond::Const(b) => lit(*b),
            Cond::Unknown => null_bool(),
            Cond::Not(inner) => self.cond(inner, !favourable, ctx)?.not(),
            Cond::And(parts) => self.fold(parts, favourable, ctx, Expr::and)?,
            Cond::Or(parts) => self.fold(parts, favourable, ctx, Expr::or)?,
            Cond::Confirmed(inner) => self.cond(inner, favourable, ctx)?.fill_null(lit(false)),
            Cond::Any(query) => match self.drugs_any_atom(query, ctx)? {
                // A drug's bit of an ATC atom, read as a condition in one pass.
                Some(condition) => condition,
                None => {
                    // 2: true, 0: false, 1: unknown.
                    let atom = self.any_atom(query, ctx)?;
                    self.answer(atom, Answer::Any)
                }
            },
            Cond::Latest { query, test } => {
                let ties = if favourable { Ties::All } else { Ties::Any };
                self.latest(query, test, ties, ctx)?
            }
            Cond::MatchedAnyCohort => col("matched_any"),
            Cond::AliveAtIndex
            | Cond::PrimaryExists
            | Cond::PrimaryIn(_)
            | Cond::SexIn(_)
            | Cond::DrugRouteIs(_)
            | Cond::ResistanceBiomarker => self.person(cond, ctx)?,
        })
    }

    fn fold(
        &mut self,
        parts: &[Cond],
        favourable: bool,
        ctx: Context,
        op: fn(Expr, Expr) -> Expr,
    ) -> Result<Expr, EngineError> {
        let mut exprs = Vec::with_capacity(parts.len());
        for part in parts {
            exprs.push(self.cond(part, favourable, ctx)?);
        }
        exprs
            .into_iter()
            .reduce(op)
            .ok_or_else(|| EngineError::Unsupported("an empty `and`/`or`".into()))
    }

    /// Conditions that need no record table: usable at patient level and inside `where`.
    fn person(&self, cond: &Cond, ctx: Context) -> Result<Expr, EngineError> {
        Ok(match cond {
            Cond::Const(b) => lit(*b),
            Cond::Unknown => null_bool(),
            Cond::Not(inner) => self.person(inner, ctx)?.not(),
            Cond::And(parts) | Cond::Or(parts) => {
                let mut exprs = Vec::with_capacity(parts.len());
                for part in parts {
                    exprs.push(self.person(part, ctx)?);
                }
                let op = if matches!(cond, Cond::And(_)) {
                    Expr::and
                } else {
                    Expr::or
                };
                exprs.into_iter().reduce(op).unwrap_or(lit(true))
            }
            Cond::Confirmed(inner) => self.person(inner, ctx)?.fill_null(lit(false)),
            Cond::AliveAtIndex => col("p_death")
                .is_null()
                .or(col("p_death").gt_eq(col("p_idx"))),
            Cond::PrimaryExists => col("p_primary").is_not_null(),
            Cond::PrimaryIn(set) => primary_in(self.definition, *set),
            Cond::SexIn(values) => one_of(col("p_sex"), values).fill_null(lit(false)),
            Cond::DrugRouteIs(route) => {
                let (_, drug) = ctx.drug.ok_or_else(|| cohort_only("drug route"))?;
                lit(drug.route == *route)
            }
            Cond::ResistanceBiomarker => {
                let (d, _) = ctx.drug.ok_or_else(|| cohort_only("resistance biomarker"))?;
                col(resistance_column(d))
            }
            Cond::Any(_) | Cond::Latest { .. } | Cond::MatchedAnyCohort => {
                return Err(EngineError::Unsupported(format!(
                    "a record query or cohort match inside `where` ({cond:?}); write it at patient level"
                )))
            }
        })
    }
}

fn cohort_only(what: &str) -> EngineError {
    EngineError::Unsupported(format!("`{what}` outside a cohort criterion"))
}

/// The column holding whether a patient carries a resistance biomarker of drug `d`.
pub(crate) fn resistance_column(d: usize) -> String {
    format!("resistance_{d}")
}
