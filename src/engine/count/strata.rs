//! The strata of the mask table while counting: each row range numbers its rows' combinations of
//! the five stratum values ([`local_strata`]), and [`Strata`] interns the ranges' combinations
//! over the registry. No row's strings are hashed, and no combination's strings are copied
//! once its values are known.

use std::borrow::Cow;

use foldhash::HashMap;
use polars::prelude::*;

use crate::engine::mask::Stratum;
use crate::extract::distinct::map_distinct;

/// What a null stratum value is reported as.
const NOT_RECORDED: &str = "not recorded";

/// Mixed-radix numbers of up to this many combinations index an array (1 MB); a range whose
/// columns have more distinct values combined hashes each row's five numbers instead.
const DENSE_COMBINATIONS: usize = 1 << 18;

/// One row range's strata: each distinct combination of the five stratum values, and each row's
/// combination.
pub struct LocalStrata {
    /// Per stratum column, its distinct values in the range (None for null).
    values: [Vec<Option<String>>; 5],
    /// The distinct combinations, an index into `values` per column, by local index.
    combinations: Vec<[u32; 5]>,
    /// Each row's local index.
    pub rows: Vec<u32>,
}

impl LocalStrata {
    #[cfg(test)]
    fn values(&self, combination: &[u32; 5]) -> [Option<&str>; 5] {
        std::array::from_fn(|d| self.values[d][combination[d] as usize].as_deref())
    }
}

/// A stratum column of the patient frame as the counter reads it.
pub enum StratumColumn<'a> {
    /// Its values as text, nulls kept (region, site, sex).
    Text(&'a StringChunked),
    /// Each row's index into the labels, no nulls, every index below their count (the tumour
    /// group, the age band: `evaluate::stratum_labels`).
    Coded(&'a [u32], &'a [String]),
}

