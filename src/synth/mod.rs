//! The synthetic registry: deterministic, realistic extracts of any size, written with arrow-rs.
