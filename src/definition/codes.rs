//! Code sets (`icd10: C00-C97 except C44, C77-C79`, `atc: L01*, L02*`) and conversion factors
//! (`x 1.611`, `/ 10`): parsing, validation of each code against its vocabulary's shape, and
//! normalization (upper case, no dot). Errors carry byte offsets inside the string.

use std::ops::Range;

use super::model::{CodePattern, Vocabulary};

/// An error inside one string of the file: a byte range of the string, message and hint.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalError {
    pub span: Range<usize>,
    pub message: String,
    pub label: Option<String>,
    pub hint: Option<String>,
}

impl LocalError {
    pub fn new(span: Range<usize>, message: impl Into<String>) -> LocalError {
        LocalError {
            span,
            message: message.into(),
            label: None,
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> LocalError {
        self.hint = Some(hint.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> LocalError {
        self.label = Some(label.into());
        self
    }
}

/// A parsed code set string.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCodes {
    pub vocabulary: Vocabulary,
    pub patterns: Vec<CodePattern>,
    pub except: Vec<CodePattern>,
}

/// Parses `<vocabulary>: <patterns> [except <patterns>]`; patterns are comma separated.
pub fn parse_code_set(text: &str) -> Result<ParsedCodes, Vec<LocalError>> {
    let Some(colon) = text.find(':') else {
        return Err(vec![LocalError::new(
            0..text.len(),
            "a code set starts with its vocabulary",
        )
        .hint("write for example `icd10: C34` or `atc: L01EC*`")]);
    };
    let vocabulary_text = text[..colon].trim();
    let vocabulary = match vocabulary_text.to_ascii_lowercase().as_str() {
        "icd10" | "icd-10" => Vocabulary::Icd10,
        "atc" => Vocabulary::Atc,
        "loinc" => Vocabulary::Loinc,
        _ => {
            return Err(vec![LocalError::new(
                0..colon,
                format!("unknown vocabulary `{vocabulary_text}`"),
            )
            .hint("the vocabularies are `icd10`, `atc` and `loinc`")])
        }
    };
    let body_start = colon + 1;
    let body = &text[body_start..];
    let (include_text, except_part) = match find_word(body, "except") {
        Some(at) => (&body[..at], Some((body_start + at + 6, &body[at + 6..]))),
        None => (body, None),
    };
    let mut errors = Vec::new();
    let patterns = parse_patterns(vocabulary, include_text, body_start, &mut errors);
    let mut except = Vec::new();
    if let Some((offset, except_text)) = except_part {
        except = parse_patterns(vocabulary, except_text, offset, &mut errors);
        if except.is_empty() && errors.is_empty() {
            errors.push(LocalError::new(
                offset - 6..offset,
                "`except` must be followed by codes",
            ));
        }
    }
    if patterns.is_empty() && errors.is_empty() {
        errors.push(
            LocalError::new(0..text.len(), "the code set holds no codes")
                .hint("list codes after the colon, comma separated"),
        );
    }
    if errors.is_empty() {
        Ok(ParsedCodes {
            vocabulary,
            patterns,
            except,
        })
    } else {
        Err(errors)
    }
}

/// Byte offset of `word` standing alone (surrounded by whitespace or the ends).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let before = text[..at]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        let after = text[at + word.len()..]
            .chars()
            .next()
            .is_none_or(char::is_whitespace);
        if before && after {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

fn parse_patterns(
    vocabulary: Vocabulary,
    text: &str,
    offset: usize,
    errors: &mut Vec<LocalError>,
) -> Vec<CodePattern> {
    let mut patterns = Vec::new();
    let mut start = 0;
    for piece in text.split(',') {
        let lead = piece.len() - piece.trim_start().len();
        let item = piece.trim();
        let span = offset + start + lead..offset + start + lead + item.len();
        start += piece.len() + 1;
        if item.is_empty() {
            if text.trim().is_empty() {
                continue;
            }
            errors.push(LocalError::new(span, "an empty code between commas"));
            continue;
        }
        match parse_pattern(vocabulary, item) {
            Ok(p) => patterns.push(p),
            Err((message, hint)) => errors.push(LocalError::new(span, message).hint(hint)),
        }
    }
    patterns
}

/// One pattern: a code, a code with `*`, or (ICD-10) a range `K92.0-K92.2`.
pub fn parse_pattern(vocabulary: Vocabulary, item: &str) -> Result<CodePattern, (String, String)> {
    if let Some((low, high)) = item
        .split_once('-')
        .filter(|_| vocabulary == Vocabulary::Icd10)
    {
        let low = normalize_icd10(low.trim())?;
        let high = normalize_icd10(high.trim())?;
        if low.len() != high.len() {
            return Err((
                format!("the range `{item}` has bounds of different precision"),
                "write both ends to the same level, e.g. `K92.0-K92.2` or `C77-C79`".into(),
            ));
        }
        if low > high {
            return Err((
                format!("the range `{item}` runs backwards"),
                "write the lower code first".into(),
            ));
        }
        return Ok(CodePattern::Range(low, high));
    }
    match vocabulary {
        Vocabulary::Icd10 => normalize_icd10(item).map(CodePattern::Prefix),
        Vocabulary::Atc => normalize_atc(item).map(CodePattern::Prefix),
        Vocabulary::Loinc => normalize_loinc(item).map(CodePattern::Prefix),
    }
}

/// `C34.1`, `C341`, `c34`, `C34*` -> `C341`/`C34`. A letter, two digits, up to two more
/// characters (digits, or `X`/letters of national extensions); the dot only after the category.
pub fn normalize_icd10(code: &str) -> Result<String, (String, String)> {
    let bare = code.strip_suffix('*').unwrap_or(code).to_ascii_uppercase();
    let dotless = match bare.split_once('.') {
        Some((category, sub)) if category.len() == 3 && !sub.is_empty() => {
            format!("{category}{sub}")
        }
        Some(_) => return Err(icd10_error(code)),
        None => bare.clone(),
    };
    let chars: Vec<char> = dotless.chars().collect();
    let shape = (3..=5).contains(&chars.len())
        && chars[0].is_ascii_uppercase()
        && chars[1].is_ascii_digit()
        && chars[2].is_ascii_digit()
        && chars[3..].iter().all(|c| c.is_ascii_alphanumeric());
    if shape {
        Ok(dotless)
    } else {
        Err(icd10_error(code))
    }
}

fn icd10_error(code: &str) -> (String, String) {
    (
        format!("`{code}` is not an ICD-10 code"),
        "an ICD-10 code is a letter and two digits, then optionally a dot and one or two more \
         (`C34`, `C34.1`, `C341`); a range is `C77-C79`"
            .into(),
    )
}

/// `L01EC01`, `L01*`, `l01ec` -> upper case, without `*`. Any level of the hierarchy: `L`, `L01`,
/// `L01E`, `L01EC`, `L01EC01`.
pub fn normalize_atc(code: &str) -> Result<String, (String, String)> {
    let bare = code.strip_suffix('*').unwrap_or(code).to_ascii_uppercase();
    let c: Vec<char> = bare.chars().collect();
    let letter = |i: usize| c.get(i).is_some_and(char::is_ascii_uppercase);
    let digit = |i: usize| c.get(i).is_some_and(char::is_ascii_digit);
    let ok = match c.len() {
        1 => letter(0),
        3 => letter(0) && digit(1) && digit(2),
        4 => letter(0) && digit(1) && digit(2) && letter(3),
        5 => letter(0) && digit(1) && digit(2) && letter(3) && letter(4),
        7 => letter(0) && digit(1) && digit(2) && letter(3) && letter(4) && digit(5) && digit(6),
        _ => false,
    };
    if ok {
        Ok(bare)
    } else {
        Err((
            format!("`{code}` is not an ATC code"),
            "an ATC code is `L01EC01` (7 characters) or one of its levels `L`, `L01`, `L01E`, \
             `L01EC`; `L01*` takes every code below L01"
                .into(),
        ))
    }
}

/// `718-7`: digits, a dash, one check digit.
pub fn normalize_loinc(code: &str) -> Result<String, (String, String)> {
    let ok = code.split_once('-').is_some_and(|(number, check)| {
        (1..=7).contains(&number.len())
            && number.chars().all(|c| c.is_ascii_digit())
            && check.len() == 1
            && check.chars().all(|c| c.is_ascii_digit())
    });
    if ok {
        Ok(code.to_string())
    } else {
        Err((
            format!("`{code}` is not a LOINC code"),
            "a LOINC code is digits, a dash and a check digit (`718-7`)".into(),
        ))
    }
}

/// A conversion factor as written: `x 1.611` (multiply) or `/ 10` (divide).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Factor {
    Times(f64),
    Divide(f64),
}

impl Factor {
    /// The multiplier that the model stores.
    pub fn multiplier(self) -> f64 {
        match self {
            Factor::Times(f) => f,
            Factor::Divide(d) => 1.0 / d,
        }
    }

    /// Applies the factor; a division divides (so that `90 g/L` becomes exactly 9 g/dL).
    pub fn apply(self, value: f64) -> f64 {
        match self {
            Factor::Times(f) => value * f,
            Factor::Divide(d) => value / d,
        }
    }
}

/// Parses `x 1.611`, `* 1.611`, `/ 10` (the space is optional).
pub fn parse_factor(text: &str) -> Result<Factor, (String, String)> {
    let t = text.trim();
    let hint = "write `x F` to multiply by F or `/ D` to divide by D, e.g. `/ 10` for g/L to g/dL";
    let (op, rest) = match t.chars().next() {
        Some(c @ ('x' | 'X' | '*' | '×' | '/')) => (c, &t[c.len_utf8()..]),
        _ => return Err((format!("`{t}` is not a conversion factor"), hint.into())),
    };
    let number: f64 = match rest.trim().parse() {
        Ok(n) => n,
        Err(_) => return Err((format!("`{}` is not a number", rest.trim()), hint.into())),
    };
    if !number.is_finite() || number <= 0.0 {
        return Err((
            format!("the factor `{t}` must be a positive number"),
            hint.into(),
        ));
    }
    Ok(if op == '/' {
        Factor::Divide(number)
    } else {
        Factor::Times(number)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> CodePattern {
        CodePattern::Prefix(s.into())
    }

    #[test]
    fn icd10_codes_are_normalized_with_or_without_dot() {
        assert_eq!(normalize_icd10("C34.1"), Ok("C341".into()));
        assert_eq!(normalize_icd10("C341"), Ok("C341".into()));
        assert_eq!(normalize_icd10("c34"), Ok("C34".into()));
        assert_eq!(normalize_icd10("C34*"), Ok("C34".into()));
        assert_eq!(normalize_icd10("K92.0"), Ok("K920".into()));
        // Dot in the wrong place, too short, digits first: all rejected.
        assert!(normalize_icd10("C3.41").is_err());
        assert!(normalize_icd10("C3").is_err());
        assert!(normalize_icd10("34C").is_err());
        assert!(normalize_icd10("C34.").is_err());
    }

    #[test]
    fn code_set_with_ranges_and_except() {
        let set = parse_code_set("icd10: C00-C97 except C44, C77-C79").unwrap();
        assert_eq!(set.vocabulary, Vocabulary::Icd10);
        assert_eq!(
            set.patterns,
            vec![CodePattern::Range("C00".into(), "C97".into())]
        );
        assert_eq!(
            set.except,
            vec![p("C44"), CodePattern::Range("C77".into(), "C79".into())]
        );
        let bleeding = parse_code_set("icd10: K92.0-K92.2, K25.0").unwrap();
        assert_eq!(
            bleeding.patterns,
            vec![CodePattern::Range("K920".into(), "K922".into()), p("K250")]
        );
    }

    #[test]
    fn atc_prefixes() {
        let set = parse_code_set("atc: L01*, L02AE*, l02ab01").unwrap();
        assert_eq!(set.vocabulary, Vocabulary::Atc);
        assert_eq!(set.patterns, vec![p("L01"), p("L02AE"), p("L02AB01")]);
        assert!(normalize_atc("L01E1").is_err());
        assert!(normalize_atc("L01EC0").is_err());
    }

    #[test]
    fn bad_codes_are_all_reported_at_their_place() {
        // "icd10: C34, X1, C80-C7" : `X1` at bytes 12..14, `C80-C7` at 16..22.
        let errors = parse_code_set("icd10: C34, X1, C80-C7").unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].span, 12..14);
        assert_eq!(errors[1].span, 16..22);
        let backwards = parse_code_set("icd10: C79-C77").unwrap_err();
        assert!(backwards[0].message.contains("backwards"));
        assert!(parse_code_set("snomed: 1234").is_err());
        assert!(parse_code_set("C34").is_err());
    }

    #[test]
    fn factors() {
        assert_eq!(parse_factor("/ 10"), Ok(Factor::Divide(10.0)));
        assert_eq!(parse_factor("x 1.611"), Ok(Factor::Times(1.611)));
        assert_eq!(parse_factor("x1"), Ok(Factor::Times(1.0)));
        // 90 g/L / 10 = 9 g/dL exactly (division, not multiplication by 0.1).
        assert_eq!(Factor::Divide(10.0).apply(90.0), 9.0);
        assert!(parse_factor("10").is_err());
        assert!(parse_factor("x 0").is_err());
        assert!(parse_factor("/ ten").is_err());
    }
}
