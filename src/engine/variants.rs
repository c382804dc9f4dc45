//! The variant kernel ([`super::kernel`]): molecular matching by patient row. A variant's gene,
//! class and alteration are mapped to small keys once per distinct value of a morsel
//! ([`map_distinct`]), and the biomarker rules are tested once per distinct (gene, class,
//! alteration); a record then costs its test's lookup and a few loads.
//!
//! As polars expressions ([`super::cohorts::variant_flags`], still the reference and the path
//! for ids without the row lookup), each variant's three strings were written again in their
//! normal forms, and every flag compared them on every record.

use std::sync::Arc;

use foldhash::HashMap;
use polars::prelude::*;
use polars_arrow::array::BooleanArray;
use regex::Regex;

use super::cohorts::{flag_rules, glob_regex, TestLookup};
use super::kernel::{index_dates, input, Kernel};
use super::lookup::TEST_ROW;
use super::measures::less;
use crate::definition::model::{Biomarker, Definition};
use crate::extract::bitmaps::packed;
use crate::extract::distinct::map_distinct;

/// The key of a null class or alteration.
const NULL: u32 = u32::MAX;

/// A biomarker rule as the kernel tests it: the normal forms of its strings, its glob compiled.
struct Rule {
    flag: usize,
    approved_only: bool,
    gene: String,
    class: Option<String>,
    alteration: Option<Alteration>,
    min_value: Option<f64>,
}

enum Alteration {
    Exactly(String),
    Glob(Regex),
}

impl Rule {
    fn new(flag: usize, approved_only: bool, biomarker: &Biomarker) -> PolarsResult<Rule> {
        let alteration = match &biomarker.alteration {
            None => None,
            Some(glob) if glob.contains('*') => Some(Alteration::Glob(
                Regex::new(&glob_regex(glob)).map_err(|e| polars_err!(ComputeError: "{e}"))?,
            )),
            Some(exactly) => Some(Alteration::Exactly(exactly.clone())),
        };
        Ok(Rule {
            flag,
            approved_only,
            gene: biomarker.gene.to_uppercase(),
            class: biomarker.class.as_ref().map(|class| class.to_lowercase()),
            alteration,
            min_value: biomarker.min_value,
        })
    }

    /// Whether a variant's (normalized) class and alteration fit the rule; its gene is the
    /// rule's.
    fn fits(&self, class: Option<&str>, alteration: Option<&str>) -> bool {
        let class_fits = match &self.class {
            None => true,
            Some(want) => class == Some(want.as_str()),
        };
        let alteration_fits = match (&self.alteration, alteration) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(Alteration::Exactly(want)), Some(alteration)) => alteration == want,
            (Some(Alteration::Glob(glob)), Some(alteration)) => glob.is_match(alteration),
        };
        class_fits && alteration_fits
    }
}

/// What a variant of some (gene, class, alteration) sets: a flag, where the test's laboratory
/// is approved (if it must be) and the value reaches the minimum (if there is one).
#[derive(Clone, Copy)]
struct Hit {
    flag: u32,
    approved_only: bool,
    min_value: Option<f64>,
}

/// Distinct strings by key, in order of first appearance.
#[derive(Default)]
struct Interned {
    keys: HashMap<String, u32>,
    texts: Vec<String>,
}

impl Interned {
    fn key(&mut self, text: String) -> u32 {
        let next = self.texts.len() as u32;
        *self.keys.entry(text).or_insert_with_key(|text| {
            self.texts.push(text.clone());
            next
        })
    }

    fn text(&self, key: u32) -> Option<&str> {
        (key != NULL).then(|| self.texts[key as usize].as_str())
    }
}

/// The flags of [`flag_rules`] and their biomarker rules by gene, as the kernel tests them.
pub(crate) struct VariantRules {
    names: Vec<String>,
    /// Per gene key (its normal form's index among the rules' genes, from 1; 0: no rule's
    /// gene), the rules of that gene.
    rules_of_gene: Vec<Vec<Rule>>,
    genes: HashMap<String, u32>,
}

