//! Measures and observations: units and their conversions (`convert = { "g/L" = "/ 10" }`), what a
//! value is (`ratio to ULN`, `eGFR CKD-EPI 2021 from creatinine 2160-0`), the ULN fallback, and the
//! value kind and domain of observations (`number 0..5`, `text: local, metastatic`).

use super::build::Builder;
use super::codes::{self, Factor};
use super::model::{Conversion, Measure, MeasureValue, ObservationDef, ValueKind};
use super::raw::{RawMeasure, Text};

/// The unit of a measure whose value is a ratio to the upper limit of normal.
pub const XULN: &str = "xULN";
const EGFR_PREFIX: &str = "eGFR CKD-EPI 2021 from creatinine";

fn factors(
    b: &mut Builder,
    map: &std::collections::BTreeMap<String, Text>,
) -> Vec<(String, Factor)> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by_key(|(_, v)| v.span().start);
    for (unit, text) in entries {
        match codes::parse_factor(text.get_ref()) {
            Ok(f) => out.push((unit.clone(), f)),
            Err((message, hint)) => b.at(text.span(), message, Some(hint)),
        }
    }
    out
}

/// Builds a measure; returns it with the exact factors that thresholds may be converted with.
pub fn measure(b: &mut Builder, name: String, m: RawMeasure) -> (Measure, Vec<(String, Factor)>) {
    let mut loinc = Vec::new();
    for code in &m.loinc {
        match codes::normalize_loinc(code.get_ref()) {
            Ok(c) => loinc.push(c),
            Err((message, hint)) => b.at(code.span(), message, Some(hint)),
        }
    }
    if m.loinc.is_empty() {
        b.at(
            m.unit.span(),
            format!("the measure `{name}` lists no LOINC code"),
            Some("add `loinc = [\"718-7\"]`".into()),
        );
    }
    let base = m.unit.get_ref().trim().to_string();
    if base.is_empty() || base == XULN {
        b.at(
            m.unit.span(),
            "a measure needs the unit its values are read in",
            Some(
                "write the lab unit (`g/dL`); for a ratio to ULN add `value = \"ratio to ULN\"`"
                    .into(),
            ),
        );
    }
    let convert = factors(b, &m.convert);
    let value_text = m.value.as_ref().map(|v| v.get_ref().trim().to_string());
    let domain = m.domain.as_ref().map(|d| {
        let [low, high] = *d.get_ref();
        if low.partial_cmp(&high).is_none_or(|o| o.is_gt()) {
            b.at(
                d.span(),
                "the domain's low end is above its high end",
                Some("write `domain = [low, high]`".into()),
            );
        }
        (low, high)
    });
    let mut conversions: Vec<Conversion> = convert
        .iter()
        .map(|(u, f)| Conversion {
            from: u.clone(),
            factor: f.multiplier(),
        })
        .collect();
    let mut threshold_factors = convert.clone();
    let value = match value_text.as_deref() {
        None | Some("value") => MeasureValue::Value,
        Some(t) if t.eq_ignore_ascii_case("ratio to ULN") => {
            // The ratio's unit is xULN; values are first brought to the lab unit (`base`), so
            // that unit is listed as a conversion of its own (x 1) for the engine.
            let fallback = match &m.uln_fallback {
                Some(f) => parse_amount(b, &name, f, &base, &convert),
                None => {
                    b.at(m.unit.span(), format!("the measure `{name}` is a ratio to ULN but has no `uln_fallback`"), Some(format!("add `uln_fallback = \"21 {base}\"`: the ULN used where a record has no range_high")));
                    None
                }
            };
            conversions.insert(
                0,
                Conversion {
                    from: base.clone(),
                    factor: 1.0,
                },
            );
            threshold_factors.clear();
            MeasureValue::RatioToUln {
                fallback: fallback.unwrap_or(f64::NAN),
            }
        }
        Some(t) if t.starts_with(EGFR_PREFIX) => {
            let mut creatinine = Vec::new();
            let value = m.value.as_ref().map(|v| v.span()).unwrap_or(0..0);
            for code in t[EGFR_PREFIX.len()..]
                .split([',', ' '])
                .filter(|c| !c.is_empty())
            {
                if !m.loinc.iter().any(|l| l.get_ref() == code) {
                    b.at(
                        value.clone(),
                        format!("`{code}` is not one of the LOINC codes of `{name}`"),
                        Some("list the creatinine code in `loinc` too".into()),
                    );
                }
                creatinine.push(code.to_string());
            }
            if creatinine.is_empty() {
                b.at(
                    value.clone(),
                    "name the creatinine LOINC code",
                    Some(format!("write `{EGFR_PREFIX} 2160-0`")),
                );
            }
            // Creatinine becomes mg/dL (x 1 for mg/dL itself, then `creatinine_convert`); these
            // units must not be units of the result as well.
            let creat = factors(b, &m.creatinine_convert);
            for (unit, _) in
                std::iter::once(&("mg/dL".to_string(), Factor::Times(1.0))).chain(creat.iter())
            {
                if *unit == base || convert.iter().any(|(u, _)| u == unit) {
                    b.at(
                        value.clone(),
                        format!("`{unit}` is both a creatinine unit and a unit of `{name}`"),
                        Some(
                            "creatinine units (mg/dL, umol/L) and clearance units must differ"
                                .into(),
                        ),
                    );
                }
            }
            let mut creatinine_units = vec![Conversion {
                from: "mg/dL".into(),
                factor: 1.0,
            }];
            creatinine_units.extend(creat.iter().map(|(u, f)| Conversion {
                from: u.clone(),
                factor: f.multiplier(),
            }));
            MeasureValue::EgfrFromCreatinine {
                creatinine_loinc: creatinine,
                creatinine_units,
            }
        }
        Some(other) => {
            let span = m.value.as_ref().map(|v| v.span()).unwrap_or(0..0);
            b.at(
                span,
                format!("`{other}` is not a kind of measure value"),
                Some(format!(
                    "write `value`, `ratio to ULN`, or `{EGFR_PREFIX} 2160-0`"
                )),
            );
            MeasureValue::Value
        }
    };
    if !m.creatinine_convert.is_empty() && !matches!(value, MeasureValue::EgfrFromCreatinine { .. })
    {
        b.at(
            m.unit.span(),
            format!("`creatinine_convert` is only for eGFR measures, and `{name}` is not one"),
            None,
        );
    }
    if m.uln_fallback.is_some() && !matches!(value, MeasureValue::RatioToUln { .. }) {
        b.at(
            m.unit.span(),
            format!("`uln_fallback` is only for ratio-to-ULN measures, and `{name}` is not one"),
            Some("add `value = \"ratio to ULN\"`".into()),
        );
    }
    let unit = if matches!(value, MeasureValue::RatioToUln { .. }) {
        XULN.to_string()
    } else {
        base
    };
    (
        Measure {
            name,
            loinc,
            unit,
            conversions,
            value,
            domain,
        },
        threshold_factors,
    )
}

