//! Checks a parsed condition against the names the file declares and turns it into a model
//! [`Cond`]: resolves sources, checks windows, tests and units (converting thresholds to the
//! measure's unit), and keeps cohort-only conditions out of general criteria. Collects every error.

use super::codes::{Factor, LocalError};
use super::diagnostics::suggestion;
use super::model::{
    CodeSet, Cond, Measure, MeasureValue, ObservationDef, Quantity, Query, RecordCond, Route,
    Source, Test, ValueKind, Vocabulary, Window,
};
use super::syntax::{
    Expr, ExprKind, Name, Qty, QtyKind, Rec, RecKind, TestAst, TestKind, WindowKind,
};

/// Everything a condition may name.
pub struct Names<'a> {
    pub code_sets: &'a [CodeSet],
    pub measures: &'a [Measure],
    /// Per measure: the accepted units with their exact factor (the measure's unit itself is x 1).
    pub factors: &'a [Vec<(String, Factor)>],
    pub observations: &'a [ObservationDef],
}

const TABLES: [&str; 3] = ["diagnosis", "treatment", "molecular_test"];

/// Resolves one condition. `cohort` allows the cohort-only conditions.
pub fn resolve(names: &Names, expr: &Expr, cohort: bool) -> (Cond, Vec<LocalError>) {
    let mut r = Resolver {
        names,
        cohort,
        errors: Vec::new(),
    };
    let cond = r.cond(expr);
    (cond, r.errors)
}

struct Resolver<'a, 'n> {
    names: &'a Names<'n>,
    cohort: bool,
    errors: Vec<LocalError>,
}

impl Resolver<'_, '_> {
    fn error(&mut self, error: LocalError) -> Cond {
        self.errors.push(error);
        Cond::Unknown
    }

    fn cohort_only(&mut self, span: &std::ops::Range<usize>, what: &str) -> bool {
        if !self.cohort {
            self.errors.push(
                LocalError::new(span.clone(), format!("`{what}` is a cohort condition"))
                    .label("only meaningful for a patient x cohort pair")
                    .hint("move this criterion to [[cohort_criterion]] or to a drug's [[drug.criterion]]"),
            );
        }
        self.cohort
    }

    fn code_set(&mut self, name: &Name) -> Option<usize> {
        let found = self
            .names
            .code_sets
            .iter()
            .position(|c| c.name == name.text);
        if found.is_none() {
            let known: Vec<&str> = self
                .names
                .code_sets
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            self.errors.push(
                LocalError::new(
                    name.span.clone(),
                    format!("unknown code set `{}`", name.text),
                )
                .label("not declared under [codes]")
                .hint(suggestion(&name.text, "code set", &known)),
            );
        }
        found
    }

