//! An atom's answer to a condition, as a three-valued Boolean column of the patient frame: an
//! `any` atom's code (2 true, 1 unknown, 0 or no record false) and a `latest` atom's key (its
//! last bit the tied records' truth). Each is one pass over the atom's per-patient column,
//! added once to the frame before the criteria, which read it by name. As polars expressions in
//! every criterion that reads the atom (a fill, two comparisons and a `when`; an `and` and a
//! comparison), polars built each result bit by bit, about 4 % of a run's instructions.

use polars::prelude::*;
use polars_arrow::array::BooleanArray;
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;

use crate::extract::bitmaps::{i32s_odd, i8s_equal};
use crate::udf::MapColumn;

/// What an atom's value answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// An `any` code (Int8, null as 0): true where 2, unknown where 1, false otherwise.
    Any,
    /// A `latest` key (Int32): whether its last bit is this one; unknown where no key.
    LatestBit(i32),
}

/// An atom's answer column: `name`, computed from the atom's column `atom`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AnswerColumn {
    pub name: String,
    pub atom: String,
    pub answer: Answer,
}

impl AnswerColumn {
    /// The answer column, computed in one pass over the atom's column.
    pub(crate) fn expr(&self) -> Expr {
        let answer = self.answer;
        col(self.atom.as_str())
            .map_column(
                move |atom: Column| {
                    let name = atom.name().clone();
                    let atom = atom.as_materialized_series();
                    let answers = match answer {
                        Answer::Any => any_answers(atom.cast(&DataType::Int8)?.i8()?),
                        Answer::LatestBit(bit) => {
                            latest_answers(atom.cast(&DataType::Int32)?.i32()?, bit)
                        }
                    };
                    Ok(answers.with_name(name).into_column())
                },
                |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
            )
            .alias(self.name.as_str())
    }

    /// The same answer as polars expressions: the reference for [`AnswerColumn::expr`].
    #[cfg(test)]
    pub(crate) fn reference(&self) -> Expr {
        let atom = col(self.atom.as_str());
        match self.answer {
            Answer::Any => {
                let code = atom.fill_null(lit(0i8));
                when(code.clone().neq(lit(1i8)))
                    .then(code.eq(lit(2i8)))
                    .otherwise(lit(NULL).cast(DataType::Boolean))
            }
            Answer::LatestBit(bit) => atom.and(lit(1i32)).eq(lit(bit)),
        }
        .alias(self.name.as_str())
    }
}

/// An `any` code's answers: true where 2, unknown (null) where 1, false where anything else or
/// null (no record).
fn any_answers(codes: &Int8Chunked) -> BooleanChunked {
    let arrays = codes.downcast_iter().map(|array| {
        let values = array.values().as_slice();
        let (two, not_one) = (i8s_equal(values, 2), !&i8s_equal(values, 1));
        let (values, validity) = match array.validity() {
            Some(valid) => (&two & valid, &not_one | &!valid),
            None => (two, not_one),
        };
        let validity = (validity.unset_bits() > 0).then_some(validity);
        BooleanArray::new(ArrowDataType::Boolean, values, validity)
    });
    BooleanChunked::from_chunk_iter(PlSmallStr::EMPTY, arrays)
}

/// A `latest` key's answers: whether its last bit is `bit`; unknown (null) where no key.
fn latest_answers(keys: &Int32Chunked, bit: i32) -> BooleanChunked {
    let arrays = keys.downcast_iter().map(|array| {
        let odd = || i32s_odd(array.values().as_slice());
        let values = match bit {
            1 => odd(),
            0 => !&odd(),
            // No key's last bit is any other.
            _ => Bitmap::new_zeroed(array.len()),
        };
        BooleanArray::new(ArrowDataType::Boolean, values, array.validity().cloned())
    });
    BooleanChunked::from_chunk_iter(PlSmallStr::EMPTY, arrays)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `any` atom's polars code is Int8 (the type its answer reads without a cast), never
    /// Int32 as a `when` of dynamic integer literals gives: 2 where hit (whatever the unknown),
    /// else 1 where unknown, else 0 (a null hit is not a hit), worked out by hand.
    #[test]
    fn any_codes_are_int8() {
        let frame = df!(
            "hit" => [Some(true), Some(true), Some(false), Some(false), None],
            "unknown" => [Some(true), Some(false), Some(true), Some(false), Some(false)],
        )
        .unwrap();
        let codes = |unknown: Option<Expr>| {
            let code = super::super::record_atoms::any_code(col("hit"), unknown).alias("code");
            let out = frame.clone().lazy().select([code]).collect().unwrap();
            let code = out.column("code").unwrap();
            assert_eq!(code.dtype(), &DataType::Int8);
            code.i8().unwrap().into_no_null_iter().collect::<Vec<_>>()
        };
        assert_eq!(codes(Some(col("unknown"))), [2, 2, 1, 0, 0]);
        assert_eq!(codes(None), [2, 2, 0, 0, 0]);
    }

    /// Both answers against their polars expressions, on every code an `any` atom can hold and
    /// keys at the edges of Int32 (odd, even, negative), nulls among them, over two chunks.
    #[test]
    fn answers_agree_with_their_expressions() {
        let mut frame = df!(
            "code" => [Some(0i8), Some(1), Some(2), None, Some(-1), Some(3)],
            "key" => [Some(0i32), Some(1), Some(-1), Some(i32::MIN), Some(i32::MAX), None],
        )
        .unwrap();
        let more = df!("code" => [Some(2i8), None], "key" => [None, Some(200_001i32)]).unwrap();
        frame.vstack_mut(&more).unwrap();
        let columns = [
            ("code", Answer::Any),
            ("key", Answer::LatestBit(0)),
            ("key", Answer::LatestBit(1)),
        ];
        let expected: [Vec<Option<bool>>; 3] = [
            // 2 is true, 1 unknown, anything else (0, -1, 3, no record) false.
            [
                Some(false),
                None,
                Some(true),
                Some(false),
                Some(false),
                Some(false),
            ]
            .into_iter()
            .chain([Some(true), Some(false)])
            .collect(),
            // An even key's last bit is 0 (i32::MIN and 0 even; -1 and i32::MAX odd).
            [
                Some(true),
                Some(false),
                Some(false),
                Some(true),
                Some(false),
                None,
            ]
            .into_iter()
            .chain([None, Some(false)])
            .collect(),
            [
                Some(false),
                Some(true),
                Some(true),
                Some(false),
                Some(true),
                None,
            ]
            .into_iter()
            .chain([None, Some(true)])
            .collect(),
        ];
        for ((atom, answer), want) in columns.into_iter().zip(expected) {
            let column = AnswerColumn {
                name: "answer".into(),
                atom: atom.into(),
                answer,
            };
            for expr in [column.expr(), column.reference()] {
                let out = frame.clone().lazy().select([expr]).collect().unwrap();
                let got: Vec<Option<bool>> = out
                    .column("answer")
                    .unwrap()
                    .bool()
                    .unwrap()
                    .iter()
                    .collect();
                assert_eq!(got, want, "{answer:?}");
            }
        }
    }
}
