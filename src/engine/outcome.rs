//! A criterion's outcome code ([`PASS`], [`FAIL`], [`UNKNOWN`], [`NOT_APPLICABLE`]) from its
//! three-valued parts: whether the patient passes, what missing data gives, whether the
//! criterion applies. polars evaluates the parts as Boolean columns; the codes are then one pass
//! over their bits per criterion ([`OutcomeParts::codes`]). As polars expressions
//! ([`OutcomeParts::expr`], the reference) the cast to UInt8, the fills and the `when` were
//! about 4 % of a run's instructions.

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use crate::extract::bitmaps::packed;

use super::compile::{FAIL, NOT_APPLICABLE, PASS, UNKNOWN};

/// What a criterion gives a patient whose rule is unknown (null).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Missing {
    /// Always this code.
    Code(u8),
    /// [`UNKNOWN`] unless this condition is false, then [`PASS`] (null counts as true).
    PassUnless(Expr),
}

/// A criterion's parts, each a three-valued (nullable Boolean) condition over the patient frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutcomeParts {
    /// True where the criterion passes, false where it fails, null where unknown.
    pub passes: Expr,
    pub missing: Missing,
    /// Whether the criterion applies; null (unknown applicability) counts as applying.
    pub applies: Option<Expr>,
}

/// A Boolean column's values and validity as bytes of eight rows each (bit i of byte k is row
/// 8k + i), the validity all ones where the column has no nulls.
struct Bits {
    values: Vec<u8>,
    validity: Vec<u8>,
}

/// A bitmap's bytes from its first row: its own where it starts on a byte, else packed again.
/// (`as_slice` gives the bytes from the one holding the first bit, and that bit's offset in
/// it, below 8.)
fn aligned(bitmap: &Bitmap) -> Vec<u8> {
    let (bytes, offset, len) = bitmap.as_slice();
    match offset {
        0 => bytes[..len.div_ceil(8)].to_vec(),
        _ => packed(&bitmap.iter().collect::<Vec<bool>>())
            .as_slice()
            .0
            .to_vec(),
    }
}

impl Bits {
    fn of(column: &Column) -> PolarsResult<Bits> {
        let series = column.as_materialized_series().cast(&DataType::Boolean)?;
        let array = series.bool()?.rechunk().downcast_as_array().clone();
        let values = aligned(array.values());
        let validity = match array.validity() {
            Some(validity) => aligned(validity),
            None => vec![u8::MAX; values.len()],
        };
        Ok(Bits { values, validity })
    }

    /// Per byte, the rows that are false (not null).
    fn false_rows(&self) -> impl Iterator<Item = u8> + '_ {
        (self.values.iter())
            .zip(&self.validity)
            .map(|(v, ok)| !v & ok)
    }

    /// Per byte, the rows that are true or null.
    fn true_or_null_rows(&self) -> impl Iterator<Item = u8> + '_ {
        (self.values.iter())
            .zip(&self.validity)
            .map(|(v, ok)| v | !ok)
    }
}

/// Per byte of eight flags, a word whose byte i is flag i (0 or 1): multiplied by a code below
/// 256, the code in each flagged row's byte.
const SPREAD: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut i = 0;
        while i < 8 {
            table[byte] |= ((byte as u64 >> i) & 1) << (8 * i);
            i += 1;
        }
        byte += 1;
    }
    table
};

