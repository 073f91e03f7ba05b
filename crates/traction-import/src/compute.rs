//! Computed fields of a mapping (`compute = "{Sales} / {Quantity}"`): arithmetic over the
//! numbers of a row's columns, exact (rationals of 128-bit integers, never floats), rounded half
//! away from zero to the field's decimals only at the end.
//!
//! Grammar: `expr = term (("+" | "-") term)*`, `term = unary (("*" | "/") unary)*`,
//! `unary = "-" unary | atom`, `atom = number | "{Column}" | "abs(" expr ")" | "(" expr ")"`.

use std::fmt::Write as _;

/// A compiled expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(Ratio),
    Column(String),
    Neg(Box<Expr>),
    Abs(Box<Expr>),
    Bin(Box<Expr>, Op, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// An exact number: `num / den`, `den > 0`, in lowest terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    num: i128,
    den: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// Why an expression does not compile, or a row's value cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("division by zero")]
    DivisionByZero,
    #[error("the result is too large")]
    Overflow,
    #[error("{text:?} is not a number")]
    NotNumber { text: String },
    /// A column's cell that is not a number.
    #[error("{{{column}}}: {source}")]
    InColumn { column: String, source: Box<Error> },
    /// Text left over after a whole expression, at a 1-based position.
    #[error("{expr:?}: unexpected {rest:?} at {at}")]
    Unexpected { expr: String, rest: String, at: usize },
    /// `a (`, `abs(` or `a {` without its closing bracket.
    #[error("{expr:?}: {opening} at {at} is not closed")]
    Unclosed { expr: String, opening: &'static str, at: usize },
    #[error("{expr:?}: {{}} at {at} names no column")]
    NoColumn { expr: String, at: usize },
    #[error("{expr:?}: expected a number, a {{Column}}, abs(…) or ( at {at}")]
    ExpectedOperand { expr: String, at: usize },
}

impl Ratio {
    fn new(num: i128, den: i128) -> Result<Ratio, Error> {
        if den == 0 {
            return Err(Error::DivisionByZero);
        }
        let g = gcd(num, den);
        let sign = if den < 0 { -1 } else { 1 };
        Ok(Ratio { num: sign * num / g, den: sign * den / g })
    }

    /// A decimal as written in the import format: `-12.345`, `7`.
    pub fn parse(text: &str) -> Result<Ratio, Error> {
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if (whole.is_empty() && frac.is_empty())
            || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
            || whole.len() + frac.len() > 30
        {
            return Err(Error::NotNumber { text: text.to_string() });
        }
        let num: i128 = format!("{whole}{frac}")
            .parse()
            .map_err(|_| Error::NotNumber { text: text.to_string() })?;
        let den = 10i128.pow(frac.len() as u32);
        Ratio::new(if negative { -num } else { num }, den)
    }

    fn apply(self, op: Op, other: Ratio) -> Result<Ratio, Error> {
        let (a, b, c, d) = (self.num, self.den, other.num, other.den);
        let mul = |x: i128, y: i128| x.checked_mul(y).ok_or(Error::Overflow);
        match op {
            Op::Add | Op::Sub => {
                let right = if op == Op::Add { mul(c, b)? } else { -mul(c, b)? };
                Ratio::new(mul(a, d)?.checked_add(right).ok_or(Error::Overflow)?, mul(b, d)?)
            }
            Op::Mul => Ratio::new(mul(a, c)?, mul(b, d)?),
            Op::Div => Ratio::new(mul(a, d)?, mul(b, c)?),
        }
    }

    /// The value rounded half away from zero to `decimals` places, written with `point` as the
    /// decimal separator.
    pub fn format(self, decimals: u32, point: char) -> Result<String, Error> {
        let scale = 10i128.checked_pow(decimals).ok_or(Error::Overflow)?;
        let scaled = self.num.checked_mul(scale).ok_or(Error::Overflow)?;
        let (q, r) = (scaled / self.den, scaled % self.den);
        let rounded = if 2 * r.abs() >= self.den { q + scaled.signum() } else { q };
        let sign = if rounded < 0 { "-" } else { "" };
        let digits = rounded.unsigned_abs().to_string();
        let mut out = String::from(sign);
        if decimals == 0 {
            out.push_str(&digits);
        } else {
            let padded = format!("{digits:0>width$}", width = decimals as usize + 1);
            let (whole, frac) = padded.split_at(padded.len() - decimals as usize);
            let _ = write!(out, "{whole}{point}{frac}");
        }
        Ok(out)
    }
}

impl Expr {
    /// Compiles an expression's text, or says what is wrong where.
    pub fn parse(text: &str) -> Result<Expr, Error> {
        let mut p = Parser { text, pos: 0 };
        let expr = p.expr()?;
        p.skip_space();
        if p.pos < text.len() {
            return Err(Error::Unexpected {
                expr: text.to_string(),
                rest: text[p.pos..].to_string(),
                at: p.pos + 1,
            });
        }
        Ok(expr)
    }

    /// The columns it reads.
    pub fn columns(&self, out: &mut Vec<String>) {
        match self {
            Expr::Number(_) => {}
            Expr::Column(c) => out.push(c.clone()),
            Expr::Neg(e) | Expr::Abs(e) => e.columns(out),
            Expr::Bin(a, _, b) => {
                a.columns(out);
                b.columns(out);
            }
        }
    }

    /// Evaluates it; `cell` gives a column's number in the import format (`None`: empty).
    /// An empty cell makes the whole value empty (`Ok(None)`).
    pub fn eval(&self, cell: &dyn Fn(&str) -> Option<String>) -> Result<Option<Ratio>, Error> {
        Ok(Some(match self {
            Expr::Number(r) => *r,
            Expr::Column(c) => match cell(c) {
                None => return Ok(None),
                Some(text) => Ratio::parse(&text)
                    .map_err(|e| Error::InColumn { column: c.clone(), source: Box::new(e) })?,
            },
            Expr::Neg(e) => match e.eval(cell)? {
                None => return Ok(None),
                Some(r) => Ratio { num: -r.num, den: r.den },
            },
            Expr::Abs(e) => match e.eval(cell)? {
                None => return Ok(None),
                Some(r) => Ratio { num: r.num.abs(), den: r.den },
            },
            Expr::Bin(a, op, b) => match (a.eval(cell)?, b.eval(cell)?) {
                (Some(x), Some(y)) => x.apply(*op, y)?,
                _ => return Ok(None),
            },
        }))
    }
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.text[self.pos..].starts_with(' ') {
            self.pos += 1;
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_space();
        if self.text[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Expr, Error> {
        let mut left = self.term()?;
        loop {
            let op = if self.eat("+") {
                Op::Add
            } else if self.eat("-") {
                Op::Sub
            } else {
                return Ok(left);
            };
            left = Expr::Bin(Box::new(left), op, Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> Result<Expr, Error> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat("*") {
                Op::Mul
            } else if self.eat("/") {
                Op::Div
            } else {
                return Ok(left);
            };
            left = Expr::Bin(Box::new(left), op, Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        if self.eat("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, Error> {
        let at = self.pos + 1;
        let expr = self.text.to_string();
        if self.eat("(") {
            let e = self.expr()?;
            return if self.eat(")") {
                Ok(e)
            } else {
                Err(Error::Unclosed { expr, opening: "a (", at })
            };
        }
        if self.eat("abs(") {
            let e = self.expr()?;
            return if self.eat(")") {
                Ok(Expr::Abs(Box::new(e)))
            } else {
                Err(Error::Unclosed { expr, opening: "abs(", at })
            };
        }
        if self.eat("{") {
            let rest = &self.text[self.pos..];
            let Some(end) = rest.find('}') else {
                return Err(Error::Unclosed { expr, opening: "a {", at });
            };
            let column = rest[..end].trim().to_string();
            if column.is_empty() {
                return Err(Error::NoColumn { expr, at });
            }
            self.pos += end + 1;
            return Ok(Expr::Column(column));
        }
        self.skip_space();
        let rest = &self.text[self.pos..];
        let len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if len == 0 {
            return Err(Error::ExpectedOperand { expr, at: self.pos + 1 });
        }
        let number = Ratio::parse(&rest[..len])?;
        self.pos += len;
        Ok(Expr::Number(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, cells: &[(&str, &str)], decimals: u32) -> String {
        let cell = |c: &str| {
            cells
                .iter()
                .find(|(n, _)| *n == c)
                .map(|(_, v)| v.to_string())
                .filter(|v| !v.is_empty())
        };
        let expr = Expr::parse(text).unwrap();
        match expr.eval(&cell).unwrap() {
            Some(r) => r.format(decimals, '.').unwrap(),
            None => String::new(),
        }
    }

    #[test]
    fn a_unit_price_from_a_total_is_exact_then_rounded_half_away_from_zero() {
        // 22.368 / 2 = 11.184 → 11.18; 2.5 / 2 = 1.25 → 1.25; 0.005 → 0.01; -0.005 → -0.01.
        assert_eq!(
            eval("{Sales} / {Quantity}", &[("Sales", "22.368"), ("Quantity", "2")], 2),
            "11.18"
        );
        assert_eq!(eval("{Sales}/{Quantity}", &[("Sales", "2.5"), ("Quantity", "2")], 2), "1.25");
        assert_eq!(eval("{x}", &[("x", "0.005")], 2), "0.01");
        assert_eq!(eval("{x}", &[("x", "-0.005")], 2), "-0.01");
        // 10 / 3 = 3.333…; × 3 is 10 exactly, never 9.99.
        assert_eq!(eval("{a} / 3 * 3", &[("a", "10")], 2), "10.00");
        assert_eq!(eval("abs({Quantity})", &[("Quantity", "-12")], 0), "12");
        assert_eq!(eval("-(1 + 2) * 4 - -1", &[], 0), "-11");
        assert_eq!(eval("{Sales} / {Quantity}", &[("Sales", ""), ("Quantity", "2")], 2), "");
    }

    #[test]
    fn bad_expressions_and_bad_cells_say_where() {
        assert!(Expr::parse("{Sales} / ").unwrap_err().to_string().contains("expected a number"));
        assert!(Expr::parse("abs({x}").unwrap_err().to_string().contains("not closed"));
        assert!(Expr::parse("{Sales").unwrap_err().to_string().contains("not closed"));
        assert!(Expr::parse("{a} {b}").unwrap_err().to_string().contains("unexpected"));
        let cell = |_: &str| Some("0".to_string());
        assert_eq!(
            Expr::parse("1 / {q}").unwrap().eval(&cell).unwrap_err().to_string(),
            "division by zero"
        );
        let cell = |_: &str| Some("n/a".to_string());
        assert!(
            Expr::parse("{q}")
                .unwrap()
                .eval(&cell)
                .unwrap_err()
                .to_string()
                .contains("not a number")
        );
    }

    /// The refusal says what and where as values: the expression, the bracket, its position;
    /// a bad cell names its column.
    #[test]
    fn refusals_are_values() {
        let err = Expr::parse("2 * {Sales").unwrap_err();
        assert_eq!(err, Error::Unclosed { expr: "2 * {Sales".into(), opening: "a {", at: 5 });
        assert_eq!(err.to_string(), "\"2 * {Sales\": a { at 5 is not closed");
        let cell = |_: &str| Some("n/a".to_string());
        let err = Expr::parse("{Units} + 1").unwrap().eval(&cell).unwrap_err();
        let not_number = Error::NotNumber { text: "n/a".into() };
        assert_eq!(err, Error::InColumn { column: "Units".into(), source: Box::new(not_number) });
        assert_eq!(err.to_string(), "{Units}: \"n/a\" is not a number");
    }
}
