//! The record tables' column functions against the polars expressions they stand for, and the
//! windows at their edges worked out by hand: edge values, nulls and chunk boundaries.

use super::*;

/// `started_at_least_days_before` gives polars' `date <= p_idx - days`: a start exactly
/// `days` before the index date is true, a day later false, a null start or index date
/// null, the subtraction wrapping at the Int32 minimum as polars' does; over two chunks.
#[test]
fn started_before_agrees_with_polars() {
    let date = [
        Some(100),
        Some(101),
        Some(99),
        None,
        Some(130),
        Some(i32::MAX),
        Some(0),
        Some(-5),
    ];
    let idx = [
        Some(130),
        Some(130),
        Some(130),
        Some(130),
        None,
        Some(i32::MIN + 10),
        Some(30),
        Some(25),
    ];
    let mut dates = Int32Chunked::new("date".into(), &date[..3]);
    dates
        .append(&Int32Chunked::new("date".into(), &date[3..]))
        .unwrap();
    let frame = DataFrame::new(
        8,
        vec![
            dates.into_column(),
            Int32Chunked::new("p_idx".into(), &idx).into_column(),
        ],
    )
    .unwrap();
    let got = (frame.lazy())
        .select([
            started_at_least_days_before(30).alias("ours"),
            col("date").lt_eq(col("p_idx") - lit(30i32)).alias("polars"),
        ])
        .collect()
        .unwrap();
    let column = |name: &str| -> Vec<Option<bool>> {
        got.column(name).unwrap().bool().unwrap().iter().collect()
    };
    assert_eq!(column("ours"), column("polars"));
    // By hand: 100 <= 130 - 30, 101 is not, 99 is, two nulls, MAX is not below MIN + 10 - 30
    // (which wraps to MAX - 19), 0 <= 0 and -5 <= -5.
    assert_eq!(
        column("ours"),
        [
            Some(true),
            Some(false),
            Some(true),
            None,
            None,
            Some(false),
            Some(true),
            Some(true)
        ]
    );
}

/// `key_is` gives polars' `eq` of the literal, nulls kept null, over two chunks of keys
/// (17 and 20 rows, so neither is a whole number of sixteen-key groups); with `not`,
/// polars' `neq`.
#[test]
fn key_is_agrees_with_polars_equality() {
    let keys: Vec<Option<u32>> = (0..37u32).map(|i| (i % 7 != 3).then_some(i % 4)).collect();
    let mut column = UInt32Chunked::new("k".into(), &keys[..17]);
    column
        .append(&UInt32Chunked::new("k".into(), &keys[17..]))
        .unwrap();
    let frame = DataFrame::new(37, vec![column.into_column()]).unwrap();
    for key in [0u32, 2, 9] {
        let got = (frame.clone().lazy())
            .select([
                key_is(col("k"), key).alias("is"),
                key_is(col("k"), key).not().alias("is_not"),
                col("k").eq(lit(key)).alias("eq"),
                col("k").neq(lit(key)).alias("neq"),
            ])
            .collect()
            .unwrap();
        let column = |name: &str| -> Vec<Option<bool>> {
            got.column(name).unwrap().bool().unwrap().iter().collect()
        };
        assert_eq!(column("is"), column("eq"), "{key}");
        assert_eq!(column("is_not"), column("neq"), "{key}");
        let expected: Vec<Option<bool>> = keys.iter().map(|k| k.map(|k| k == key)).collect();
        assert_eq!(column("is"), expected, "{key}");
    }
}

/// `text_is` gives polars' `eq` of the literal with nulls filled with false: texts one byte
/// shorter and longer than the literal, with its prefix, empty and null, over two chunks of
/// several blocks; a literal longer than a view holds, and the empty literal, too.
#[test]
fn text_is_agrees_with_polars_equality_filled_with_false() {
    let kinds = [
        Some("radiotherapy"),
        Some("radiotherap"),
        Some("radiotherapyy"),
        Some("radiotherapy and more"),
        Some(""),
        None,
        Some("surgery"),
        Some("systemic"),
    ];
    let texts: Vec<Option<&str>> = (0..2_600).map(|i| kinds[(i * 5 + i / 9) % 8]).collect();
    let mut column = StringChunked::new("kind".into(), &texts[..1_500]);
    column
        .append(&StringChunked::new("kind".into(), &texts[1_500..]))
        .unwrap();
    let frame = DataFrame::new(texts.len(), vec![column.into_column()]).unwrap();
    for text in ["radiotherapy", "radiotherapy and more", "", "none"] {
        let got = (frame.clone().lazy())
            .select([
                text_is(col("kind"), text).alias("is"),
                col("kind").eq(lit(text)).fill_null(lit(false)).alias("eq"),
            ])
            .collect()
            .unwrap();
        let column = |name: &str| -> Vec<Option<bool>> {
            got.column(name).unwrap().bool().unwrap().iter().collect()
        };
        let expected: Vec<Option<bool>> = texts.iter().map(|t| Some(*t == Some(text))).collect();
        assert_eq!(column("is"), expected, "{text}");
        assert_eq!(column("eq"), expected, "{text}");
    }
}