    fn cond(&mut self, e: &Expr) -> Cond {
        match &e.kind {
            ExprKind::Const(b) => Cond::Const(*b),
            ExprKind::Unknown => Cond::Unknown,
            ExprKind::Not(x) => Cond::Not(Box::new(self.cond(x))),
            ExprKind::And(xs) => Cond::And(xs.iter().map(|x| self.cond(x)).collect()),
            ExprKind::Or(xs) => Cond::Or(xs.iter().map(|x| self.cond(x)).collect()),
            ExprKind::Confirmed(x) => Cond::Confirmed(Box::new(self.cond(x))),
            ExprKind::AliveAtIndex => Cond::AliveAtIndex,
            ExprKind::PrimaryExists => Cond::PrimaryExists,
            ExprKind::MatchedAnyCohort => Cond::MatchedAnyCohort,
            ExprKind::PrimaryIn(name) => match self.code_set(name) {
                Some(id) if self.names.code_sets[id].vocabulary != Vocabulary::Icd10 => self.error(
                    LocalError::new(name.span.clone(), format!("`{}` is not an ICD-10 code set", name.text))
                        .hint("the primary cancer is an ICD-10 diagnosis: name a set declared as `icd10: ...`"),
                ),
                Some(id) => Cond::PrimaryIn(id),
                None => Cond::Unknown,
            },
            ExprKind::SexIn(values) => {
                for v in values {
                    if !matches!(v.text.as_str(), "F" | "M" | "U") {
                        self.errors.push(
                            LocalError::new(v.span.clone(), format!("`{}` is not a sex of the extract", v.text))
                                .hint("sex is \"F\", \"M\" or \"U\" (unknown)"),
                        );
                    }
                }
                Cond::SexIn(values.iter().map(|v| v.text.clone()).collect())
            }
            ExprKind::DrugRouteIs(route) => {
                if !self.cohort_only(&e.span, "drug route is") {
                    return Cond::Unknown;
                }
                match route.text.as_str() {
                    "oral" => Cond::DrugRouteIs(Route::Oral),
                    "iv" => Cond::DrugRouteIs(Route::Iv),
                    other => self.error(
                        LocalError::new(route.span.clone(), format!("`{other}` is not a route"))
                            .hint("a drug's route is `oral` or `iv`"),
                    ),
                }
            }
            ExprKind::ResistancePresent => {
                if self.cohort_only(&e.span, "resistance biomarker present") {
                    Cond::ResistanceBiomarker
                } else {
                    Cond::Unknown
                }
            }
            ExprKind::Any {
                source,
                window,
                filter,
            } => {
                let Some(source_model) = self.source(source) else {
                    return Cond::Unknown;
                };
                let window = self.window(&source_model, source, window.as_ref());
                let filter = filter.as_ref().map(|f| self.rec(&source_model, source, f));
                Cond::Any(Query {
                    source: source_model,
                    window,
                    filter,
                })
            }
            ExprKind::Latest {
                source,
                window,
                test,
            } => {
                let Some(source_model) = self.source(source) else {
                    return Cond::Unknown;
                };
                if !matches!(source_model, Source::Measure(_) | Source::Observation(_)) {
                    let what = describe_source(self.names, &source_model);
                    return self.error(
                        LocalError::new(source.span.clone(), format!("`latest` needs a value, and `{}` is {what}", source.text))
                            .label("has no value to test")
                            .hint(format!("`latest` takes a measure or an observation; to ask whether a record exists, write `any {}`", source.text)),
                    );
                }
                let window = self.window(&source_model, source, window.as_ref());
                let Some(test) = self.test(&source_model, source, test) else {
                    return Cond::Unknown;
                };
                Cond::Latest {
                    query: Query {
                        source: source_model,
                        window,
                        filter: None,
                    },
                    test,
                }
            }
        }
    }

    fn source(&mut self, name: &Name) -> Option<Source> {
        let n = &self.names;
        match name.text.as_str() {
            "diagnosis" => return Some(Source::Diagnosis(None)),
            "treatment" => return Some(Source::Treatment(None)),
            "molecular_test" => return Some(Source::MolecularTest),
            _ => {}
        }
        if let Some(id) = n.code_sets.iter().position(|c| c.name == name.text) {
            return match n.code_sets[id].vocabulary {
                Vocabulary::Icd10 => Some(Source::Diagnosis(Some(id))),
                Vocabulary::Atc => Some(Source::Treatment(Some(id))),
                Vocabulary::Loinc => {
                    self.errors.push(
                        LocalError::new(name.span.clone(), format!("`{}` is a LOINC code set", name.text))
                            .hint("lab results are read through a measure: declare [measures.NAME] with these codes"),
                    );
                    None
                }
            };
        }
        if let Some(id) = n.measures.iter().position(|m| m.name == name.text) {
            return Some(Source::Measure(id));
        }
        if let Some(id) = n.observations.iter().position(|o| o.name == name.text) {
            return Some(Source::Observation(id));
        }
        let mut known: Vec<&str> = TABLES.to_vec();
        known.extend(n.code_sets.iter().map(|c| c.name.as_str()));
        known.extend(n.measures.iter().map(|m| m.name.as_str()));
        known.extend(n.observations.iter().map(|o| o.name.as_str()));
        self.errors.push(
            LocalError::new(name.span.clone(), format!("unknown name `{}`", name.text))
                .label("not a code set, measure, observation or table")
                .hint(suggestion(&name.text, "name", &known)),
        );
        None
    }

