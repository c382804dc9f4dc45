//! Tokens of the condition language: words (names, numbers, units such as `g/dL` or
//! `mL/min/{1.73_m2}`), quoted texts, brackets, commas and comparison operators, with byte spans.

use super::codes::LocalError;
use super::model::CmpOp;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
    Cmp(CmpOp),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub span: super::ast::Span,
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '(' | ')' | '[' | ']' | ',' | '"' | '\'' | '<' | '>' | '=' | '!'
        )
}

pub fn lex(text: &str) -> Result<Vec<Token>, LocalError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = |tok| Token {
            tok,
            span: start..start + 1,
        };
        match c {
            '(' | ')' | '[' | ']' | ',' => {
                chars.next();
                tokens.push(single(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    '[' => Tok::OpenList,
                    ']' => Tok::CloseList,
                    _ => Tok::Comma,
                }));
            }
            '<' | '>' | '=' | '!' => {
                chars.next();
                let eq = chars.peek().is_some_and(|&(_, n)| n == '=');
                if eq {
                    chars.next();
                }
                let op = match (c, eq) {
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    ('>', false) => CmpOp::Gt,
                    ('>', true) => CmpOp::Ge,
                    ('=', _) => CmpOp::Eq,
                    ('!', true) => CmpOp::Ne,
                    _ => {
                        return Err(LocalError::new(start..start + 1, "a lone `!`")
                            .hint("write `!=` for \"not equal\", or `not` before a condition"))
                    }
                };
                let end = if eq { start + 2 } else { start + 1 };
                tokens.push(Token {
                    tok: Tok::Cmp(op),
                    span: start..end,
                });
            }
            '"' | '\'' => {
                chars.next();
                let mut value = String::new();
                let mut end = None;
                for (i, ch) in chars.by_ref() {
                    if ch == c {
                        end = Some(i + 1);
                        break;
                    }
                    value.push(ch);
                }
                let Some(end) = end else {
                    return Err(LocalError::new(
                        start..text.len(),
                        "this text has no closing quote",
                    )
                    .hint(format!("end the text with {c}")));
                };
                tokens.push(Token {
                    tok: Tok::Str(value),
                    span: start..end,
                });
            }
            _ => {
                let mut end = start;
                let mut word = String::new();
                while let Some(&(i, ch)) = chars.peek() {
                    if !is_word_char(ch) {
                        break;
                    }
                    word.push(ch);
                    end = i + ch.len_utf8();
                    chars.next();
                }
                tokens.push(Token {
                    tok: Tok::Word(word),
                    span: start..end,
                });
            }
        }
    }
    Ok(tokens)
}

pub fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Str(s) => format!("text \"{s}\""),
        Tok::Open => "`(`".into(),
        Tok::Close => "`)`".into(),
        Tok::OpenList => "`[`".into(),
        Tok::CloseList => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Cmp(_) => "a comparison".into(),
    }
}
