//! From the TOML structures to the checked [`Definition`]: trial, code sets, measures,
//! observations, tumour groups, then every condition (through `syntax` and `resolve`), drugs and
//! cohorts. Every error is collected with its place in the file; nothing stops at the first.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::codes::{self, LocalError};
use super::diagnostics::{suggestion, Diagnostic};
use super::model::*;
use super::raw::{RawBiomarker, RawCriterion, RawFile, Text};
use super::resolve::{resolve, Names};
use super::syntax::parse_condition;
use super::units;
use crate::extract::findings::CLASSES;

/// Maps offsets inside a string value to offsets in the file.
#[derive(Debug, Clone)]
pub struct Site {
    /// The whole string token, quotes included.
    whole: Range<usize>,
    /// Where the value's first character sits, when the token holds the value verbatim.
    content: Option<usize>,
}

impl Site {
    pub fn of(file: &str, value: &Text) -> Site {
        let whole = value.span();
        let raw = file.get(whole.clone()).unwrap_or("");
        let delim = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            3
        } else {
            1
        };
        let mut content = None;
        let quoted = raw.starts_with('"') || raw.starts_with('\'');
        if quoted && raw.len() >= 2 * delim {
            let mut start = delim;
            let inner = &raw[delim..raw.len() - delim];
            let mut inner_text = inner;
            if delim == 3 {
                if let Some(rest) = inner.strip_prefix("\r\n") {
                    start += 2;
                    inner_text = rest;
                } else if let Some(rest) = inner.strip_prefix('\n') {
                    start += 1;
                    inner_text = rest;
                }
            }
            if inner_text == value.get_ref() {
                content = Some(whole.start + start);
            }
        }
        Site { whole, content }
    }

    /// The file range of a range of the value (the whole string where the value has escapes).
    pub fn map(&self, local: &Range<usize>) -> Range<usize> {
        match self.content {
            Some(c) => c + local.start..c + local.end,
            None => self.whole.clone(),
        }
    }
}

pub struct Builder<'t> {
    pub text: &'t str,
    pub errors: Vec<Diagnostic>,
}

impl Builder<'_> {
    pub fn at(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        let mut d = Diagnostic::new(Some(span), message);
        d.hint = hint;
        self.errors.push(d);
    }

    pub fn local(&mut self, value: &Text, offset: usize, e: LocalError) {
        let site = Site::of(self.text, value);
        let span = site.map(&(e.span.start + offset..e.span.end + offset));
        self.errors.push(Diagnostic {
            span: Some(span),
            message: e.message,
            label: e.label,
            hint: e.hint,
        });
    }

    fn whole(&mut self, value: &Text, message: impl Into<String>, hint: impl Into<String>) {
        self.at(value.span(), message, Some(hint.into()));
    }
}

/// Sorts a map's entries by their place in the file (TOML tables are read in key order).
fn in_file_order<T>(
    map: std::collections::BTreeMap<String, Spanned<T>>,
) -> Vec<(String, Spanned<T>)> {
    let mut entries: Vec<_> = map.into_iter().collect();
    entries.sort_by_key(|(_, v)| v.span().start);
    entries
}

