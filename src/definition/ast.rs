//! The syntax tree of a condition string, as written: names with their byte spans inside the
//! string, before any name is resolved. Produced by `syntax`, consumed by `resolve`.

use std::ops::Range;

use super::model::CmpOp;

pub type Span = Range<usize>;

/// A name as written, with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Const(bool),
    Unknown,
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Confirmed(Box<Expr>),
    AliveAtIndex,
    PrimaryExists,
    PrimaryIn(Name),
    SexIn(Vec<Name>),
    MatchedAnyCohort,
    DrugRouteIs(Name),
    ResistancePresent,
    Any {
        source: Name,
        window: Option<WindowAst>,
        filter: Option<Box<Rec>>,
    },
    Latest {
        source: Name,
        window: Option<WindowAst>,
        test: TestAst,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct WindowAst {
    pub kind: WindowKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WindowKind {
    Within(u32),
    Ongoing,
    OngoingOrEndedWithin(u32),
}

/// A record-level condition after `where`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    pub kind: RecKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecKind {
    Not(Box<Rec>),
    And(Vec<Rec>),
    Or(Vec<Rec>),
    AtcIn(Name),
    CodeIn(Name),
    KindIs(Name),
    StartedAtLeastDaysBefore(u32),
    ApprovedLab,
    ValueIsDrugAtc,
    AtcIsDrugAtc,
    Person(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestAst {
    pub kind: TestKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TestKind {
    Compare(CmpOp, Qty),
    Is(Name),
    In(Vec<Name>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Qty {
    pub kind: QtyKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QtyKind {
    Number { value: f64, unit: Option<Name> },
    If(Box<Expr>, Box<Qty>, Box<Qty>),
}