/// The strata of `rows` of the five stratum columns: each column's values numbered once per
/// distinct string (a few regions, sites, groups, sexes and bands over the rows), a coded
/// column's index being its number, then each row's five numbers combined into one mixed-radix
/// number that indexes an array of the combinations seen. Hashing the five strings of every
/// row took 5 s of CPU at 10 M patients; hashing the five numbers 45-95 ms per 250,000
/// patients at 1 M.
pub fn local_strata(columns: &[StratumColumn<'_>], rows: std::ops::Range<usize>) -> LocalStrata {
    let mut values: [Vec<Option<String>>; 5] = Default::default();
    let numbers: Vec<Cow<'_, [u32]>> = columns
        .iter()
        .zip(&mut values)
        .map(|(column, values)| match column {
            StratumColumn::Text(column) => {
                let part = column.slice(rows.start as i64, rows.len());
                Cow::Owned(map_distinct(&part, |value| {
                    let known = values.iter().position(|v| v.as_deref() == value);
                    known.unwrap_or_else(|| {
                        values.push(value.map(str::to_string));
                        values.len() - 1
                    }) as u32
                }))
            }
            StratumColumn::Coded(codes, labels) => {
                values.extend(labels.iter().map(|label| Some(label.clone())));
                Cow::Borrowed(&codes[rows.clone()])
            }
        })
        .collect();
    let combination = |row: usize| -> [u32; 5] { std::array::from_fn(|d| numbers[d][row]) };
    let mut combinations = Vec::new();
    let space = values.iter().try_fold(1usize, |space, values| {
        space.checked_mul(values.len().max(1))
    });
    let rows = match space.filter(|space| *space <= DENSE_COMBINATIONS) {
        Some(space) => {
            let mut codes = vec![0u32; rows.len()];
            for (numbers, values) in numbers.iter().zip(&values) {
                let radix = values.len() as u32;
                for (code, number) in codes.iter_mut().zip(numbers.iter()) {
                    *code = *code * radix + number;
                }
            }
            let mut index = vec![u32::MAX; space];
            codes
                .iter()
                .enumerate()
                .map(|(row, code)| {
                    let local = &mut index[*code as usize];
                    if *local == u32::MAX {
                        *local = combinations.len() as u32;
                        combinations.push(combination(row));
                    }
                    *local
                })
                .collect()
        }
        None => {
            let mut index: HashMap<[u32; 5], u32> = HashMap::default();
            (0..rows.len())
                .map(|row| {
                    *index.entry(combination(row)).or_insert_with(|| {
                        combinations.push(combination(row));
                        combinations.len() as u32 - 1
                    })
                })
                .collect()
        }
    };
    LocalStrata {
        values,
        combinations,
        rows,
    }
}

/// The strata of a registry, interned as the ranges bring them: each column's values (null as
/// "not recorded") numbered once, each stratum as its five numbers.
#[derive(Default)]
pub struct Strata {
    numbers: [HashMap<String, u32>; 5],
    names: [Vec<String>; 5],
    index: HashMap<[u32; 5], u32>,
    combinations: Vec<[u32; 5]>,
}

impl Strata {
    fn number(&mut self, column: usize, value: Option<&str>) -> u32 {
        let value = value.unwrap_or(NOT_RECORDED);
        if let Some(number) = self.numbers[column].get(value) {
            return *number;
        }
        let number = self.names[column].len() as u32;
        self.names[column].push(value.to_string());
        self.numbers[column].insert(value.to_string(), number);
        number
    }

    /// The interned index of each of `local`'s combinations, by local index.
    pub fn intern(&mut self, local: &LocalStrata) -> Vec<u32> {
        let numbers: [Vec<u32>; 5] = std::array::from_fn(|d| {
            let values = &local.values[d];
            values
                .iter()
                .map(|v| self.number(d, v.as_deref()))
                .collect()
        });
        let (index, combinations) = (&mut self.index, &mut self.combinations);
        local
            .combinations
            .iter()
            .map(|combination| {
                let key: [u32; 5] = std::array::from_fn(|d| numbers[d][combination[d] as usize]);
                *index.entry(key).or_insert_with(|| {
                    combinations.push(key);
                    combinations.len() as u32 - 1
                })
            })
            .collect()
    }

    /// Every stratum, by interned index.
    pub fn strata(&self) -> Vec<Stratum> {
        let name =
            |combination: &[u32; 5], d: usize| self.names[d][combination[d] as usize].clone();
        self.combinations
            .iter()
            .map(|c| Stratum {
                region: name(c, 0),
                site: name(c, 1),
                tumour_group: name(c, 2),
                sex: name(c, 3),
                age_band: name(c, 4),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(columns: &[&'a StringChunked]) -> Vec<StratumColumn<'a>> {
        columns.iter().map(|c| StratumColumn::Text(c)).collect()
    }

    fn column(name: &str, first: &[Option<&str>], second: &[Option<&str>]) -> StringChunked {
        let mut column = StringChunked::new(name.into(), first);
        column
            .append(&StringChunked::new(name.into(), second))
            .unwrap();
        column
    }

    /// Rows 1..6 of five stratum columns (two chunks, a null): each row's combination gives back
    /// its own five values, and equal rows share one combination: rows 1, 3 and 5 are
    /// (North, H1, lung, F, 60-69); row 2 differs in its site; row 4 has a null region.
    #[test]
    fn local_strata_number_each_distinct_combination_once() {
        let n = Some("North");
        let region = column("region", &[Some("South"), n, n, n], &[None, n, n]);
        let site = column(
            "site",
            &[Some("H9"), Some("H1"), Some("H2"), Some("H1")],
            &[Some("H1"); 3],
        );
        let group = column("group", &[Some("lung"); 4], &[Some("lung"); 3]);
        let sex = column(
            "sex",
            &[Some("M"), Some("F"), Some("F"), Some("F")],
            &[Some("F"); 3],
        );
        let band = column("band", &[Some("60-69"); 4], &[Some("60-69"); 3]);
        assert_eq!(region.chunks().len(), 2);
        let local = local_strata(&texts(&[&region, &site, &group, &sex, &band]), 1..6);
        let f = [n, Some("H1"), Some("lung"), Some("F"), Some("60-69")];
        let expected = [
            f,
            [n, Some("H2"), Some("lung"), Some("F"), Some("60-69")],
            f,
            [None, Some("H1"), Some("lung"), Some("F"), Some("60-69")],
            f,
        ];
        assert_eq!(local.rows.len(), 5);
        for (row, values) in local.rows.iter().zip(expected) {
            assert_eq!(local.values(&local.combinations[*row as usize]), values);
        }
        assert_eq!(local.combinations.len(), 3);
        assert_eq!(local.rows[0], local.rows[2]);
        assert_eq!(local.rows[0], local.rows[4]);
    }

    /// More combinations than the array holds: 520 sites x 520 ages (270,400 > 2^18) are numbered
    /// by the hash map, with the same answers: rows 0 and 520 share (S0, A0); all 520 rows of the
    /// first half are distinct.
    #[test]
    fn many_combinations_are_hashed_alike() {
        let sites: Vec<String> = (0..1040).map(|i| format!("S{}", i % 520)).collect();
        let ages: Vec<String> = (0..1040).map(|i| format!("A{}", i % 520)).collect();
        let one = |values: &[String]| {
            let values: Vec<Option<&str>> = values.iter().map(|v| Some(v.as_str())).collect();
            StringChunked::new("c".into(), values)
        };
        let (site, age) = (one(&sites), one(&ages));
        let same = StringChunked::new("c".into(), vec![Some("x"); 1040]);
        let local = local_strata(&texts(&[&same, &site, &same, &same, &age]), 0..1040);
        assert_eq!(local.combinations.len(), 520);
        assert_eq!(local.rows[0], local.rows[520]);
        assert_eq!(local.rows[519], local.rows[1039]);
        let distinct: std::collections::HashSet<u32> = local.rows[..520].iter().copied().collect();
        assert_eq!(distinct.len(), 520);
        for (row, combination) in local.rows.iter().enumerate().step_by(97) {
            let values = local.values(&local.combinations[*combination as usize]);
            let expected = format!("S{}", row % 520);
            assert_eq!(values[1], Some(expected.as_str()));
        }
    }

    /// Two ranges interned: equal strata from different ranges are one; a null and the value
    /// "not recorded" are the same stratum, as the reports name them.
    #[test]
    fn strata_of_two_ranges_are_interned_once() {
        let first = column("r", &[Some("North"), None], &[]);
        let second = column(
            "r",
            &[Some("not recorded"), Some("North"), Some("South")],
            &[],
        );
        let fixed = |n: usize| StringChunked::new("c".into(), vec![Some("x"); n]);
        let (two, three) = (fixed(2), fixed(3));
        let mut strata = Strata::default();
        let a = strata.intern(&local_strata(
            &texts(&[&first, &two, &two, &two, &two]),
            0..2,
        ));
        let b = strata.intern(&local_strata(
            &texts(&[&second, &three, &three, &three, &three]),
            0..3,
        ));
        assert_eq!(a, [0, 1]);
        assert_eq!(b, [1, 0, 2]);
        let regions: Vec<String> = strata.strata().into_iter().map(|s| s.region).collect();
        assert_eq!(regions, ["North", "not recorded", "South"]);
    }

    /// Coded columns number their rows by index, as text columns of their labels do: rows 0..6
    /// of a group and a band given as indices (two labels never used among them) give the same
    /// combinations and values as the same rows given as the labels' strings, and intern to
    /// the same strata.
    #[test]
    fn coded_columns_count_as_their_labels() {
        let groups = [
            "lung".to_string(),
            "breast".to_string(),
            "other".to_string(),
        ];
        let bands = ["<40".to_string(), "40-49".to_string(), "80+".to_string()];
        let (group_codes, band_codes) = ([0u32, 2, 0, 0, 2, 0], [1u32, 1, 1, 0, 1, 1]);
        let as_text = |codes: &[u32], labels: &[String]| {
            let values: Vec<Option<&str>> = (codes.iter())
                .map(|&c| Some(labels[c as usize].as_str()))
                .collect();
            StringChunked::new("c".into(), values)
        };
        let n = Some("North");
        let region = column("region", &[n, n, None], &[n, n, n]);
        let sex = column("sex", &[Some("F"), Some("F"), Some("F")], &[Some("M"); 3]);
        let site = StringChunked::new("site".into(), vec![Some("H1"); 6]);
        let (group, band) = (as_text(&group_codes, &groups), as_text(&band_codes, &bands));
        let text = local_strata(&texts(&[&region, &site, &group, &sex, &band]), 0..6);
        let coded = local_strata(
            &[
                StratumColumn::Text(&region),
                StratumColumn::Text(&site),
                StratumColumn::Coded(&group_codes, &groups),
                StratumColumn::Text(&sex),
                StratumColumn::Coded(&band_codes, &bands),
            ],
            0..6,
        );
        // By hand, the six rows are six combinations: (North, H1, lung, F, 40-49),
        // (North, H1, other, F, 40-49), (null, H1, lung, F, 40-49), (North, H1, lung, M, <40),
        // (North, H1, other, M, 40-49), (North, H1, lung, M, 40-49).
        assert_eq!(coded.combinations.len(), 6);
        let values = |local: &LocalStrata| -> Vec<[Option<String>; 5]> {
            (local.rows.iter())
                .map(|&r| {
                    local
                        .values(&local.combinations[r as usize])
                        .map(|v| v.map(String::from))
                })
                .collect()
        };
        assert_eq!(values(&coded), values(&text));
        assert_eq!(
            values(&coded)[3],
            [n, Some("H1"), Some("lung"), Some("M"), Some("<40")].map(|v| v.map(String::from))
        );
        let (mut a, mut b) = (Strata::default(), Strata::default());
        assert_eq!(a.intern(&coded), b.intern(&text));
        assert_eq!(a.strata(), b.strata());
    }
}