impl OutcomeParts {
    /// The outcome code (UInt8) as one polars expression: the reference for
    /// [`OutcomeParts::codes`].
    #[cfg(test)]
    pub(crate) fn expr(&self) -> Expr {
        let missing = match &self.missing {
            Missing::Code(code) => lit(*code),
            Missing::PassUnless(unless) => when(unless.clone().fill_null(lit(true)))
                .then(lit(UNKNOWN))
                .otherwise(lit(PASS)),
        };
        // PASS is 0 and FAIL 1: "fails" as a byte, its nulls (unknown) by the missing rule.
        const _: () = assert!(PASS == 0 && FAIL == 1);
        let outcome = self
            .passes
            .clone()
            .not()
            .cast(DataType::UInt8)
            .fill_null(missing);
        let outcome = match &self.applies {
            Some(applies) => when(applies.clone().fill_null(lit(true)).not())
                .then(lit(NOT_APPLICABLE))
                .otherwise(outcome),
            None => outcome,
        };
        outcome.cast(DataType::UInt8)
    }

    /// The parts as Boolean columns named `{name}:passes`, `{name}:unless` and
    /// `{name}:applies` (those the criterion has), for [`OutcomeParts::codes`].
    pub(crate) fn columns(&self, name: &str) -> Vec<(String, Expr)> {
        let mut columns = vec![(part(name, "passes"), self.passes.clone())];
        if let Missing::PassUnless(unless) = &self.missing {
            columns.push((part(name, "unless"), unless.clone()));
        }
        if let Some(applies) = &self.applies {
            columns.push((part(name, "applies"), applies.clone()));
        }
        columns
    }

    /// The outcome codes (UInt8, named `name`) from the columns of [`OutcomeParts::columns`] in
    /// `frame`, which the same as [`OutcomeParts::expr`] gives: eight rows at a time, each
    /// code a flag per row spread to its byte ([`SPREAD`]). PASS is 0, the rows failing,
    /// missing (with the missing rule's code) and not applicable (3, every bit of the others)
    /// are or-ed in.
    pub(crate) fn codes(&self, frame: &DataFrame, name: &str) -> PolarsResult<Column> {
        const _: () = assert!(PASS == 0 && FAIL == 1 && NOT_APPLICABLE == 3);
        let bits = |what: &str| Bits::of(frame.column(&part(name, what))?);
        let passes = bits("passes")?;
        let failing: Vec<u8> = passes.false_rows().collect();
        let (missing, code): (Vec<u8>, u8) = match &self.missing {
            Missing::Code(code) => (passes.validity.iter().map(|ok| !ok).collect(), *code),
            Missing::PassUnless(_) => {
                let unless = bits("unless")?;
                let unknown = (passes.validity.iter()).zip(unless.true_or_null_rows());
                (unknown.map(|(ok, unless)| !ok & unless).collect(), UNKNOWN)
            }
        };
        let not_applicable: Vec<u8> = match self.applies {
            Some(_) => bits("applies")?.false_rows().collect(),
            None => vec![0; failing.len()],
        };
        // A byte of flags gives its eight codes as one word's bytes, collected at once (an
        // iterator of arrays has an exact length). `extend_from_slice` checked the capacity for
        // every eight codes (60 M instructions at 250,000 patients, against 37 M); a zeroed
        // buffer written in place cost its zeroing (callgrind).
        let flags = failing.iter().zip(&missing).zip(&not_applicable);
        let mut codes: Vec<u8> = flags
            .flat_map(|((&fail, &missing), &not_applicable)| {
                let word = (SPREAD[fail as usize] * u64::from(FAIL))
                    | (SPREAD[missing as usize] * u64::from(code))
                    | (SPREAD[not_applicable as usize] * u64::from(NOT_APPLICABLE));
                word.to_le_bytes()
            })
            .collect();
        codes.truncate(frame.height());
        Ok(UInt8Chunked::from_vec(name.into(), codes).into_column())
    }
}