    fn window(
        &mut self,
        source: &Source,
        name: &Name,
        window: Option<&super::syntax::WindowAst>,
    ) -> Window {
        let Some(window) = window else {
            return Window::UpToIndex;
        };
        match window.kind {
            WindowKind::Within(days) => Window::WithinDays(days),
            WindowKind::Ongoing | WindowKind::OngoingOrEndedWithin(_) => {
                let grace_days = match window.kind {
                    WindowKind::OngoingOrEndedWithin(d) => d,
                    _ => 0,
                };
                if matches!(source, Source::Treatment(_)) {
                    Window::Ongoing { grace_days }
                } else {
                    let what = describe_source(self.names, source);
                    self.errors.push(
                        LocalError::new(
                            window.span.clone(),
                            format!(
                                "`ongoing` makes no sense for `{}`, which is {what}",
                                name.text
                            ),
                        )
                        .label("only treatments are ongoing")
                        .hint(
                            "use `within N days`, or no window (every record up to the index date)",
                        ),
                    );
                    Window::UpToIndex
                }
            }
        }
    }

    fn test(&mut self, source: &Source, name: &Name, test: &TestAst) -> Option<Test> {
        match (source, &test.kind) {
            (Source::Measure(id), TestKind::Compare(op, qty)) => {
                let q = self.quantity(Some(*id), name, qty)?;
                Some(Test::Compare(*op, q))
            }
            (Source::Observation(id), TestKind::Compare(op, qty)) => {
                let obs = &self.names.observations[*id];
                if obs.kind == ValueKind::Text {
                    self.errors.push(
                        LocalError::new(
                            test.span.clone(),
                            format!(
                                "`{}` is a text observation and cannot be compared with a number",
                                name.text
                            ),
                        )
                        .hint(text_values_hint(obs)),
                    );
                    return None;
                }
                let q = self.quantity(None, name, qty)?;
                Some(Test::Compare(*op, q))
            }
            (Source::Observation(id), TestKind::Is(value)) => {
                self.text_values(*id, name, test, std::slice::from_ref(value))
            }
            (Source::Observation(id), TestKind::In(values)) => {
                self.text_values(*id, name, test, values)
            }
            (_, _) => {
                self.errors.push(
                    LocalError::new(
                        test.span.clone(),
                        format!("`{}` is a number: a text test does not apply", name.text),
                    )
                    .hint("compare it with a threshold, e.g. `> 9 g/dL`"),
                );
                None
            }
        }
    }

    fn text_values(
        &mut self,
        id: usize,
        name: &Name,
        test: &TestAst,
        values: &[Name],
    ) -> Option<Test> {
        let obs = &self.names.observations[id];
        if obs.kind == ValueKind::Number {
            self.errors.push(
                LocalError::new(
                    test.span.clone(),
                    format!(
                        "`{}` is a number observation: a text test does not apply",
                        name.text
                    ),
                )
                .hint("compare it with a number, e.g. `<= 2`"),
            );
            return None;
        }
        if let Some(domain) = &obs.text_domain {
            for v in values {
                if !domain.contains(&v.text) {
                    let known: Vec<&str> = domain.iter().map(String::as_str).collect();
                    let hint = match super::diagnostics::closest(&v.text, known.iter().copied()) {
                        Some(best) => format!("did you mean \"{best}\"? {}", text_values_hint(obs)),
                        None => text_values_hint(obs),
                    };
                    self.errors.push(
                        LocalError::new(
                            v.span.clone(),
                            format!("\"{}\" is not a value of `{}`", v.text, name.text),
                        )
                        .hint(hint),
                    );
                }
            }
        }
        Some(Test::In(values.iter().map(|v| v.text.clone()).collect()))
    }