impl VariantRules {
    pub(crate) fn new(definition: &Definition) -> PolarsResult<VariantRules> {
        let flags = flag_rules(definition);
        let mut genes: HashMap<String, u32> = HashMap::default();
        let mut rules_of_gene: Vec<Vec<Rule>> = vec![Vec::new()];
        for (f, flag) in flags.iter().enumerate() {
            for biomarker in flag.biomarkers {
                let rule = Rule::new(f, flag.approved_only, biomarker)?;
                let next = rules_of_gene.len() as u32;
                let key = *genes.entry(rule.gene.clone()).or_insert(next);
                if key == next {
                    rules_of_gene.push(Vec::new());
                }
                rules_of_gene[key as usize].push(rule);
            }
        }
        Ok(VariantRules {
            names: flags.into_iter().map(|flag| flag.name).collect(),
            rules_of_gene,
            genes,
        })
    }
}

/// The flags of [`VariantRules`] folded per patient row from the variant records.
pub(crate) struct VariantKernel {
    rules: Arc<VariantRules>,
    classes: Interned,
    alterations: Interned,
    /// The hits of each (gene, class, alteration) key seen so far, by position in `hits`.
    memo: HashMap<(u32, u32, u32), usize>,
    hits: Vec<Vec<Hit>>,
    tests: Arc<TestLookup>,
    /// Whether the variants come with their test's row in `tests` ([`TEST_ROW`], found as they
    /// were read): not looked up again.
    found: bool,
    /// Per test row, its patient's row (None for a test of no patient of the partition).
    test_patients: Vec<Option<IdxSize>>,
    /// Per test row, its report date and whether its laboratory is approved.
    report_date: Vec<Option<i32>>,
    approved: Vec<bool>,
    /// Per patient row, its index date.
    idx: Vec<Option<i32>>,
    /// Per patient row: some variant of it counts (a test reported by the index date).
    seen: Vec<bool>,
    /// Per flag, per patient row.
    set: Vec<Vec<bool>>,
}

impl VariantKernel {
    /// The kernel of `rules` over the patients of `core` (`p_idx`, by row), with the
    /// partition's `tests` and each test's patient row; `found` where the variants come with
    /// their test's row in `tests` ([`TEST_ROW`]).
    pub(crate) fn new(
        rules: Arc<VariantRules>,
        tests: Arc<TestLookup>,
        test_patients: Vec<Option<IdxSize>>,
        found: bool,
        core: &DataFrame,
    ) -> PolarsResult<VariantKernel> {
        let idx = index_dates(core)?;
        let (report_date, approved) = tests.dates_and_approval()?;
        polars_ensure!(
            test_patients.len() == report_date.len(),
            ShapeMismatch: "{} tests but {} test patient rows", report_date.len(), test_patients.len()
        );
        let patients = idx.len();
        Ok(VariantKernel {
            // Each flag's column allocated zeroed: `vec![column; n]` copies the first n - 1
            // times.
            set: (0..rules.names.len())
                .map(|_| vec![false; patients])
                .collect(),
            rules,
            classes: Interned::default(),
            alterations: Interned::default(),
            memo: HashMap::default(),
            hits: Vec::new(),
            tests,
            found,
            test_patients,
            report_date,
            approved,
            idx,
            seen: vec![false; patients],
        })
    }

    /// Each variant's test row in `tests`: as found when the variants were read, or looked up
    /// here, array by array (the loop over the variants over a flat map of the arrays' lookups
    /// stepped it through a call a variant).
    fn tests_of(&self, morsel: &DataFrame, variants: usize) -> PolarsResult<Vec<Option<usize>>> {
        let mut found = Vec::with_capacity(variants);
        match self.found {
            true => {
                let rows = morsel.column(TEST_ROW)?.idx()?;
                let tests = self.test_patients.len();
                for array in rows.downcast_iter() {
                    found.extend(array.iter().map(|row| row.map(|row| *row as usize)));
                }
                polars_ensure!(
                    found.iter().flatten().all(|&row| row < tests),
                    OutOfBounds: "a variant's test row is past the partition's {tests} tests"
                );
            }
            false => {
                let ids =
                    (morsel.column("test_id")?.as_materialized_series()).cast(&DataType::String)?;
                for ids in ids.str()?.downcast_iter() {
                    found.extend(self.tests.rows(ids));
                }
            }
        }
        polars_ensure!(
            found.len() == variants,
            ShapeMismatch: "{} test rows for {variants} variants", found.len()
        );
        Ok(found)
    }

