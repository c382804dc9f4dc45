//! The expression language inside criterion strings: tokens, and a recursive-descent parser to a
//! syntax tree that still holds names and byte spans within the string. Resolving names, windows
//! and units is `resolve`'s job. Precedence: `not` binds tighter than `and`, `and` than `or`.

pub use super::ast::*;
use super::codes::LocalError;
use super::lex::{describe, lex, Tok, Token};

/// Parses a whole condition string.
pub fn parse_condition(text: &str) -> Result<Expr, LocalError> {
    let tokens = lex(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        len: text.len(),
    };
    if parser.tokens.is_empty() {
        return Err(LocalError::new(0..text.len(), "the condition is empty")
            .hint("write a condition, e.g. `latest ecog within 30 days <= 2`"));
    }
    let expr = parser.or()?;
    if let Some(token) = parser.peek() {
        return Err(LocalError::new(
            token.span.clone(),
            format!(
                "unexpected {} after a complete condition",
                describe(&token.tok)
            ),
        )
        .hint("join conditions with `and` or `or`; a `where` clause ends only at `)` or the end"));
    }
    Ok(expr)
}

const CONDITION_HINT: &str = "a condition is `any ...`, `latest ...`, `primary in SET`, \
    `primary exists`, `sex in [...]`, `alive at index`, `matched to any cohort`, `confirmed(...)`, \
    `not ...`, `(...)`, `true`, `false` or `unknown`";

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_word(&self, offset: usize) -> Option<&str> {
        match self.tokens.get(self.pos + offset) {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => Some(w),
            _ => None,
        }
    }

    fn at_end_span(&self) -> Span {
        self.len..self.len
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn last_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map(|t| t.span.end)
            .unwrap_or(0)
    }

    fn here(&self) -> Span {
        self.peek()
            .map(|t| t.span.clone())
            .unwrap_or_else(|| self.at_end_span())
    }

    fn found(&self) -> String {
        self.peek()
            .map(|t| describe(&t.tok))
            .unwrap_or_else(|| "the end of the text".into())
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek_word(0) == Some(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, word: &str, after: &str) -> Result<(), LocalError> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(LocalError::new(
                self.here(),
                format!("expected `{word}` after `{after}`, found {}", self.found()),
            ))
        }
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Span, LocalError> {
        match self.peek() {
            Some(t) if t.tok == tok => {
                let span = t.span.clone();
                self.pos += 1;
                Ok(span)
            }
            _ => Err(LocalError::new(
                self.here(),
                format!("expected {what}, found {}", self.found()),
            )),
        }
    }

    fn name(&mut self, what: &str) -> Result<Name, LocalError> {
        match self.peek().cloned() {
            Some(Token {
                tok: Tok::Word(w),
                span,
            }) if !is_keyword(&w) => {
                self.pos += 1;
                Ok(Name { text: w, span })
            }
            _ => Err(LocalError::new(
                self.here(),
                format!("expected {what}, found {}", self.found()),
            )),
        }
    }

    fn days(&mut self, after: &str) -> Result<u32, LocalError> {
        let span = self.here();
        let n = match self.next() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => w.parse::<u32>().ok(),
            _ => None,
        };
        let Some(n) = n else {
            return Err(LocalError::new(
                span,
                format!("expected a whole number of days after `{after}`"),
            )
            .hint("write for example `within 30 days`"));
        };
        if !(self.eat_word("days") || self.eat_word("day")) {
            return Err(LocalError::new(
                self.here(),
                format!("expected `days` after `{n}`, found {}", self.found()),
            )
            .hint("windows are counted in days: `within 122 days` for 4 months"));
        }
        Ok(n)
    }

    fn or(&mut self) -> Result<Expr, LocalError> {
        let first = self.and()?;
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat_word("or") {
            items.push(self.and()?);
        }
        Ok(join(items, start, self.last_end(), ExprKind::Or))
    }

    fn and(&mut self) -> Result<Expr, LocalError> {
        let first = self.unary()?;
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat_word("and") {
            items.push(self.unary()?);
        }
        Ok(join(items, start, self.last_end(), ExprKind::And))
    }

    fn unary(&mut self) -> Result<Expr, LocalError> {
        let start = self.here().start;
        if self.eat_word("not") {
            let inner = self.unary()?;
            return Ok(Expr {
                span: start..inner.span.end,
                kind: ExprKind::Not(Box::new(inner)),
            });
        }
        if self.peek().is_some_and(|t| t.tok == Tok::Open) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(Tok::Close, "`)`")?;
            return Ok(Expr {
                kind: inner.kind,
                span: start..self.last_end(),
            });
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, LocalError> {
        let span = self.here();
        let start = span.start;
        let Some(word) = self.peek_word(0).map(str::to_string) else {
            return Err(LocalError::new(
                span,
                format!("expected a condition, found {}", self.found()),
            )
            .hint(CONDITION_HINT));
        };
        self.pos += 1;
        let kind = match word.as_str() {
            "true" => ExprKind::Const(true),
            "false" => ExprKind::Const(false),
            "unknown" => ExprKind::Unknown,
            "confirmed" => {
                self.expect(Tok::Open, "`(` after `confirmed`")?;
                let inner = self.or()?;
                self.expect(Tok::Close, "`)`")?;
                ExprKind::Confirmed(Box::new(inner))
            }
            "alive" => {
                self.expect_word("at", "alive")?;
                self.expect_word("index", "alive at")?;
                ExprKind::AliveAtIndex
            }
            "primary" => {
                if self.eat_word("exists") {
                    ExprKind::PrimaryExists
                } else if self.eat_word("in") {
                    ExprKind::PrimaryIn(self.name("the name of a code set")?)
                } else {
                    return Err(LocalError::new(
                        self.here(),
                        format!(
                            "expected `in` or `exists` after `primary`, found {}",
                            self.found()
                        ),
                    )
                    .hint("write `primary in colorectal_codes` or `primary exists`"));
                }
            }
            "sex" => {
                self.expect_word("in", "sex")?;
                ExprKind::SexIn(self.list()?)
            }
            "matched" => {
                self.expect_word("to", "matched")?;
                self.expect_word("any", "matched to")?;
                self.expect_word("cohort", "matched to any")?;
                ExprKind::MatchedAnyCohort
            }
            "drug" => {
                self.expect_word("route", "drug")?;
                self.expect_word("is", "drug route")?;
                ExprKind::DrugRouteIs(self.name("`oral` or `iv`")?)
            }
            "resistance" => {
                self.expect_word("biomarker", "resistance")?;
                self.expect_word("present", "resistance biomarker")?;
                ExprKind::ResistancePresent
            }
            "any" => {
                let source =
                    self.name("what to look for: a code set, measure, observation or table")?;
                let window = self.window()?;
                let filter = if self.eat_word("where") {
                    Some(Box::new(self.rec_or()?))
                } else {
                    None
                };
                ExprKind::Any {
                    source,
                    window,
                    filter,
                }
            }
            "latest" => {
                let source = self.name("a measure or an observation")?;
                let window = self.window()?;
                let test = self.test(&source.text)?;
                ExprKind::Latest {
                    source,
                    window,
                    test,
                }
            }
            _ => {
                return Err(
                    LocalError::new(span, format!("expected a condition, found `{word}`"))
                        .hint(CONDITION_HINT),
                )
            }
        };
        Ok(Expr {
            kind,
            span: start..self.last_end(),
        })
    }

    fn window(&mut self) -> Result<Option<WindowAst>, LocalError> {
        let start = self.here().start;
        let kind = if self.eat_word("within") {
            WindowKind::Within(self.days("within")?)
        } else if self.eat_word("ongoing") {
            if self.peek_word(0) == Some("or") && self.peek_word(1) == Some("ended") {
                self.pos += 2;
                self.expect_word("within", "ended")?;
                WindowKind::OngoingOrEndedWithin(self.days("within")?)
            } else {
                WindowKind::Ongoing
            }
        } else {
            return Ok(None);
        };
        Ok(Some(WindowAst {
            kind,
            span: start..self.last_end(),
        }))
    }

    fn list(&mut self) -> Result<Vec<Name>, LocalError> {
        self.expect(Tok::OpenList, "`[` to start a list such as [\"F\", \"U\"]")?;
        let mut items = Vec::new();
        loop {
            match self.next() {
                Some(Token {
                    tok: Tok::Str(s),
                    span,
                }) => items.push(Name { text: s, span }),
                Some(Token {
                    tok: Tok::CloseList,
                    ..
                }) if items.is_empty() => break,
                other => {
                    let span = other.map(|t| t.span).unwrap_or_else(|| self.at_end_span());
                    return Err(LocalError::new(span, "expected a quoted text in the list")
                        .hint("write a list as [\"a\", \"b\"]"));
                }
            }
            match self.next() {
                Some(Token {
                    tok: Tok::Comma, ..
                }) => continue,
                Some(Token {
                    tok: Tok::CloseList,
                    ..
                }) => break,
                other => {
                    let span = other.map(|t| t.span).unwrap_or_else(|| self.at_end_span());
                    return Err(LocalError::new(span, "expected `,` or `]` in the list"));
                }
            }
        }
        Ok(items)
    }

    fn test(&mut self, source: &str) -> Result<TestAst, LocalError> {
        let start = self.here().start;
        let kind = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Cmp(op)) => {
                self.pos += 1;
                TestKind::Compare(op, self.quantity()?)
            }
            Some(Tok::Word(w)) if w == "is" => {
                self.pos += 1;
                match self.next() {
                    Some(Token {
                        tok: Tok::Str(s),
                        span,
                    }) => TestKind::Is(Name { text: s, span }),
                    _ => {
                        return Err(LocalError::new(
                            self.tokens
                                .get(self.pos - 1)
                                .map(|t| t.span.clone())
                                .unwrap_or_else(|| self.at_end_span()),
                            "expected a quoted text after `is`",
                        )
                        .hint("write for example `is \"metastatic\"`"))
                    }
                }
            }
            Some(Tok::Word(w)) if w == "in" => {
                self.pos += 1;
                TestKind::In(self.list()?)
            }
            _ => return Err(LocalError::new(
                self.here(),
                format!(
                    "expected a test of the latest `{source}`, found {}",
                    self.found()
                ),
            )
            .hint(
                "a test is a comparison (`> 9 g/dL`, `<= 2`), `is \"text\"` or `in [\"a\", \"b\"]`",
            )),
        };
        Ok(TestAst {
            kind,
            span: start..self.last_end(),
        })
    }

    fn quantity(&mut self) -> Result<Qty, LocalError> {
        let span = self.here();
        if self.eat_word("if") {
            let cond = self.or()?;
            self.expect_word("then", "the condition of `if`")?;
            let then = self.quantity()?;
            self.expect_word("else", "the `then` value")?;
            let otherwise = self.quantity()?;
            return Ok(Qty {
                kind: QtyKind::If(Box::new(cond), Box::new(then), Box::new(otherwise)),
                span: span.start..self.last_end(),
            });
        }
        let Some(word) = self.peek_word(0).map(str::to_string) else {
            return Err(LocalError::new(
                span,
                format!("expected a number, found {}", self.found()),
            )
            .hint("write a threshold with its unit, e.g. `> 9 g/dL`"));
        };
        // A number, possibly glued to its unit (`9g/dL`).
        let split = word
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .rfind(|&i| word[..i].parse::<f64>().is_ok());
        let Some(split) = split
            .filter(|_| word.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-'))
        else {
            return Err(
                LocalError::new(span, format!("expected a number, found `{word}`"))
                    .hint("write a threshold with its unit, e.g. `> 9 g/dL`"),
            );
        };
        let value: f64 = word[..split].parse().unwrap_or(f64::NAN);
        if !value.is_finite() {
            return Err(LocalError::new(
                span,
                format!("`{word}` is not a usable number"),
            ));
        }
        self.pos += 1;
        let unit = if split < word.len() {
            Some(Name {
                text: word[split..].to_string(),
                span: span.start + split..span.end,
            })
        } else {
            match self.peek().cloned() {
                Some(Token {
                    tok: Tok::Word(u),
                    span,
                }) if !is_keyword(&u) => {
                    self.pos += 1;
                    Some(Name { text: u, span })
                }
                _ => None,
            }
        };
        Ok(Qty {
            kind: QtyKind::Number { value, unit },
            span: span.start..self.last_end(),
        })
    }

    fn rec_or(&mut self) -> Result<Rec, LocalError> {
        let first = self.rec_and()?;
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat_word("or") {
            items.push(self.rec_and()?);
        }
        Ok(join_rec(items, start, self.last_end(), RecKind::Or))
    }

    fn rec_and(&mut self) -> Result<Rec, LocalError> {
        let first = self.rec_unary()?;
        let start = first.span.start;
        let mut items = vec![first];
        while self.eat_word("and") {
            items.push(self.rec_unary()?);
        }
        Ok(join_rec(items, start, self.last_end(), RecKind::And))
    }

    fn rec_unary(&mut self) -> Result<Rec, LocalError> {
        let start = self.here().start;
        if self.eat_word("not") {
            let inner = self.rec_unary()?;
            return Ok(Rec {
                span: start..inner.span.end,
                kind: RecKind::Not(Box::new(inner)),
            });
        }
        if self.peek().is_some_and(|t| t.tok == Tok::Open) {
            self.pos += 1;
            let inner = self.rec_or()?;
            self.expect(Tok::Close, "`)`")?;
            return Ok(Rec {
                kind: inner.kind,
                span: start..self.last_end(),
            });
        }
        let kind = match (self.peek_word(0), self.peek_word(1)) {
            (Some("atc"), Some("in")) => {
                self.pos += 2;
                RecKind::AtcIn(self.name("the name of an ATC code set")?)
            }
            (Some("atc"), Some("is")) => {
                self.pos += 2;
                self.expect_word("drug", "atc is")?;
                self.expect_word("atc", "atc is drug")?;
                RecKind::AtcIsDrugAtc
            }
            (Some("code"), Some("in")) => {
                self.pos += 2;
                RecKind::CodeIn(self.name("the name of a code set")?)
            }
            (Some("kind"), Some("is")) => {
                self.pos += 2;
                match self.next() {
                    Some(Token {
                        tok: Tok::Str(s),
                        span,
                    }) => RecKind::KindIs(Name { text: s, span }),
                    _ => {
                        return Err(LocalError::new(
                            self.tokens
                                .get(self.pos - 1)
                                .map(|t| t.span.clone())
                                .unwrap_or_else(|| self.at_end_span()),
                            "expected a quoted kind after `kind is`",
                        )
                        .hint("write `kind is \"radiotherapy\"` or `kind is \"drug\"`"))
                    }
                }
            }
            (Some("started"), _) => {
                self.pos += 1;
                self.expect_word("at", "started")?;
                self.expect_word("least", "started at")?;
                let n = self.days("started at least")?;
                self.expect_word("before", "days")?;
                self.expect_word("index", "before")?;
                RecKind::StartedAtLeastDaysBefore(n)
            }
            (Some("approved"), _) => {
                self.pos += 1;
                self.expect_word("lab", "approved")?;
                RecKind::ApprovedLab
            }
            (Some("value"), _) => {
                self.pos += 1;
                self.expect_word("is", "value")?;
                self.expect_word("drug", "value is")?;
                self.expect_word("atc", "value is drug")?;
                RecKind::ValueIsDrugAtc
            }
            _ => RecKind::Person(Box::new(self.atom()?)),
        };
        Ok(Rec {
            kind,
            span: start..self.last_end(),
        })
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "and" | "or" | "not" | "then" | "else" | "where" | "within" | "ongoing" | "if"
    )
}

fn join(mut items: Vec<Expr>, start: usize, end: usize, make: fn(Vec<Expr>) -> ExprKind) -> Expr {
    if items.len() == 1 {
        if let Some(only) = items.pop() {
            return only;
        }
    }
    Expr {
        kind: make(items),
        span: start..end,
    }
}

fn join_rec(mut items: Vec<Rec>, start: usize, end: usize, make: fn(Vec<Rec>) -> RecKind) -> Rec {
    if items.len() == 1 {
        if let Some(only) = items.pop() {
            return only;
        }
    }
    Rec {
        kind: make(items),
        span: start..end,
    }
}

#[cfg(test)]
#[path = "syntax_tests.rs"]
mod tests;