/// `one_of` gives what `is_in` gives, for a chain of equalities and for a long list alike,
/// including null for a null text.
#[test]
fn one_of_agrees_with_is_in() {
    let text = df!("t" => [Some("g/dL"), Some("g/L"), None, Some("mmol/L"), Some("")]).unwrap();
    let few = ["g/dL", "mmol/L"];
    let many: Vec<String> = (0..20)
        .map(|i| format!("u{i}"))
        .chain(["g/L".into()])
        .collect();
    let out = text
        .lazy()
        .select([
            one_of(col("t"), &few).alias("few"),
            one_of(col("t"), &many).alias("many"),
            one_of::<&str>(col("t"), &[]).alias("none"),
        ])
        .collect()
        .unwrap();
    let column = |name: &str| -> Vec<Option<bool>> {
        out.column(name).unwrap().bool().unwrap().iter().collect()
    };
    assert_eq!(
        column("few"),
        [Some(true), Some(false), None, Some(true), Some(false)]
    );
    assert_eq!(
        column("many"),
        [Some(false), Some(true), None, Some(false), Some(false)]
    );
    assert_eq!(column("none")[0], Some(false));
}

/// Days relative to an index date of 100: the record of day 70 is within 30 days, of day 69
/// not, of day 101 after the index; a treatment that ended on day 70 is ongoing with 30
/// days' grace, one that ended on day 69 not, one with no end is; a null date or index date
/// is never in a window. Worked out from the definitions of the windows.
#[test]
fn windows_at_their_edges() {
    let date = [
        Some(70),
        Some(69),
        Some(100),
        Some(101),
        None,
        Some(70),
        Some(50),
        Some(50),
    ];
    let mut idx = [Some(100); 8];
    idx[5] = None;
    let end = [
        Some(70),
        Some(69),
        None,
        None,
        None,
        None,
        Some(99),
        Some(69),
    ];
    let frame = df!("date" => date, "p_idx" => idx, "end" => end).unwrap();
    let flags = |window: Window| -> Vec<bool> {
        let out = (frame.clone().lazy())
            .select([in_window(&window).alias("in")])
            .collect()
            .unwrap();
        let flags = out.column("in").unwrap().bool().unwrap().clone();
        assert_eq!(flags.null_count(), 0);
        flags.iter().map(|flag| flag == Some(true)).collect()
    };
    let (t, f) = (true, false);
    assert_eq!(flags(Window::UpToIndex), [t, t, t, f, f, f, t, t]);
    assert_eq!(flags(Window::WithinDays(30)), [t, f, t, f, f, f, f, f]);
    assert_eq!(flags(Window::WithinDays(0)), [f, f, t, f, f, f, f, f]);
    let ongoing = Window::Ongoing { grace_days: 30 };
    assert_eq!(flags(ongoing), [t, f, t, f, f, f, t, f]);
}

/// A record's date, its patient's index date, and its end (of a treatment).
type Days = (Option<i32>, Option<i32>, Option<i32>);

proptest::proptest! {
    /// `in_window` gives what the polars expressions give, nulls, the ends of Int32 (where
    /// the look-back wraps, as polars' subtraction does), dates typed as dates, and
    /// columns in two chunks included, each column split at its own row (chunks that do
    /// not line up) or all at the same.
    #[test]
    fn windows_agree_with_polars(
        rows in proptest::collection::vec(
            (day(), day(), day()), 0..40
        ),
        splits in proptest::array::uniform3(0usize..40),
        aligned in proptest::bool::ANY,
        window in proptest::sample::select(vec![
            Window::UpToIndex,
            Window::WithinDays(0),
            Window::WithinDays(30),
            Window::WithinDays(u32::MAX),
            Window::Ongoing { grace_days: 0 },
            Window::Ongoing { grace_days: 30 },
        ]),
        as_dates in proptest::bool::ANY,
    ) {
        let column = |name: &str, pick: fn(&Days) -> Option<i32>, split: usize| {
            let values: Vec<Option<i32>> = rows.iter().map(pick).collect();
            let split = if aligned { splits[0] } else { split };
            let at = split.min(values.len());
            let part = |values: &[Option<i32>]| {
                Int32Chunked::from_iter_options(name.into(), values.iter().copied())
            };
            let mut column = part(&values[..at]);
            column.append(&part(&values[at..])).unwrap();
            let column = column.into_series();
            match as_dates && name != "p_idx" {
                true => column.cast(&DataType::Date).unwrap().into_column(),
                false => column.into_column(),
            }
        };
        let columns = vec![
            column("date", |r| r.0, splits[0]),
            column("p_idx", |r| r.1, splits[1]),
            column("end", |r| r.2, splits[2]),
        ];
        // Called on the columns in their chunks, as polars may hand them over (a frame's
        // select gives them in one).
        let direct: Vec<Option<bool>> =
            window_flags(&window, &columns).unwrap().iter().collect();
        let frame = DataFrame::new(rows.len(), columns).unwrap();
        let out = frame
            .lazy()
            .select([
                in_window(&window).alias("one_pass"),
                in_window_by_polars(&window).alias("polars"),
            ])
            .collect()
            .unwrap();
        let flags = |name: &str| -> Vec<Option<bool>> {
            out.column(name).unwrap().bool().unwrap().iter().collect()
        };
        proptest::prop_assert_eq!(flags("one_pass"), flags("polars"));
        proptest::prop_assert_eq!(direct, flags("polars"));
    }
}

/// A day: null, an end of Int32, near zero, or any.
fn day() -> impl proptest::strategy::Strategy<Value = Option<i32>> {
    use proptest::prelude::*;
    prop_oneof![
        Just(None),
        proptest::sample::select(vec![
            i32::MIN,
            i32::MIN + 1,
            -1,
            0,
            1,
            29,
            30,
            31,
            i32::MAX - 1,
            i32::MAX
        ])
        .prop_map(Some),
        (-40i32..40).prop_map(Some),
        any::<i32>().prop_map(Some),
    ]
}