fn part(name: &str, what: &str) -> String {
    format!("{name}:{what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aliased(parts: &OutcomeParts, name: &str) -> Vec<Expr> {
        let columns = parts.columns(name).into_iter();
        columns.map(|(name, expr)| expr.alias(name)).collect()
    }

    /// Every combination of the parts (each true, false or null), with each missing rule and
    /// with and without applicability, whole and sliced (bitmaps starting inside a byte),
    /// against codes worked out from the protocol's rules: not applicable where applicability
    /// is false; else pass or fail where the rule is known; else the missing rule's code
    /// (pass-unless: unknown unless its condition is false).
    #[test]
    fn codes_agree_with_the_rules_and_the_expression() {
        let values = [Some(true), Some(false), None];
        let (mut passes, mut unless, mut applies) = (Vec::new(), Vec::new(), Vec::new());
        for p in values {
            for u in values {
                for a in values {
                    passes.push(p);
                    unless.push(u);
                    applies.push(a);
                }
            }
        }
        let frame = df!("p" => &passes, "u" => &unless, "a" => &applies).unwrap();
        let expected = |missing: &Missing, with_applies: bool| -> Vec<u8> {
            (0..passes.len())
                .map(|i| {
                    if with_applies && applies[i] == Some(false) {
                        return NOT_APPLICABLE;
                    }
                    match (passes[i], missing) {
                        (Some(true), _) => PASS,
                        (Some(false), _) => FAIL,
                        (None, Missing::Code(code)) => *code,
                        (None, Missing::PassUnless(_)) => match unless[i] {
                            Some(false) => PASS,
                            _ => UNKNOWN,
                        },
                    }
                })
                .collect()
        };
        let rules = [
            Missing::Code(UNKNOWN),
            Missing::Code(PASS),
            Missing::Code(FAIL),
            Missing::PassUnless(col("u")),
        ];
        for missing in rules {
            for with_applies in [false, true] {
                let parts = OutcomeParts {
                    passes: col("p"),
                    missing: missing.clone(),
                    applies: with_applies.then(|| col("a")),
                };
                let want = expected(&missing, with_applies);
                let columns = frame.clone().lazy().with_columns(aliased(&parts, "c"));
                let columns = columns.collect().unwrap();
                let codes = parts.codes(&columns, "c").unwrap();
                let codes: Vec<u8> = codes.u8().unwrap().into_no_null_iter().collect();
                assert_eq!(codes, want, "{missing:?}, applies {with_applies}");
                // The same rows from the fourth on: bitmaps that start inside a byte.
                let sliced = parts.codes(&columns.slice(3, columns.height() - 3), "c");
                let sliced: Vec<u8> = sliced.unwrap().u8().unwrap().into_no_null_iter().collect();
                assert_eq!(
                    sliced,
                    want[3..],
                    "sliced: {missing:?}, applies {with_applies}"
                );
                let by_polars = frame
                    .clone()
                    .lazy()
                    .select([parts.expr().alias("c")])
                    .collect()
                    .unwrap();
                let by_polars: Vec<Option<u8>> = by_polars
                    .column("c")
                    .unwrap()
                    .u8()
                    .unwrap()
                    .iter()
                    .collect();
                let want: Vec<Option<u8>> = want.into_iter().map(Some).collect();
                assert_eq!(
                    by_polars, want,
                    "polars: {missing:?}, applies {with_applies}"
                );
            }
        }
    }

    /// Parts that are constants (a rule known at compile time) broadcast to the frame's rows,
    /// and a frame of several chunks is read whole.
    #[test]
    fn constant_parts_and_chunked_frames() {
        let mut frame = df!("x" => [1i32, 2]).unwrap();
        frame.vstack_mut(&df!("x" => [3i32]).unwrap()).unwrap();
        let parts = OutcomeParts {
            passes: lit(NULL).cast(DataType::Boolean),
            missing: Missing::Code(FAIL),
            applies: Some(col("x").gt(lit(1))),
        };
        let columns = frame.lazy().with_columns(aliased(&parts, "c")).collect();
        let codes = parts.codes(&columns.unwrap(), "c").unwrap();
        let codes: Vec<u8> = codes.u8().unwrap().into_no_null_iter().collect();
        assert_eq!(codes, [NOT_APPLICABLE, FAIL, FAIL]);
    }
}
