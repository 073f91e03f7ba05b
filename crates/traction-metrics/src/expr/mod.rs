//! The expression language of filters, metric expressions and the `where` of queries
//! (spec: metrics.md, Definition format).
//!
//! Text becomes an [`Expr`] here, once: a hand-written lexer and a recursive-descent parser that
//! report the byte position of every mistake. The tree is then type-checked against a source's
//! fields and compiled to an SQL fragment with `?` parameters in [`compile`]; no text of the user
//! ever reaches SQL, only the names of checked fields and the parameters' values.
//!
//! Grammar, loosest binding first:
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | cmp
//! cmp     := sum (("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") sum
//!                 | "is" ["not"] "null" | ["not"] "in" "(" expr ("," expr)* ")")?
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | atom
//! atom    := number | 'text' | true | false | null | name | name "(" expr ("," expr)* ")"
//!          | "(" expr ")"
//! ```

pub mod compile;

use std::fmt;

/// A byte range of the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// A parsed expression with the span of text it came from.
#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// Expressions compare equal by structure; where they came from does not matter.
impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.kind == other.kind
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A field (or, in a derived metric, a metric) by name.
    Name(String),
    /// A text literal, without its quotes and with `''` unescaped.
    Text(String),
    /// A number literal, kept as written so money can be scaled exactly.
    Number(String),
    Bool(bool),
    Null,
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// A function call: `days(a - b)`, `if(c, a, b)`, `in_bucket(t)`, `previous(m)`.
    Call {
        name: String,
        args: Vec<Expr>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

/// A mistake in an expression, at a byte offset of its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: usize,
    pub message: String,
}

impl SyntaxError {
    fn new(pos: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError { pos, message: message.into() }
    }

    /// `line:column: message`, both 1-based, the column counted in characters.
    pub fn render(&self, text: &str) -> String {
        let (line, column) = line_column(text, self.pos);
        format!("{line}:{column}: {}", self.message)
    }
}

/// The 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let mut pos = pos;
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The longest expression text accepted: anything longer is a mistake, not a filter.
pub const MAX_LEN: usize = 8 * 1024;
/// How deeply expressions may nest, so a hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Name(String),
    Text(String),
    Number(String),
    Sym(&'static str),
    End,
}

struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn lex(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push(Token { tok: Tok::Name(text[start..i].to_string()), start, end: i });
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b'.' {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
                return Err(SyntaxError::new(
                    start,
                    format!("{:?} is not a number", &text[start..=i]),
                ));
            }
            tokens.push(Token { tok: Tok::Number(text[start..i].to_string()), start, end: i });
        } else if c == b'\'' {
            i += 1;
            let mut value = String::new();
            loop {
                match text[i..].find('\'') {
                    None => {
                        return Err(SyntaxError::new(
                            start,
                            "this text has no closing quote: end it with '",
                        ));
                    }
                    Some(off) => {
                        value.push_str(&text[i..i + off]);
                        i += off + 1;
                        // '' inside text stands for one quote.
                        if bytes.get(i) == Some(&b'\'') {
                            value.push('\'');
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            tokens.push(Token { tok: Tok::Text(value), start, end: i });
        } else {
            let two = text.get(i..i + 2);
            let sym = match two {
                Some("<=") => Some("<="),
                Some(">=") => Some(">="),
                Some("!=") => Some("!="),
                Some("<>") => Some("!="),
                _ => None,
            };
            if let Some(sym) = sym {
                i += 2;
                tokens.push(Token { tok: Tok::Sym(sym), start, end: i });
                continue;
            }
            let sym = match c {
                b'=' => "=",
                b'<' => "<",
                b'>' => ">",
                b'+' => "+",
                b'-' => "-",
                b'*' => "*",
                b'/' => "/",
                b'(' => "(",
                b')' => ")",
                b',' => ",",
                b'"' => {
                    return Err(SyntaxError::new(
                        start,
                        "text is written in single quotes: 'like this'",
                    ));
                }
                _ => {
                    let ch = text[i..].chars().next().unwrap_or('?');
                    return Err(SyntaxError::new(start, format!("unexpected character {ch:?}")));
                }
            };
            i += 1;
            tokens.push(Token { tok: Tok::Sym(sym), start, end: i });
        }
    }
    tokens.push(Token { tok: Tok::End, start: text.len(), end: text.len() });
    Ok(tokens)
}

/// Words that cannot be field names.
const KEYWORDS: &[&str] = &["and", "or", "not", "in", "is", "null", "true", "false"];

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Parses an expression.
pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
    if text.len() > MAX_LEN {
        return Err(SyntaxError::new(0, format!("the expression is longer than {MAX_LEN} bytes")));
    }
    let tokens = lex(text)?;
    let mut parser = Parser { tokens, pos: 0, depth: 0 };
    if matches!(parser.peek(), Tok::End) {
        return Err(SyntaxError::new(0, "the expression is empty"));
    }
    let expr = parser.expr()?;
    match parser.peek() {
        Tok::End => Ok(expr),
        _ => Err(parser.unexpected("an operator such as and, or, =")),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn start(&self) -> usize {
        self.tokens[self.pos].start
    }

    fn prev_end(&self) -> usize {
        if self.pos == 0 { 0 } else { self.tokens[self.pos - 1].end }
    }

    fn bump(&mut self) {
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n.eq_ignore_ascii_case(word))
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(self.peek(), Tok::Sym(s) if *s == sym)
    }

    fn unexpected(&self, wanted: &str) -> SyntaxError {
        let token = &self.tokens[self.pos];
        let found = match &token.tok {
            Tok::End => "the end".to_string(),
            Tok::Name(n) => format!("{n:?}"),
            Tok::Text(t) => format!("'{t}'"),
            Tok::Number(n) => n.clone(),
            Tok::Sym(s) => format!("{s:?}"),
        };
        SyntaxError::new(token.start, format!("expected {wanted}, found {found}"))
    }

    fn node(&self, kind: ExprKind, start: usize) -> Expr {
        Expr { kind, span: Span { start, end: self.prev_end() } }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError::new(self.start(), "the expression nests too deeply"));
        }
        let res = self.or();
        self.depth -= 1;
        res
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.start();
        let mut left = self.and()?;
        while self.is_word("or") {
            self.bump();
            let right = self.and()?;
            left = self.node(ExprKind::Binary(BinOp::Or, Box::new(left), Box::new(right)), start);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.start();
        let mut left = self.not()?;
        while self.is_word("and") {
            self.bump();
            let right = self.not()?;
            left = self.node(ExprKind::Binary(BinOp::And, Box::new(left), Box::new(right)), start);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.start();
        if self.is_word("not") {
            self.bump();
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(SyntaxError::new(start, "the expression nests too deeply"));
            }
            let inner = self.not();
            self.depth -= 1;
            return Ok(self.node(ExprKind::Not(Box::new(inner?)), start));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.start();
        let left = self.sum()?;
        let op = match self.peek() {
            Tok::Sym("=") => Some(BinOp::Eq),
            Tok::Sym("!=") => Some(BinOp::Ne),
            Tok::Sym("<") => Some(BinOp::Lt),
            Tok::Sym("<=") => Some(BinOp::Le),
            Tok::Sym(">") => Some(BinOp::Gt),
            Tok::Sym(">=") => Some(BinOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let right = self.sum()?;
            return Ok(self.node(ExprKind::Binary(op, Box::new(left), Box::new(right)), start));
        }
        if self.is_word("is") {
            self.bump();
            let negated = self.is_word("not");
            if negated {
                self.bump();
            }
            if !self.is_word("null") {
                return Err(self.unexpected("null (write `is null` or `is not null`)"));
            }
            self.bump();
            return Ok(self.node(ExprKind::IsNull { expr: Box::new(left), negated }, start));
        }
        let negated = self.is_word("not");
        if negated {
            self.bump();
            if !self.is_word("in") {
                return Err(self.unexpected("in after not"));
            }
        }
        if self.is_word("in") {
            self.bump();
            if !self.is_sym("(") {
                return Err(self.unexpected("( to start the list of in"));
            }
            self.bump();
            let mut list = vec![self.expr()?];
            while self.is_sym(",") {
                self.bump();
                list.push(self.expr()?);
            }
            if !self.is_sym(")") {
                return Err(self.unexpected(", or ) in the list of in"));
            }
            self.bump();
            return Ok(self.node(ExprKind::In { expr: Box::new(left), list, negated }, start));
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.start();
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("+") => BinOp::Add,
                Tok::Sym("-") => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.product()?;
            left = self.node(ExprKind::Binary(op, Box::new(left), Box::new(right)), start);
        }
    }

    fn product(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.start();
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("*") => BinOp::Mul,
                Tok::Sym("/") => BinOp::Div,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.unary()?;
            left = self.node(ExprKind::Binary(op, Box::new(left), Box::new(right)), start);
        }
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.start();
        if self.is_sym("-") {
            self.bump();
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(SyntaxError::new(start, "the expression nests too deeply"));
            }
            let inner = self.unary();
            self.depth -= 1;
            return Ok(self.node(ExprKind::Neg(Box::new(inner?)), start));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.start();
        let tok = self.peek().clone();
        match tok {
            Tok::Number(n) => {
                self.bump();
                Ok(self.node(ExprKind::Number(n), start))
            }
            Tok::Text(t) => {
                self.bump();
                Ok(self.node(ExprKind::Text(t), start))
            }
            Tok::Sym("(") => {
                self.bump();
                let inner = self.expr()?;
                if !self.is_sym(")") {
                    return Err(self.unexpected(")"));
                }
                self.bump();
                // Parentheses group; they are not a node of their own.
                Ok(Expr { kind: inner.kind, span: Span { start, end: self.prev_end() } })
            }
            Tok::Name(name) => {
                let lower = name.to_ascii_lowercase();
                match lower.as_str() {
                    "true" | "false" => {
                        self.bump();
                        return Ok(self.node(ExprKind::Bool(lower == "true"), start));
                    }
                    "null" => {
                        self.bump();
                        return Ok(self.node(ExprKind::Null, start));
                    }
                    _ if KEYWORDS.contains(&lower.as_str()) => {
                        return Err(self.unexpected("a field, a value or ("));
                    }
                    _ => {}
                }
                self.bump();
                if self.is_sym("(") {
                    self.bump();
                    let mut args = vec![self.expr()?];
                    while self.is_sym(",") {
                        self.bump();
                        args.push(self.expr()?);
                    }
                    if !self.is_sym(")") {
                        return Err(self.unexpected(&format!(") to close {name}(")));
                    }
                    self.bump();
                    return Ok(self.node(ExprKind::Call { name: lower, args }, start));
                }
                Ok(self.node(ExprKind::Name(name), start))
            }
            _ => Err(self.unexpected("a field, a value or (")),
        }
    }
}

/// Prints an expression so that it parses back to the same tree: every compound part is
/// parenthesised, text is quoted with `''` escapes.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wrap = |e: &Expr, f: &mut fmt::Formatter<'_>| -> fmt::Result {
            match e.kind {
                ExprKind::Name(_)
                | ExprKind::Text(_)
                | ExprKind::Number(_)
                | ExprKind::Bool(_)
                | ExprKind::Null
                | ExprKind::Call { .. } => write!(f, "{e}"),
                _ => write!(f, "({e})"),
            }
        };
        match &self.kind {
            ExprKind::Name(n) => f.write_str(n),
            ExprKind::Text(t) => write!(f, "'{}'", t.replace('\'', "''")),
            ExprKind::Number(n) => f.write_str(n),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Null => f.write_str("null"),
            ExprKind::Not(e) => {
                f.write_str("not ")?;
                wrap(e, f)
            }
            ExprKind::Neg(e) => {
                f.write_str("-")?;
                wrap(e, f)
            }
            ExprKind::Binary(op, l, r) => {
                wrap(l, f)?;
                write!(f, " {} ", op.symbol())?;
                wrap(r, f)
            }
            ExprKind::In { expr, list, negated } => {
                wrap(expr, f)?;
                f.write_str(if *negated { " not in (" } else { " in (" })?;
                for (idx, item) in list.iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    wrap(item, f)?;
                }
                f.write_str(")")
            }
            ExprKind::IsNull { expr, negated } => {
                wrap(expr, f)?;
                f.write_str(if *negated { " is not null" } else { " is null" })
            }
            ExprKind::Call { name, args } => {
                write!(f, "{name}(")?;
                for (idx, arg) in args.iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Expr {
    /// Every name the expression mentions, in order of appearance.
    pub fn names(&self) -> Vec<(&str, Span)> {
        let mut acc = Vec::new();
        self.visit(&mut |e| {
            if let ExprKind::Name(n) = &e.kind {
                acc.push((n.as_str(), e.span));
            }
        });
        acc
    }

    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Not(e) | ExprKind::Neg(e) => e.visit(f),
            ExprKind::Binary(_, l, r) => {
                l.visit(f);
                r.visit(f);
            }
            ExprKind::In { expr, list, .. } => {
                expr.visit(f);
                for item in list {
                    item.visit(f);
                }
            }
            ExprKind::IsNull { expr, .. } => expr.visit(f),
            ExprKind::Call { args, .. } => {
                for arg in args {
                    arg.visit(f);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(text: &str) -> String {
        parse(text).unwrap_err().render(text)
    }

    #[test]
    fn precedence_follows_the_grammar() {
        let e = parse("a = 1 or b = 2 and not c is null").unwrap();
        assert_eq!(e.to_string(), "(a = 1) or ((b = 2) and (not (c is null)))");
        let e = parse("a + b * c - -d / 2").unwrap();
        assert_eq!(e.to_string(), "(a + (b * c)) - ((-d) / 2)");
        let e = parse("hours(first_response_at - created_at) <= 1").unwrap();
        assert_eq!(e.to_string(), "hours(first_response_at - created_at) <= 1");
        let e = parse("kind NOT IN ('call', 'o''brien') AND x IS NOT NULL").unwrap();
        assert_eq!(e.to_string(), "(kind not in ('call', 'o''brien')) and (x is not null)");
    }

    #[test]
    fn spans_cover_the_text_of_each_node() {
        let text = "amount > 100 and owner_id = 'u1'";
        let e = parse(text).unwrap();
        let ExprKind::Binary(BinOp::And, l, r) = &e.kind else { panic!("{e:?}") };
        assert_eq!(&text[l.span.start..l.span.end], "amount > 100");
        assert_eq!(&text[r.span.start..r.span.end], "owner_id = 'u1'");
        assert_eq!(e.names().iter().map(|(n, _)| *n).collect::<Vec<_>>(), ["amount", "owner_id"]);
    }

    #[test]
    fn mistakes_are_reported_with_line_and_column() {
        assert_eq!(err("status = 'won"), "1:10: this text has no closing quote: end it with '");
        assert_eq!(err("status == 'won'"), "1:9: expected a field, a value or (, found \"=\"");
        assert_eq!(err("a = 1 b"), "1:7: expected an operator such as and, or, =, found \"b\"");
        assert_eq!(err("a in 1"), "1:6: expected ( to start the list of in, found 1");
        assert_eq!(err("a is 1"), "1:6: expected null (write `is null` or `is not null`), found 1");
        assert_eq!(err("x = \"web\""), "1:5: text is written in single quotes: 'like this'");
        assert_eq!(err("a = 1 and\n  (b = 2"), "2:9: expected ), found the end");
        assert_eq!(err(""), "1:1: the expression is empty");
        assert_eq!(err("a = 12ab"), "1:5: \"12a\" is not a number");
        assert_eq!(err("a ; b"), "1:3: unexpected character ';'");
        assert_eq!(err("é = 1"), "1:1: unexpected character 'é'");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = format!("{}a{}", "(".repeat(1_000), ")".repeat(1_000));
        assert!(err(&text).contains("nests too deeply"));
        let text = format!("{}a", "not ".repeat(1_000));
        assert!(err(&text).contains("nests too deeply"));
        let text = format!("{}a", "-".repeat(1_000));
        assert!(err(&text).contains("nests too deeply"));
        assert!(err(&"a".repeat(MAX_LEN + 1)).contains("longer than"));
    }

    fn arb_expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            "[a-z_][a-z0-9_]{0,6}"
                .prop_filter("not a keyword", |s| !KEYWORDS.contains(&s.as_str()))
                .prop_map(ExprKind::Name),
            "[ -~]{0,6}".prop_map(ExprKind::Text),
            "[0-9]{1,4}(\\.[0-9]{1,2})?".prop_map(ExprKind::Number),
            any::<bool>().prop_map(ExprKind::Bool),
            Just(ExprKind::Null),
        ]
        .prop_map(|kind| Expr { kind, span: Span { start: 0, end: 0 } });
        leaf.prop_recursive(4, 32, 4, |inner| {
            let boxed = |e: Expr| Box::new(e);
            prop_oneof![
                (inner.clone(), inner.clone(), 0..12usize).prop_map(move |(l, r, op)| {
                    let ops = [
                        BinOp::Or,
                        BinOp::And,
                        BinOp::Eq,
                        BinOp::Ne,
                        BinOp::Lt,
                        BinOp::Le,
                        BinOp::Gt,
                        BinOp::Ge,
                        BinOp::Add,
                        BinOp::Sub,
                        BinOp::Mul,
                        BinOp::Div,
                    ];
                    ExprKind::Binary(ops[op], boxed(l), boxed(r))
                }),
                inner.clone().prop_map(move |e| ExprKind::Not(boxed(e))),
                inner.clone().prop_map(move |e| ExprKind::Neg(boxed(e))),
                (inner.clone(), any::<bool>())
                    .prop_map(move |(e, negated)| ExprKind::IsNull { expr: boxed(e), negated }),
                (inner.clone(), prop::collection::vec(inner.clone(), 1..3), any::<bool>())
                    .prop_map(move |(e, list, negated)| ExprKind::In {
                        expr: boxed(e),
                        list,
                        negated
                    }),
                inner
                    .clone()
                    .prop_map(move |e| ExprKind::Call { name: "days".into(), args: vec![e] }),
                (inner.clone(), inner.clone(), inner).prop_map(move |(c, a, b)| ExprKind::Call {
                    name: "if".into(),
                    args: vec![c, a, b]
                }),
            ]
            .prop_map(|kind| Expr { kind, span: Span { start: 0, end: 0 } })
        })
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,80}") {
            let _ = parse(&text);
        }

        #[test]
        fn parsing_never_panics_on_expression_like_text(
            text in "[a-z0-9 '()=<>!,.*/+-]{0,60}"
        ) {
            if let Err(e) = parse(&text) {
                prop_assert!(e.pos <= text.len());
            }
        }

        #[test]
        fn printing_then_parsing_gives_the_same_tree(expr in arb_expr()) {
            let printed = expr.to_string();
            let reparsed = parse(&printed).map_err(|e| TestCaseError::fail(e.render(&printed)))?;
            prop_assert_eq!(reparsed, expr);
        }
    }
}
