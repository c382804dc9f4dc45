//! The trial definition language: files under `pipelines/` that epidemiologists write. Parses and
//! checks a definition into the typed [`model`], reporting every mistake with file, line, column and
//! a hint before any data is read. Knows nothing of polars.

pub mod model;
