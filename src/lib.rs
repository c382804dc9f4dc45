//! eligo sizes the population that a clinical trial can recruit from a cancer registry, and shows
//! what holds recruitment back.
//!
//! The data flows one way, and the modules follow it:
//! [`extract`] (read and validate a registry extract) → [`definition`] (parse and check a trial
//! definition) → [`engine`] (compile it to polars, evaluate every criterion, count the mask
//! table) → [`report`] (every output, under disclosure control). [`synth`] makes synthetic
//! extracts; [`cli`] is the command line.

pub mod cli;
pub mod definition;
pub mod engine;
pub mod extract;
mod prefetch;
pub mod progress;
pub mod report;
pub mod synth;
mod udf;
