//! Compiles a checked definition into polars expressions, evaluates every criterion for every
//! patient (and every matched patient x cohort pair) with three-valued outcomes, and counts the
//! mask table. The only module that builds query plans.

pub mod mask;
