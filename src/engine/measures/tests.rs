//! The kernel against a second implementation: the polars expressions it replaced (kept here as
//! the oracle), on every (LOINC, unit) pair of the shipped definition crossed with edge values
//! (null, NaN, negative, zero, infinite; ULN missing, zero, negative, NaN; sex U or missing; age
//! missing); and a few values worked out by hand.

use polars::prelude::*;

use super::*;
use crate::engine::kernel::tests::shipped;
use crate::engine::records::one_of;

/// The measure's value as polars expressions (the engine's code before the kernel), null where
/// the record is not of the measure.
fn oracle_value(measure: &Measure) -> Expr {
    let converted = convert(col("value"), measure);
    let value = match &measure.value {
        MeasureValue::Value => converted,
        MeasureValue::RatioToUln { fallback } => when(
            converted
                .clone()
                .is_not_null()
                .and(col("range_high").gt(lit(0.0))),
        )
        .then(col("value") / col("range_high"))
        .otherwise(converted / lit(*fallback)),
        MeasureValue::EgfrFromCreatinine {
            creatinine_loinc,
            creatinine_units,
        } => when(one_of(col("code"), creatinine_loinc))
            .then(oracle_egfr(convert_by(col("value"), creatinine_units)))
            .otherwise(converted),
    };
    let valid = value.clone().gt_eq(lit(0.0));
    let valid = match measure.domain {
        Some((low, high)) => valid.and(
            value
                .clone()
                .gt_eq(lit(low))
                .and(value.clone().lt_eq(lit(high))),
        ),
        None => valid,
    };
    let value = when(valid)
        .then(value)
        .otherwise(lit(NULL).cast(DataType::Float64));
    when(one_of(col("code"), &measure.loinc).fill_null(lit(false)))
        .then(value)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

fn convert(value: Expr, measure: &Measure) -> Expr {
    when(col("unit").eq(lit(measure.unit.as_str())))
        .then(value.clone())
        .otherwise(convert_by(value, &measure.conversions))
}

fn convert_by(value: Expr, conversions: &[Conversion]) -> Expr {
    let mut converted = lit(NULL).cast(DataType::Float64);
    for conversion in conversions.iter().rev() {
        converted = when(col("unit").eq(lit(conversion.from.as_str())))
            .then(value.clone() * lit(conversion.factor))
            .otherwise(converted);
    }
    converted
}

fn oracle_convertible(measure: &Measure) -> Expr {
    let units = |conversions: &[Conversion], own: Option<&str>| {
        let mut units: Vec<&str> = own.into_iter().collect();
        units.extend(conversions.iter().map(|c| c.from.as_str()));
        one_of(col("unit"), &units)
    };
    let known = units(&measure.conversions, Some(measure.unit.as_str()));
    let known = match &measure.value {
        MeasureValue::EgfrFromCreatinine {
            creatinine_loinc,
            creatinine_units,
        } => when(one_of(col("code"), creatinine_loinc))
            .then(units(creatinine_units, None))
            .otherwise(known),
        _ => known,
    };
    known.fill_null(lit(false))
}

fn oracle_egfr(scr_mg_dl: Expr) -> Expr {
    let female = col("p_sex").eq(lit("F"));
    let male = col("p_sex").eq(lit("M"));
    let kappa = when(female.clone())
        .then(lit(0.7))
        .when(male.clone())
        .then(lit(0.9))
        .otherwise(lit(NULL).cast(DataType::Float64));
    let alpha = when(female.clone())
        .then(lit(-0.241))
        .otherwise(lit(-0.302));
    let ratio = scr_mg_dl.clone() / kappa;
    let low = when(ratio.clone().lt(lit(1.0)))
        .then(ratio.clone())
        .otherwise(lit(1.0));
    let high = when(ratio.clone().gt(lit(1.0)))
        .then(ratio)
        .otherwise(lit(1.0));
    let age = col("p_age").cast(DataType::Float64);
    let sex_factor = when(female.clone()).then(lit(1.012)).otherwise(lit(1.0));
    let egfr =
        lit(142.0) * low.pow(alpha) * high.pow(lit(-1.200)) * lit(0.9938).pow(age) * sex_factor;
    let computable = female
        .or(male)
        .and(col("p_age").is_not_null())
        .and(scr_mg_dl.is_not_null())
        .fill_null(lit(false));
    when(computable)
        .then(egfr)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// A Float64 column of `out`.
fn floats(out: &DataFrame, name: &str) -> Vec<Option<f64>> {
    out.column(name).unwrap().f64().unwrap().iter().collect()
}

/// Every code and unit of the definition (units also padded with spaces), an unknown one and
/// none, crossed with edge values.
fn grid(definition: &Definition) -> DataFrame {
    let mut codes: Vec<Option<String>> = vec![None, Some("0000-0".into())];
    let mut units: Vec<Option<String>> = vec![None, Some("furlong".into())];
    for measure in &definition.measures {
        codes.extend(measure.loinc.iter().cloned().map(Some));
        let mut own = vec![measure.unit.clone()];
        own.extend(measure.conversions.iter().map(|c| c.from.clone()));
        if let MeasureValue::EgfrFromCreatinine {
            creatinine_loinc,
            creatinine_units,
        } = &measure.value
        {
            codes.extend(creatinine_loinc.iter().cloned().map(Some));
            own.extend(creatinine_units.iter().map(|c| c.from.clone()));
        }
        for unit in own {
            units.push(Some(format!(" {unit}\t")));
            units.push(Some(unit));
        }
    }
    codes.dedup();
    let values = [
        None,
        Some(f64::NAN),
        Some(-1.0),
        Some(0.0),
        Some(0.5),
        Some(1.45),
        Some(9.0),
        Some(90.0),
        Some(5000.0),
        Some(f64::INFINITY),
    ];
    let highs = [None, Some(0.0), Some(-2.0), Some(f64::NAN), Some(40.0)];
    let sexes = [Some("F"), Some("M"), Some("U"), None];
    let ages = [None, Some(0), Some(65)];
    let (mut code, mut unit, mut value, mut high, mut sex, mut age) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for c in &codes {
        for u in &units {
            for v in values {
                for h in highs {
                    for s in sexes {
                        for a in ages {
                            code.push(c.clone());
                            unit.push(u.clone());
                            value.push(v);
                            high.push(h);
                            sex.push(s);
                            age.push(a);
                        }
                    }
                }
            }
        }
    }
    df![
        "code" => code,
        "unit" => unit,
        "value" => value,
        "range_high" => high,
        "p_sex" => sex,
        "p_age" => age,
    ]
    .unwrap()
}

/// Equal, or a few units in the last place apart: polars divides by a constant by multiplying by
/// its reciprocal (1.45 x (1/21) = 0.06904761904761904), the kernel divides (0.06904761904761905,
/// correctly rounded, as SQL engines do).
fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a == b
                || (a.is_nan() && b.is_nan())
                || (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs())
        }
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn kernel_agrees_with_the_polars_expressions_on_every_code_unit_and_edge_value() {
    let definition = shipped();
    let rules = Arc::new(MeasureRules::new(&definition));
    let frame = grid(&definition);
    let m = definition.measures.len();
    let mut kernel = vec![rules.unconvertible().alias("unconvertible")];
    let mut oracle = Vec::new();
    let mut relevant = Vec::new();
    let mut convertible = Vec::new();
    for (i, measure) in definition.measures.iter().enumerate() {
        kernel.push(rules.value(i).alias(format!("kernel_{i}")));
        oracle.push(oracle_value(measure).alias(format!("oracle_{i}")));
        let of = one_of(col("code"), &measure.loinc);
        relevant.push(of.clone());
        convertible.push(of.and(oracle_convertible(measure)));
    }
    let unconvertible = relevant
        .into_iter()
        .reduce(Expr::or)
        .unwrap()
        .and(convertible.into_iter().reduce(Expr::or).unwrap().not());
    // The kernel trims units where it reads them; the expressions read them trimmed.
    let trimmed = frame
        .clone()
        .lazy()
        .with_column(col("unit").str().strip_chars(lit(NULL)));
    let out = frame
        .lazy()
        .with_column(rules.key().alias(MEASURE_KEY))
        .with_columns(kernel)
        .collect()
        .unwrap()
        .hstack(
            trimmed
                .select(
                    oracle
                        .into_iter()
                        .chain([unconvertible.alias("oracle_unconvertible")])
                        .collect::<Vec<_>>(),
                )
                .collect()
                .unwrap()
                .columns(),
        )
        .unwrap();
    assert!(out.height() > 100_000, "the grid covers the pairs");
    let mut compared = 0;
    for i in 0..m {
        let kernel = out.column(&format!("kernel_{i}")).unwrap().f64().unwrap();
        let oracle = out.column(&format!("oracle_{i}")).unwrap().f64().unwrap();
        for (row, (k, o)) in kernel.iter().zip(oracle.iter()).enumerate() {
            assert!(
                same(k, o),
                "measure {}: kernel {k:?}, polars {o:?} on {:?}",
                definition.measures[i].name,
                out.get_row(row).unwrap()
            );
            compared += usize::from(o.is_some());
        }
    }
    assert!(compared > 10_000, "values were compared, not only nulls");
    let kernel = out.column("unconvertible").unwrap().bool().unwrap();
    let oracle = out.column("oracle_unconvertible").unwrap().bool().unwrap();
    for (row, (k, o)) in kernel.iter().zip(oracle.iter()).enumerate() {
        assert_eq!(
            k,
            Some(o.unwrap_or(false)),
            "unconvertible on {:?}",
            out.get_row(row).unwrap()
        );
    }
}

#[test]
fn values_worked_out_by_hand() {
    let definition = shipped();
    let rules = Arc::new(MeasureRules::new(&definition));
    let named = |name: &str| {
        definition
            .measures
            .iter()
            .position(|m| m.name == name)
            .unwrap()
    };
    let (hb, bilirubin, renal) = (
        named("haemoglobin"),
        named("bilirubin_uln"),
        named("renal_function"),
    );
    let frame = df![
        "code" => ["718-7", "718-7", "718-7", "718-7", "1975-2", "1975-2", "2160-0", "2160-0", "2160-0", "98979-8"],
        "unit" => ["g/L", " mmol/L ", "g/dL", "mg/L", "umol/L", "umol/L", "mg/dL", "umol/L", "mg/dL", "mL/min"],
        "value" => [90.0, 5.6, 9.0, 9.0, 30.0, 30.0, 1.45, 128.2090, 1.45, 55.0],
        "range_high" => [None, None, None, None, Some(20.0), None, None, None, None, None],
        "p_sex" => ["F", "F", "F", "F", "F", "F", "F", "F", "U", "M"],
        "p_age" => [65, 65, 65, 65, 65, 65, 65, 65, 65, 65],
    ]
    .unwrap();
    let out = frame
        .lazy()
        .with_column(rules.key().alias(MEASURE_KEY))
        .with_columns([
            rules.value(hb).alias("hb"),
            rules.value(bilirubin).alias("bilirubin"),
            rules.value(renal).alias("renal"),
            rules.unconvertible().alias("unconvertible"),
        ])
        .collect()
        .unwrap();
    let values = |name: &str| floats(&out, name);
    let hb = values("hb");
    // 90 g/L = 9 g/dL; 5.6 mmol/L x 1.611 = 9.0216 g/dL; mg/L is no haemoglobin unit.
    assert!((hb[0].unwrap() - 9.0).abs() < 1e-12);
    assert!((hb[1].unwrap() - 9.0216).abs() < 1e-9);
    assert_eq!(hb[2], Some(9.0));
    assert_eq!(hb[3], None);
    let bilirubin = values("bilirubin");
    // 30 umol/L against the record's ULN 20: 1.5 x ULN; without a ULN the definition's fallback.
    assert_eq!(bilirubin[4], Some(1.5));
    let fallback = match definition.measures[named("bilirubin_uln")].value {
        MeasureValue::RatioToUln { fallback } => fallback,
        _ => unreachable!("bilirubin is a ratio to ULN"),
    };
    assert_eq!(bilirubin[5], Some(30.0 / fallback));
    let renal = values("renal");
    // CKD-EPI 2021, F 65, creatinine 1.45 mg/dL: 40.03 (tests/criteria.rs works it out); the
    // same creatinine in umol/L (x 88.42); sex U gives none; an eGFR as reported is kept.
    assert!((renal[6].unwrap() - 40.03).abs() < 0.005, "{:?}", renal[6]);
    assert!((renal[7].unwrap() - renal[6].unwrap()).abs() < 1e-3);
    assert_eq!(renal[8], None);
    assert_eq!(renal[9], Some(55.0));
    let unconvertible: Vec<Option<bool>> = out
        .column("unconvertible")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(unconvertible[3], Some(true), "haemoglobin in mg/L");
    assert_eq!(unconvertible[0], Some(false));
}

#[test]
fn two_measures_of_one_code_each_get_their_value() {
    // Haemoglobin in g/dL (the shipped measure) and the same LOINC code as a second measure in
    // g/L with a domain of 50-200 g/L: a record counts for both, each in its own unit.
    let mut definition = shipped();
    let hb = definition
        .measures
        .iter()
        .position(|m| m.name == "haemoglobin")
        .unwrap();
    let mut in_g_l = definition.measures[hb].clone();
    in_g_l.name = "haemoglobin_g_l".into();
    in_g_l.unit = "g/L".into();
    in_g_l.conversions = vec![Conversion {
        from: "g/dL".into(),
        factor: 10.0,
    }];
    in_g_l.domain = Some((50.0, 200.0));
    definition.measures.push(in_g_l);
    let g_l = definition.measures.len() - 1;
    let rules = Arc::new(MeasureRules::new(&definition));
    let frame = df![
        "code" => ["718-7", "718-7", "718-7", "718-7"],
        "unit" => ["g/dL", "g/L", "mmol/L", "g/dL"],
        "value" => [9.0, 95.0, 5.6, 4.0],
        "range_high" => [None::<f64>, None, None, None],
        "p_sex" => ["F", "F", "F", "F"],
        "p_age" => [65, 65, 65, 65],
    ]
    .unwrap();
    let out = frame
        .lazy()
        .with_column(rules.key().alias(MEASURE_KEY))
        .select([rules.value(hb).alias("hb"), rules.value(g_l).alias("g_l")])
        .collect()
        .unwrap();
    let values = |name: &str| floats(&out, name);
    assert_eq!(
        values("hb"),
        [Some(9.0), Some(9.5), Some(5.6 * 1.611), Some(4.0)]
    );
    // mmol/L is not among the second measure's units; 4 g/dL is 40 g/L, below its domain.
    assert_eq!(values("g_l"), [Some(90.0), Some(95.0), None, None]);
}

#[test]
fn age_factor_is_the_power_it_looks_up() {
    // The same bits as the `powf` it replaces, inside the table, at its edges and outside it.
    for age in -5..=200 {
        let computed = 0.9938f64.powf(f64::from(age));
        assert_eq!(age_factor(age).to_bits(), computed.to_bits(), "age {age}");
    }
    // 0.9938^60 = exp(60 x ln 0.9938) = exp(-0.373152) = 0.688556.
    assert!((age_factor(60) - 0.688556).abs() < 1e-6);
    assert_eq!(age_factor(0), 1.0);
}

/// A remembered power has the bits of `powf` on the same base and exponent: creatinine ratios
/// repeated (hits), more distinct bases than the table has slots (evictions, slots shared), the
/// CKD-EPI exponents and others, and the edges (0, subnormal, negative, infinite, NaN bases; a
/// NaN exponent).
#[test]
fn remembered_powers_are_the_powers() {
    let exponents = [-0.241, -0.302, -1.2, 0.5, f64::NAN];
    let mut bases: Vec<f64> = (0..5_000).map(|i| f64::from(i % 3_000) / 1_000.0).collect();
    bases.extend([
        0.0,
        -0.0,
        f64::MIN_POSITIVE / 2.0,
        -1.5,
        f64::INFINITY,
        f64::NAN,
    ]);
    for round in 0..2 {
        for &exponent in &exponents {
            for &base in &bases {
                // Behind `black_box`, for both: in a release build the compiler turns a
                // constant 0.5 exponent into a square root, correctly rounded where `powf` may
                // be 1 ulp off (2.315^0.5), on either side of the comparison as it inlines
                // them; the engine's exponents (CKD-EPI's) are not 0.5.
                let exponent = std::hint::black_box(exponent);
                let want = base.powf(exponent).to_bits();
                let got = remembered_powf(base, exponent).to_bits();
                assert_eq!(got, want, "{base}^{exponent}, round {round}");
            }
        }
    }
    // 2^-1.2 = 1 / 2^1.2 = 1 / 2.297397 = 0.435275, by hand.
    assert!((remembered_powf(2.0, -1.2) - 0.435275).abs() < 1e-6);
}

/// The keys of a measurement table read with its code and unit keys (`text_keys`, from the
/// contract's `loinc` and `unit` columns, then `key_of_keys`) are the key expression's, and the units it counts
/// outside the contract's list are the units check's, on the unit as recorded. By hand: a
/// padded ` g/dL ` (its key is that of `g/dL`, but the contract lists units as recorded, so it
/// counts), `mg/L` (not a contract unit) and `furlong` count; a null unit does not, nor a
/// listed unit of an unknown or a null code: 3.
#[test]
fn keys_computed_on_read_count_the_contracts_units() {
    let rules = Arc::new(MeasureRules::new(&shipped()));
    let frame = seven_records();
    let (keys, outside) = keys_on_read(&rules, frame);
    assert_eq!(outside, 3);
    let keys: Vec<u32> = keys.u32().unwrap().into_no_null_iter().collect();
    assert_eq!(keys[0], keys[1], "a padded unit is keyed trimmed");
    assert_ne!(keys[0], keys[2]);
}

/// Seven measurements, three of whose units are outside the contract's list (see
/// `keys_computed_on_read_count_the_contracts_units`).
fn seven_records() -> DataFrame {
    df![
        "loinc" => [Some("718-7"), Some("718-7"), Some("718-7"), Some("718-7"), Some("0000-0"), None, Some("718-7")],
        "unit" => [Some("g/dL"), Some(" g/dL "), Some("mg/L"), None, Some("g/L"), Some("g/L"), Some("furlong")],
    ]
    .unwrap()
}

/// Key columns read in chunks (a row group's each) give the keys of one chunk, in order,
/// whether both columns' chunks line up (as a row group's reader gives them) or not: the
/// first test's seven records, 3 units outside the contract, in chunks of 3 + 4 rows, and with
/// the unit keys in one chunk against the code keys' two.
#[test]
fn keys_computed_on_read_from_chunks() {
    use crate::extract::findings::unit_outside_contract;
    let rules = Arc::new(MeasureRules::new(&shipped()));
    let frame = seven_records();
    let mut read = frame.clone();
    for key in rules.text_keys(unit_outside_contract) {
        let keys = key.of_strings(frame.column(&key.column).unwrap()).unwrap();
        read.with_column(keys).unwrap();
    }
    let (whole, outside) = keys_of_read(&rules, &read);
    assert_eq!(outside, 3);
    let mut chunked = read.slice(0, 3);
    chunked.vstack_mut(&read.slice(3, 4)).unwrap();
    let mut misaligned = chunked.clone();
    let units = read.column(UNIT_KEY).unwrap().clone();
    misaligned.with_column(units).unwrap();
    for (frame, unit_chunks) in [(chunked, 2), (misaligned, 1)] {
        assert_eq!(frame.column(CODE_KEY).unwrap().n_chunks(), 2);
        assert_eq!(frame.column(UNIT_KEY).unwrap().n_chunks(), unit_chunks);
        let (keys, counted) = keys_of_read(&rules, &frame);
        assert_eq!((keys, counted), (whole.clone(), 3));
        // The chunks as they are, whatever polars hands the expression.
        let column = |name| frame.column(name).unwrap().u32().unwrap();
        let direct = (rules.keys_of_keys(column(CODE_KEY), column(UNIT_KEY))).unwrap();
        assert_eq!(direct.into_column(), whole);
    }
}

/// Keys computed on read over many rows are the key expression's, in order, and the units
/// outside the contract add up: 300,000 records cycling through four (code, unit) pairs, one
/// of them `mg/L` (a quarter of the rows, 75,000, outside the contract's list).
#[test]
fn keys_computed_on_read_in_ranges_keep_their_order() {
    let rules = Arc::new(MeasureRules::new(&shipped()));
    let pairs = [
        ("718-7", "g/dL"),
        ("718-7", "mg/L"),
        ("777-3", "10*9/L"),
        ("2160-0", "umol/L"),
    ];
    let n = 300_000;
    let frame = df![
        "loinc" => (0..n).map(|i| pairs[i % 4].0).collect::<Vec<_>>(),
        "unit" => (0..n).map(|i| pairs[i % 4].1).collect::<Vec<_>>(),
    ]
    .unwrap();
    let (_, outside) = keys_on_read(&rules, frame);
    assert_eq!(outside, 75_000);
}

/// What a run computes of measurements read with their code and unit keys: the units flagged,
/// counted as the table is read (`flagged_units`), and the records' keys, computed where
/// evaluation reads the records (`key_of_keys`, as a polars expression).
fn keys_of_read(rules: &Arc<MeasureRules>, read: &DataFrame) -> (Column, u64) {
    let outside = MeasureRules::flagged_units(read).unwrap();
    let keys = (read.clone().lazy())
        .select([rules.key_of_keys().alias(MEASURE_KEY)])
        .collect()
        .unwrap();
    (keys[0].clone(), outside)
}

/// The keys and the count of units outside the contract that `text_keys` and `keys_of_read`
/// give for `frame` (contract columns `loinc`, `unit`, read as strings as any reader but the
/// row groups' reads them), its keys checked against the key expression's. The row groups'
/// reading of the same keys from Parquet dictionaries is checked in `extract/text_keys`, and
/// end to end by the partitioned runs (`engine/tests`).
fn keys_on_read(rules: &Arc<MeasureRules>, frame: DataFrame) -> (Column, u64) {
    use crate::extract::findings::unit_outside_contract;
    let mut read = frame.clone();
    for key in rules.text_keys(unit_outside_contract) {
        let keys = key.of_strings(frame.column(&key.column).unwrap()).unwrap();
        read.with_column(keys).unwrap();
    }
    let (keys, outside) = keys_of_read(rules, &read);
    let by_expression = frame
        .lazy()
        .select([col("loinc").alias("code"), col("unit")])
        .select([rules.key().alias(MEASURE_KEY)])
        .collect()
        .unwrap();
    assert_eq!(keys, by_expression[0]);
    (keys, outside)
}