    /// A threshold, converted to the measure's unit (`measure` None: a unitless observation).
    fn quantity(&mut self, measure: Option<usize>, name: &Name, qty: &Qty) -> Option<Quantity> {
        match &qty.kind {
            QtyKind::If(cond, then, otherwise) => {
                let cond = self.cond(cond);
                let then = self.quantity(measure, name, then);
                let otherwise = self.quantity(measure, name, otherwise);
                Some(Quantity::If(
                    Box::new(cond),
                    Box::new(then?),
                    Box::new(otherwise?),
                ))
            }
            QtyKind::Number { value, unit } => match (measure, unit) {
                (None, None) => Some(Quantity::Number(*value)),
                (None, Some(unit)) => {
                    self.errors.push(
                        LocalError::new(unit.span.clone(), format!("`{}` has no unit", name.text))
                            .hint("write the number alone, e.g. `<= 2`"),
                    );
                    None
                }
                (Some(id), None) => {
                    let unit = &self.names.measures[id].unit;
                    self.errors.push(
                        LocalError::new(qty.span.clone(), "this threshold has no unit").hint(
                            format!(
                                "`{}` is in {unit}: write for example `{value} {unit}`",
                                name.text
                            ),
                        ),
                    );
                    None
                }
                (Some(id), Some(unit)) => {
                    self.convert(id, name, *value, unit).map(Quantity::Number)
                }
            },
        }
    }

    fn convert(&mut self, id: usize, name: &Name, value: f64, unit: &Name) -> Option<f64> {
        let measure = &self.names.measures[id];
        if unit.text == measure.unit {
            return Some(value);
        }
        let ratio = matches!(measure.value, MeasureValue::RatioToUln { .. });
        if !ratio {
            if let Some((_, factor)) = self.names.factors[id].iter().find(|(u, _)| *u == unit.text)
            {
                return Some(factor.apply(value));
            }
        }
        let accepted: Vec<&str> = std::iter::once(measure.unit.as_str())
            .chain(
                self.names.factors[id]
                    .iter()
                    .filter(|_| !ratio)
                    .map(|(u, _)| u.as_str()),
            )
            .collect();
        let hint = if ratio {
            format!("`{}` is a ratio to the upper limit of normal: write the threshold in xULN, e.g. `< 1.5 xULN`", name.text)
        } else {
            format!(
                "write the threshold in {}, or declare a conversion under [measures.{}] convert",
                accepted.join(" or "),
                name.text
            )
        };
        self.errors.push(
            LocalError::new(
                unit.span.clone(),
                format!(
                    "`{}` is in {}; {} cannot be converted",
                    name.text, measure.unit, unit.text
                ),
            )
            .label("unit not convertible")
            .hint(hint),
        );
        None
    }