/// `21 umol/L` in the measure's lab unit (converted where the unit is a declared conversion).
fn parse_amount(
    b: &mut Builder,
    name: &str,
    text: &Text,
    base: &str,
    convert: &[(String, Factor)],
) -> Option<f64> {
    let t = text.get_ref().trim();
    let (number, unit) = t
        .split_once(' ')
        .map(|(n, u)| (n, u.trim()))
        .unwrap_or((t, ""));
    let Ok(value) = number.parse::<f64>() else {
        b.at(
            text.span(),
            format!("`{t}` is not an amount"),
            Some(format!("write a number and its unit, e.g. `21 {base}`")),
        );
        return None;
    };
    if !(value > 0.0 && value.is_finite()) {
        b.at(text.span(), "the ULN fallback must be positive", None);
        return None;
    }
    if unit == base {
        return Some(value);
    }
    if let Some((_, f)) = convert.iter().find(|(u, _)| u == unit) {
        return Some(f.apply(value));
    }
    b.at(
        text.span(),
        format!("`{name}` is in {base}; `{unit}` cannot be converted"),
        Some(format!("write the fallback in {base}")),
    );
    None
}

/// `number`, `number 0..5`, `text`, `text: a, b, c`.
pub fn observation(b: &mut Builder, name: String, code: String, value: &Text) -> ObservationDef {
    let t = value.get_ref().trim();
    let hint = "write `number`, `number 0..5`, `text` or `text: local, metastatic`";
    let mut def = ObservationDef {
        name,
        code,
        kind: ValueKind::Text,
        number_domain: None,
        text_domain: None,
    };
    if let Some(rest) = t.strip_prefix("number") {
        def.kind = ValueKind::Number;
        let rest = rest.trim();
        if !rest.is_empty() {
            let range = rest.split_once("..").and_then(|(l, h)| {
                Some((l.trim().parse::<f64>().ok()?, h.trim().parse::<f64>().ok()?))
            });
            match range {
                Some((l, h)) if l <= h => def.number_domain = Some((l, h)),
                _ => b.at(
                    value.span(),
                    format!("`{rest}` is not a range"),
                    Some(hint.into()),
                ),
            }
        }
    } else if let Some(rest) = t.strip_prefix("text") {
        let rest = rest.trim();
        if let Some(list) = rest.strip_prefix(':') {
            let values: Vec<String> = list
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                b.at(
                    value.span(),
                    "the list of text values is empty",
                    Some(hint.into()),
                );
            }
            def.text_domain = Some(values);
        } else if !rest.is_empty() {
            b.at(
                value.span(),
                format!("`{t}` is not a value kind"),
                Some(hint.into()),
            );
        }
    } else {
        b.at(
            value.span(),
            format!("`{t}` is not a value kind"),
            Some(hint.into()),
        );
    }
    def
}