    /// The position in `hits` of the hits of a variant of gene key `gene` (not 0), class and
    /// alteration keys: the rules are tested on its first such variant.
    fn hits(&mut self, gene: u32, class: u32, alteration: u32) -> usize {
        match self.memo.get(&(gene, class, alteration)) {
            Some(&at) => at,
            None => {
                let (class_text, alteration_text) =
                    (self.classes.text(class), self.alterations.text(alteration));
                let hits = self.rules.rules_of_gene[gene as usize]
                    .iter()
                    .filter(|rule| rule.fits(class_text, alteration_text))
                    .map(|rule| Hit {
                        flag: rule.flag as u32,
                        approved_only: rule.approved_only,
                        min_value: rule.min_value,
                    })
                    .collect();
                self.hits.push(hits);
                self.memo
                    .insert((gene, class, alteration), self.hits.len() - 1);
                self.hits.len() - 1
            }
        }
    }
}

impl Kernel for VariantKernel {
    fn inputs(&self) -> &'static [&'static str] {
        match self.found {
            true => &[TEST_ROW, "gene", "class", "alteration", "value"],
            false => &["test_id", "gene", "class", "alteration", "value"],
        }
    }

    fn fold(&mut self, rows: &[IdxSize], morsel: &DataFrame) -> PolarsResult<()> {
        // Text columns as they come, chunk by chunk: rechunking string views copies them and
        // sums their lengths, and the keys below are computed per chunk anyway.
        let text = |name: &str| -> PolarsResult<Series> {
            (morsel.column(name)?.as_materialized_series()).cast(&DataType::String)
        };
        let (genes, classes, alterations) = (text("gene")?, text("class")?, text("alteration")?);
        let values = input(morsel, "value", &DataType::Float64)?;
        let values = values.f64()?.downcast_as_array();
        polars_ensure!(
            [genes.len(), classes.len(), alterations.len(), values.len()] == [rows.len(); 4],
            ShapeMismatch: "variant columns are not as long as their rows"
        );
        let known = &self.rules.genes;
        let gene_keys = map_distinct(genes.str()?, |gene| {
            gene.and_then(|gene| known.get(gene.trim().to_uppercase().as_str()).copied())
                .unwrap_or(0)
        });
        let interned = &mut self.classes;
        let class_keys = map_distinct(classes.str()?, |class| {
            class.map_or(NULL, |class| interned.key(class.trim().to_lowercase()))
        });
        let interned = &mut self.alterations;
        let alteration_keys = map_distinct(alterations.str()?, |alteration| {
            alteration.map_or(NULL, |alteration| {
                interned.key(alteration.trim().to_string())
            })
        });
        let found = self.tests_of(morsel, rows.len())?;
        for (i, test) in found.into_iter().enumerate() {
            // A variant counts where its test is in the table, is its own patient's, and was
            // reported by the index date.
            let Some(test) = test else { continue };
            if self.test_patients[test] != Some(rows[i]) {
                continue;
            }
            let row = rows[i] as usize;
            let (Some(reported), Some(idx)) = (self.report_date[test], self.idx[row]) else {
                continue;
            };
            if reported > idx {
                continue;
            }
            self.seen[row] = true;
            if gene_keys[i] == 0 {
                continue;
            }
            let at = self.hits(gene_keys[i], class_keys[i], alteration_keys[i]);
            let approved = self.approved[test];
            for hit in &self.hits[at] {
                let value_reaches = hit
                    .min_value
                    .is_none_or(|min| values.get(i).is_some_and(|value| !less(value, min)));
                if value_reaches && (approved || !hit.approved_only) {
                    self.set[hit.flag as usize][row] = true;
                }
            }
        }
        Ok(())
    }

    /// One Boolean column per flag, aligned with the core's rows: null for a patient without a
    /// variant that counts, as the polars path's reduction gives.
    fn finish(self: Box<Self>) -> Vec<Column> {
        let seen = packed(&self.seen);
        self.rules
            .names
            .iter()
            .zip(&self.set)
            .map(|(name, set)| {
                let flags =
                    BooleanArray::new(ArrowDataType::Boolean, packed(set), Some(seen.clone()));
                BooleanChunked::with_chunk(name.into(), flags).into_column()
            })
            .collect()
    }
}