    fn rec(&mut self, source: &Source, name: &Name, rec: &Rec) -> RecordCond {
        let wrong = |what: &str, applies: &str| {
            LocalError::new(
                rec.span.clone(),
                format!("`{what}` does not apply to `{}`", name.text),
            )
            .hint(format!("`{what}` applies to {applies} records"))
        };
        match &rec.kind {
            RecKind::Not(x) => RecordCond::Not(Box::new(self.rec(source, name, x))),
            RecKind::And(xs) => {
                RecordCond::And(xs.iter().map(|x| self.rec(source, name, x)).collect())
            }
            RecKind::Or(xs) => {
                RecordCond::Or(xs.iter().map(|x| self.rec(source, name, x)).collect())
            }
            RecKind::Person(e) => RecordCond::Person(Box::new(self.cond(e))),
            RecKind::AtcIn(set) | RecKind::CodeIn(set) => {
                let atc_only = matches!(rec.kind, RecKind::AtcIn(_));
                let wanted = match source {
                    Source::Treatment(_) => Vocabulary::Atc,
                    Source::Diagnosis(_) if !atc_only => Vocabulary::Icd10,
                    _ => {
                        let what = if atc_only { "atc in" } else { "code in" };
                        self.errors.push(wrong(
                            what,
                            if atc_only {
                                "treatment"
                            } else {
                                "diagnosis or treatment"
                            },
                        ));
                        return RecordCond::Person(Box::new(Cond::Unknown));
                    }
                };
                match self.code_set(set) {
                    Some(id) if self.names.code_sets[id].vocabulary == wanted => {
                        RecordCond::CodeIn(id)
                    }
                    Some(_) => {
                        self.errors.push(
                            LocalError::new(
                                set.span.clone(),
                                format!(
                                    "`{}` holds codes of another vocabulary than these records",
                                    set.text
                                ),
                            )
                            .hint("treatments are matched on ATC sets, diagnoses on ICD-10 sets"),
                        );
                        RecordCond::CodeIn(0)
                    }
                    None => RecordCond::CodeIn(0),
                }
            }
            RecKind::KindIs(kind) => {
                if !matches!(source, Source::Treatment(_)) {
                    self.errors.push(wrong("kind is", "treatment"));
                } else if !matches!(kind.text.as_str(), "drug" | "radiotherapy") {
                    self.errors.push(
                        LocalError::new(
                            kind.span.clone(),
                            format!("\"{}\" is not a treatment kind", kind.text),
                        )
                        .hint("a treatment's kind is \"drug\" or \"radiotherapy\""),
                    );
                }
                RecordCond::KindIs(kind.text.clone())
            }
            RecKind::StartedAtLeastDaysBefore(days) => {
                if !matches!(source, Source::Treatment(_)) {
                    self.errors
                        .push(wrong("started at least ... before index", "treatment"));
                }
                RecordCond::StartedAtLeastDaysBefore(*days)
            }
            RecKind::ApprovedLab => {
                if !matches!(source, Source::MolecularTest) {
                    self.errors.push(wrong("approved lab", "molecular_test"));
                }
                RecordCond::ApprovedLab
            }
            RecKind::ValueIsDrugAtc => {
                self.cohort_only(&rec.span, "value is drug atc");
                let text_obs = matches!(source, Source::Observation(id) if self.names.observations[*id].kind == ValueKind::Text);
                if !text_obs {
                    self.errors.push(wrong(
                        "value is drug atc",
                        "text observation (such as `allergy`)",
                    ));
                }
                RecordCond::ValueIsDrugAtc
            }
            RecKind::AtcIsDrugAtc => {
                self.cohort_only(&rec.span, "atc is drug atc");
                if !matches!(source, Source::Treatment(_)) {
                    self.errors.push(wrong("atc is drug atc", "treatment"));
                }
                RecordCond::AtcIsDrugAtc
            }
        }
    }
}

fn text_values_hint(obs: &ObservationDef) -> String {
    match &obs.text_domain {
        Some(values) => format!(
            "`{}` takes {}",
            obs.name,
            values
                .iter()
                .map(|v| format!("\"{v}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!(
            "test it with `is \"...\"` or `in [...]`: `{}` is text",
            obs.name
        ),
    }
}

fn describe_source(names: &Names, source: &Source) -> String {
    match source {
        Source::Diagnosis(Some(_)) => "an ICD-10 code set (diagnosis records)".into(),
        Source::Diagnosis(None) => "the diagnosis table".into(),
        Source::Treatment(Some(_)) => "an ATC code set (treatment records)".into(),
        Source::Treatment(None) => "the treatment table".into(),
        Source::MolecularTest => "the molecular_test table".into(),
        Source::Measure(id) => format!("a measure (in {})", names.measures[*id].unit),
        Source::Observation(_) => "an observation".into(),
    }
}