pub fn build(path: &Path, text: &str, raw: RawFile, b: &mut Builder) -> Definition {
    let trial = Trial {
        id: raw.trial.id.clone(),
        title: raw.trial.title.clone(),
        registration: raw.trial.registration.clone(),
        horizon_months: *raw.trial.horizon_months.get_ref(),
        stages: raw.trial.stages.get_ref().clone(),
    };
    if !(trial.horizon_months > 0.0 && trial.horizon_months.is_finite()) {
        b.at(
            raw.trial.horizon_months.span(),
            "the horizon must be a positive number of months",
            None,
        );
    }
    check_stages(b, raw.trial.stages.span(), &trial.stages);

    let mut taken: Vec<(String, Range<usize>)> = Vec::new();
    let mut claim = |b: &mut Builder, name: &str, span: Range<usize>| {
        if ["diagnosis", "treatment", "molecular_test"].contains(&name) {
            b.at(
                span.clone(),
                format!("`{name}` is the name of a table"),
                Some("choose another name".into()),
            );
        }
        if let Some((_, first)) = taken.iter().find(|(n, _)| n == name) {
            let (line, _) = super::diagnostics::line_col(b.text, first.start);
            b.at(span.clone(), format!("the name `{name}` is declared twice"), Some(format!("it is first declared on line {line}; code sets, measures, observations and tumour groups share one namespace")));
        }
        taken.push((name.to_string(), span));
    };

    let mut code_sets = Vec::new();
    for (name, value) in in_file_order(raw.codes) {
        claim(b, &name, value.span());
        code_sets.push(code_set(b, name, &value));
    }

    let mut measures = Vec::new();
    let mut factors = Vec::new();
    for (name, m) in in_file_order(raw.measures) {
        claim(b, &name, m.span());
        let (measure, f) = units::measure(b, name, m.into_inner());
        measures.push(measure);
        factors.push(f);
    }

    let mut observations = Vec::new();
    for (name, o) in in_file_order(raw.observations) {
        claim(b, &name, o.span());
        let o = o.into_inner();
        observations.push(units::observation(b, name, o.code, &o.value));
    }

    let mut tumour_groups = Vec::new();
    for (name, g) in in_file_order(raw.tumour_groups) {
        let span = g.span();
        let g = g.into_inner();
        let by_name = code_sets
            .iter()
            .position(|c: &CodeSet| &c.name == g.codes.get_ref());
        let codes = match by_name {
            Some(id) => id,
            None if !g.codes.get_ref().contains(':') => {
                let known: Vec<&str> = code_sets.iter().map(|c| c.name.as_str()).collect();
                b.whole(
                    &g.codes,
                    format!("unknown code set `{}`", g.codes.get_ref()),
                    suggestion(g.codes.get_ref(), "code set", &known),
                );
                code_sets.push(empty_set(&name));
                code_sets.len() - 1
            }
            None => {
                claim(b, &name, span);
                code_sets.push(code_set(b, name.clone(), &g.codes));
                code_sets.len() - 1
            }
        };
        if code_sets[codes].vocabulary != Vocabulary::Icd10 {
            b.whole(
                &g.codes,
                "a tumour group is a set of ICD-10 codes",
                "write `icd10: C34` or name an ICD-10 code set",
            );
        }
        tumour_groups.push(TumourGroup {
            name,
            label: g.label,
            codes,
        });
    }

    let names = Names {
        code_sets: &code_sets,
        measures: &measures,
        factors: &factors,
        observations: &observations,
    };
    let mut ids: Vec<(String, Range<usize>)> = Vec::new();
    let mut criteria_of =
        |b: &mut Builder, raws: &[RawCriterion], cohort: bool| -> Vec<Criterion> {
            raws.iter()
                .map(|r| {
                    unique_id(b, &mut ids, &r.id);
                    criterion(b, &names, r, cohort)
                })
                .collect()
        };
    let criteria = criteria_of(b, &raw.criterion, false);
    let cohort_criteria = criteria_of(b, &raw.cohort_criterion, true);
    let mut drugs = Vec::new();
    for d in &raw.drug {
        let criteria = criteria_of(b, &d.criterion, true);
        drugs.push(drug(b, d, criteria, &drugs));
    }
    let mut not_assessable = Vec::new();
    for n in &raw.not_assessable {
        unique_id(b, &mut ids, &n.id);
        not_assessable.push(NotAssessable {
            id: n.id.get_ref().clone(),
            text: n.text.clone(),
            reason: n.reason.clone(),
        });
    }

    let mut cohorts: Vec<Cohort> = Vec::new();
    for c in &raw.cohort {
        if cohorts.iter().any(|k| &k.id == c.id.get_ref()) {
            b.whole(
                &c.id,
                format!("the cohort id `{}` is used twice", c.id.get_ref()),
                "give every cohort its own id",
            );
        }
        let drug_id = match drugs
            .iter()
            .position(|d: &Drug| &d.name == c.drug.get_ref())
        {
            Some(id) => id,
            None => {
                let known: Vec<&str> = drugs.iter().map(|d| d.name.as_str()).collect();
                b.whole(
                    &c.drug,
                    format!(
                        "cohort `{}` names an unknown drug `{}`",
                        c.id.get_ref(),
                        c.drug.get_ref()
                    ),
                    suggestion(c.drug.get_ref(), "drug", &known),
                );
                0
            }
        };
        let groups = group_list(b, &tumour_groups, &c.tumour_groups, true);
        let on_label = group_list(b, &tumour_groups, &c.on_label, false);
        let tumour_label = c.tumour_label.clone().unwrap_or_else(|| {
            if groups.is_empty() {
                "solid tumours".into()
            } else {
                groups
                    .iter()
                    .map(|&g| tumour_groups[g].label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        });
        if c.biomarker.is_empty() {
            b.whole(
                &c.id,
                format!("cohort `{}` has no biomarker rule", c.id.get_ref()),
                "add `biomarker = [{ gene = \"BRAF\", class = \"snv\", alteration = \"V600*\" }]`",
            );
        }
        if c.source.trim().is_empty() {
            b.whole(
                &c.id,
                format!("cohort `{}` cites no source", c.id.get_ref()),
                "cite the protocol's drug list, the SmPC or the registry entry in `source`",
            );
        }
        if let Some(own) = &c.stages {
            check_stages(b, c.id.span(), own);
        }
        let stages = c.stages.clone().unwrap_or_else(|| trial.stages.clone());
        cohorts.push(Cohort {
            id: c.id.get_ref().clone(),
            drug: drug_id,
            biomarkers: c.biomarker.iter().map(|m| biomarker(b, m)).collect(),
            biomarker_label: c.biomarker_label.clone(),
            tumour_groups: groups,
            tumour_label,
            on_label,
            stages,
            enrolled: c.enrolled,
            source: c.source.clone(),
        });
    }
    if drugs.is_empty() && !cohorts.is_empty() {
        // Every cohort already reported its unknown drug; index 0 must not dangle.
        cohorts.clear();
    }

    Definition {
        path: path.to_path_buf(),
        hash: blake3::hash(text.as_bytes()).to_hex().to_string(),
        trial,
        code_sets,
        measures,
        observations,
        tumour_groups,
        criteria,
        not_assessable,
        cohort_criteria,
        drugs,
        cohorts,
    }
}

/// A condition as reports show it: on one line, single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_stages(b: &mut Builder, span: Range<usize>, stages: &[u32]) {
    if stages.is_empty() || stages.contains(&0) || stages.windows(2).any(|w| w[0] >= w[1]) {
        b.at(
            span,
            "stages must be increasing positive patient counts",
            Some("DRUP-style staging is `stages = [8, 24]`".into()),
        );
    }
}

fn empty_set(name: &str) -> CodeSet {
    CodeSet {
        name: name.to_string(),
        vocabulary: Vocabulary::Icd10,
        patterns: Vec::new(),
        except: Vec::new(),
    }
}

fn code_set(b: &mut Builder, name: String, value: &Text) -> CodeSet {
    match codes::parse_code_set(value.get_ref()) {
        Ok(p) => CodeSet {
            name,
            vocabulary: p.vocabulary,
            patterns: p.patterns,
            except: p.except,
        },
        Err(errors) => {
            for e in errors {
                b.local(value, 0, e);
            }
            empty_set(&name)
        }
    }
}

fn unique_id(b: &mut Builder, ids: &mut Vec<(String, Range<usize>)>, id: &Text) {
    if let Some((_, first)) = ids.iter().find(|(i, _)| i == id.get_ref()) {
        let (line, _) = super::diagnostics::line_col(b.text, first.start);
        b.at(id.span(), format!("the criterion id `{}` is used twice", id.get_ref()), Some(format!("it is first used on line {line}; every criterion needs its own id (reports and patient-level output are keyed by it)")));
    } else if id.get_ref().trim().is_empty() {
        b.at(
            id.span(),
            "a criterion id is empty",
            Some("use the protocol's id, e.g. `I4b`".into()),
        );
    }
    ids.push((id.get_ref().clone(), id.span()));
}

/// Parses and resolves one condition string, reporting errors at their place.
fn condition(b: &mut Builder, names: &Names, value: &Text, offset: usize, cohort: bool) -> Cond {
    let text = &value.get_ref()[offset..];
    match parse_condition(text) {
        Ok(expr) => {
            let (cond, errors) = resolve(names, &expr, cohort);
            for e in errors {
                b.local(value, offset, e);
            }
            cond
        }
        Err(e) => {
            b.local(value, offset, e);
            Cond::Unknown
        }
    }
}

fn criterion(b: &mut Builder, names: &Names, r: &RawCriterion, cohort: bool) -> Criterion {
    let (kind, rule_value) = match (&r.include_if, &r.exclude_if) {
        (Some(v), None) => (CriterionKind::Inclusion, Some(v)),
        (None, Some(v)) => (CriterionKind::Exclusion, Some(v)),
        (Some(_), Some(v)) => {
            b.whole(v, format!("criterion `{}` has both `include_if` and `exclude_if`", r.id.get_ref()), "an inclusion criterion has `include_if`, an exclusion criterion `exclude_if`; keep one");
            (CriterionKind::Exclusion, None)
        }
        (None, None) => {
            b.whole(
                &r.id,
                format!("criterion `{}` has no rule", r.id.get_ref()),
                "add `include_if = \"...\"` (inclusion) or `exclude_if = \"...\"` (exclusion)",
            );
            (CriterionKind::Inclusion, None)
        }
    };
    let rule = rule_value
        .map(|v| condition(b, names, v, 0, cohort))
        .unwrap_or(Cond::Unknown);
    let applies_if = r
        .applies_if
        .as_ref()
        .map(|v| condition(b, names, v, 0, cohort));
    let (missing, missing_text) = match &r.missing {
        None => (MissingRule::Unknown, "unknown".to_string()),
        Some(v) => {
            let t = v.get_ref().as_str();
            let trimmed = t.trim_start();
            let lead = t.len() - trimmed.len();
            match trimmed.trim_end() {
                "unknown" => (MissingRule::Unknown, "unknown".into()),
                "pass" | "absence = pass" => (MissingRule::Pass, "absence = pass".into()),
                "fail" => (MissingRule::Fail, "fail".into()),
                s if s.starts_with("pass unless ") => {
                    let offset = lead + "pass unless ".len();
                    let cond = condition(b, names, v, offset, cohort);
                    (
                        MissingRule::PassUnless(cond),
                        format!("absence = pass, unless {}", one_line(&t[offset..])),
                    )
                }
                _ => {
                    b.whole(v, format!("`{t}` is not a missing-data rule"), "write `unknown`, `pass` (absence = pass), `fail`, or `pass unless CONDITION`");
                    (MissingRule::Unknown, "unknown".into())
                }
            }
        }
    };
    Criterion {
        id: r.id.get_ref().clone(),
        text: r.text.clone(),
        kind,
        applies_if,
        rule,
        missing,
        proxy: r.proxy,
        source: r.source.clone(),
        rule_text: rule_value
            .map(|v| one_line(v.get_ref()))
            .unwrap_or_default(),
        missing_text,
    }
}

fn drug(
    b: &mut Builder,
    d: &super::raw::RawDrug,
    criteria: Vec<Criterion>,
    earlier: &[Drug],
) -> Drug {
    if earlier.iter().any(|e| &e.name == d.name.get_ref()) {
        b.whole(
            &d.name,
            format!("the drug `{}` is declared twice", d.name.get_ref()),
            "declare each drug once; cohorts refer to it by name",
        );
    }
    let mut atc = Vec::new();
    for code in &d.atc {
        match codes::normalize_atc(code.get_ref()) {
            Ok(c) => atc.push(c),
            Err((message, hint)) => b.whole(code, message, hint),
        }
    }
    if d.atc.is_empty() {
        b.whole(
            &d.name,
            format!("the drug `{}` has no ATC code", d.name.get_ref()),
            "list the ATC code of every substance, e.g. `atc = [\"L01EC01\", \"L01EE02\"]`",
        );
    }
    let route = match d.route.get_ref().as_str() {
        "oral" => Route::Oral,
        "iv" => Route::Iv,
        other => {
            b.whole(
                &d.route,
                format!("`{other}` is not a route"),
                "a drug's route is `oral` or `iv`",
            );
            Route::Iv
        }
    };
    if d.source.trim().is_empty() {
        b.whole(
            &d.name,
            format!("the drug `{}` cites no source", d.name.get_ref()),
            "cite the SmPC or the protocol's drug list in `source`",
        );
    }
    Drug {
        name: d.name.get_ref().clone(),
        atc,
        route,
        resistance: d.resistance.iter().map(|m| biomarker(b, m)).collect(),
        criteria,
        source: d.source.clone(),
    }
}

fn biomarker(b: &mut Builder, m: &RawBiomarker) -> Biomarker {
    if m.gene.get_ref().trim().is_empty() {
        b.whole(
            &m.gene,
            "a biomarker needs a gene",
            "write the HGNC symbol (`BRAF`) or a signature (`TMB`, `MSI`)",
        );
    }
    if let Some(class) = &m.class {
        if !CLASSES.contains(&class.get_ref().as_str()) {
            b.whole(
                class,
                format!("`{}` is not a variant class", class.get_ref()),
                suggestion(class.get_ref(), "class", CLASSES),
            );
        }
    }
    Biomarker {
        gene: m.gene.get_ref().clone(),
        class: m.class.as_ref().map(|c| c.get_ref().clone()),
        alteration: m.alteration.clone(),
        min_value: m.min_value,
    }
}

fn group_list(
    b: &mut Builder,
    groups: &[TumourGroup],
    names: &[Text],
    solid_allowed: bool,
) -> Vec<usize> {
    let mut out = Vec::new();
    for n in names {
        if solid_allowed && n.get_ref() == "solid" {
            if names.len() > 1 {
                b.whole(
                    n,
                    "`solid` already takes every solid tumour",
                    "write `[\"solid\"]` alone, or list the groups",
                );
            }
            continue;
        }
        match groups.iter().position(|g| &g.name == n.get_ref()) {
            Some(i) => out.push(i),
            None => {
                let mut known: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
                if solid_allowed {
                    known.push("solid");
                }
                b.whole(
                    n,
                    format!("unknown tumour group `{}`", n.get_ref()),
                    suggestion(n.get_ref(), "tumour group", &known),
                );
            }
        }
    }
    out
}
