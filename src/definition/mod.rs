//! The trial definition language: files under `pipelines/` that epidemiologists write. Parses and
//! checks a definition into the typed [`model`], reporting every mistake with file, line, column and
//! a hint before any data is read. Knows nothing of polars.

mod ast;
mod build;
pub mod codes;
mod diagnostics;
mod lex;
pub mod model;
mod raw;
mod resolve;
pub mod syntax;
mod units;

use std::path::Path;

pub use diagnostics::{Diagnostic, Diagnostics};
pub use model::Definition;

/// Reads, parses and checks a definition file.
pub fn load(path: &Path) -> Result<Definition, Diagnostics> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => parse_str(path, &text),
            Err(err) => Err(Diagnostics::new(
                path,
                "",
                vec![Diagnostic::new(
                    None,
                    format!(
                        "the file is not UTF-8 text (byte {})",
                        err.utf8_error().valid_up_to()
                    ),
                )
                .with_hint("save the definition as UTF-8")],
            )),
        },
        Err(err) => Err(Diagnostics::new(
            path,
            "",
            vec![
                Diagnostic::new(None, format!("cannot read the definition: {err}"))
                    .with_hint("check the path given to --pipeline"),
            ],
        )),
    }
}

/// Parses and checks a definition held in memory; `path` names it in messages and in the model.
/// `Definition::hash` is the blake3 hash of `text`'s bytes.
pub fn parse_str(path: &Path, text: &str) -> Result<Definition, Diagnostics> {
    let raw: raw::RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => {
            let diagnostic =
                Diagnostic::new(err.span(), format!("bad TOML: {}", err.message().trim()))
                    .with_hint(
                        "see docs/definition-language.md for the layout of a definition file",
                    );
            return Err(Diagnostics::new(path, text, vec![diagnostic]));
        }
    };
    let mut builder = build::Builder {
        text,
        errors: Vec::new(),
    };
    let definition = build::build(path, text, raw, &mut builder);
    if builder.errors.is_empty() {
        Ok(definition)
    } else {
        let mut errors = builder.errors;
        errors.sort_by_key(|e| e.span.as_ref().map(|s| s.start));
        Err(Diagnostics::new(path, text, errors))
    }
}
