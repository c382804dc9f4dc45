//! Every mistake found in a definition file, rendered as rustc and ruff render theirs: the file,
//! line and column, the line itself with a caret under the spot, what is wrong and a hint.
//! Rendering uses ariadne; colour is a parameter, and `Display` never colours.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ariadne::{CharSet, Config, IndexType, Label, Report, ReportKind, Source};

/// One error in a definition file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Byte range in the file; None where the error has no place (the file cannot be read).
    pub span: Option<Range<usize>>,
    /// What is wrong, in one line.
    pub message: String,
    /// Said at the caret (short); None: "here".
    pub label: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Option<Range<usize>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
            label: None,
            hint: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
}

/// All errors of one definition file, with the file's text so that they can be rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostics {
    path: PathBuf,
    text: String,
    errors: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(path: &Path, text: &str, errors: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics {
            path: path.to_path_buf(),
            text: text.to_string(),
            errors,
        }
    }

    /// The errors, in file order.
    pub fn errors(&self) -> &[Diagnostic] {
        &self.errors
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// 1-based line and column (in characters) of a byte offset of the file.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.text, offset)
    }

    /// Every error, rustc-style, followed by a count line. ANSI colours only when `colour`.
    pub fn render(&self, colour: bool) -> String {
        let id = self.path.display().to_string();
        let source = Source::from(self.text.as_str());
        let mut out = String::new();
        for error in &self.errors {
            match &error.span {
                Some(span) => {
                    let span = clamp(&self.text, span);
                    let config = Config::default()
                        .with_color(colour)
                        .with_index_type(IndexType::Byte)
                        .with_char_set(CharSet::Ascii);
                    let label = Label::new((id.as_str(), span.clone()))
                        .with_message(error.label.as_deref().unwrap_or("here"));
                    let mut report = Report::build(ReportKind::Error, (id.as_str(), span))
                        .with_config(config)
                        .with_message(&error.message)
                        .with_label(label);
                    if let Some(hint) = &error.hint {
                        report = report.with_help(hint);
                    }
                    let mut buffer = Vec::new();
                    let written = report.finish().write((id.as_str(), &source), &mut buffer);
                    if written.is_ok() {
                        out.push_str(&String::from_utf8_lossy(&buffer));
                    } else {
                        out.push_str(&plain(&id, error));
                    }
                }
                None => out.push_str(&plain(&id, error)),
            }
        }
        let n = self.errors.len();
        out.push_str(&format!(
            "{n} error{} in {id}\n",
            if n == 1 { "" } else { "s" }
        ));
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostics {}

fn plain(id: &str, error: &Diagnostic) -> String {
    let mut out = format!("Error: {}\n   --> {id}\n", error.message);
    if let Some(hint) = &error.hint {
        out.push_str(&format!("   Help: {hint}\n"));
    }
    out
}

/// A span that lies inside the text, on character boundaries, and is at least one byte long where
/// the text allows (an error at the end of the file points at its last character).
fn clamp(text: &str, span: &Range<usize>) -> Range<usize> {
    let mut start = span.start.min(text.len());
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.clamp(start, text.len());
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    if start == end && end < text.len() {
        end += 1;
        while end < text.len() && !text.is_char_boundary(end) {
            end += 1;
        }
    } else if start == end && start == text.len() && start > 0 {
        start -= 1;
        while start > 0 && !text.is_char_boundary(start) {
            start -= 1;
        }
    }
    start..end
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// The known name closest to `name`, if close enough to be a likely typo.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    known
        .into_iter()
        .map(|k| (edit_distance(&name.to_lowercase(), &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, k)| (*d, k.len()))
        .map(|(_, k)| k)
}

/// "did you mean `x`?", or a list of what is known when nothing is close.
pub fn suggestion(name: &str, what: &str, known: &[&str]) -> String {
    match closest(name, known.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if known.is_empty() => format!("no {what} is declared in this file"),
        None => {
            let mut list: Vec<&str> = known.to_vec();
            list.sort_unstable();
            let shown: Vec<String> = list.iter().take(12).map(|k| format!("`{k}`")).collect();
            let more = if list.len() > 12 { ", ..." } else { "" };
            format!("the known {what}s are {}{more}", shown.join(", "))
        }
    }
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_a_typo_and_ignores_strangers() {
        let known = ["haemoglobin", "platelets", "neutrophils"];
        // One letter dropped: distance 1.
        assert_eq!(closest("haemoglbin", known), Some("haemoglobin"));
        // American spelling: distance 1 (the `a` of `ae`).
        assert_eq!(closest("hemoglobin", known), Some("haemoglobin"));
        assert_eq!(closest("weight", known), None);
    }

    #[test]
    fn line_col_counts_characters_from_one() {
        let text = "a = 1\nbø = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        // `=` on line 2: after `b`, `ø` (2 bytes) and a space: byte 10, character column 4.
        assert_eq!(line_col(text, 10), (2, 4));
    }
}
