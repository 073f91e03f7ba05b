//! Money as exact integer minor units of one currency.
//!
//! Amounts never pass through binary floating point: text in major units (`"1234.50"`) is parsed
//! digit by digit into minor units (`123450` cents), and formatted back the same way. More decimals
//! than the currency has is an error, never a rounding (spec: data-model.md, Money).

use std::fmt;

use crate::Error;

/// An ISO 4217 currency: its code and its number of decimals (the exponent of its minor unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Currencies whose minor unit is not a hundredth. Every other well-formed code has 2 decimals.
const EXPONENTS: &[(&str, u8)] = &[
    ("BHD", 3),
    ("BIF", 0),
    ("CLF", 4),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("RWF", 0),
    ("TND", 3),
    ("UGX", 0),
    ("UYI", 0),
    ("UYW", 4),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
];

impl Currency {
    /// The default workspace currency.
    pub const USD: Currency = Currency { code: *b"USD", exponent: 2 };

    /// Parses a three-letter ISO 4217 code, case-insensitively.
    pub fn parse(text: &str) -> Result<Currency, Error> {
        let code = text.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(Error::NotCurrency { text: text.to_string() });
        }
        let exponent = EXPONENTS.iter().find(|(c, _)| *c == code).map_or(2, |(_, e)| *e);
        Ok(Currency { code: [bytes[0], bytes[1], bytes[2]], exponent })
    }

    /// The three-letter code, upper case.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// The number of decimals of the minor unit (2 for USD, 0 for JPY, 3 for BHD).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Minor units in one major unit (100 for USD).
    pub fn minor_per_major(&self) -> i64 {
        10i64.pow(u32::from(self.exponent))
    }

    /// The symbol the currency is written with (`£`), or its code and a space (`SEK `).
    pub fn symbol(&self) -> String {
        match self.code() {
            "GBP" => "£".into(),
            "USD" => "$".into(),
            "EUR" => "€".into(),
            "JPY" | "CNY" => "¥".into(),
            "INR" => "₹".into(),
            "KRW" => "₩".into(),
            "CHF" => "CHF ".into(),
            "AUD" => "A$".into(),
            "CAD" => "C$".into(),
            "NZD" => "NZ$".into(),
            code => format!("{code} "),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The largest amount stored, in minor units either way of zero: 10^15 (ten trillion in a
/// currency with cents, a quadrillion yen). No real sale, price or cost comes near it, and the
/// sums of millions of such amounts still fit the metrics' arithmetic.
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

/// Parses a decimal amount in major units into minor units of `currency`.
///
/// Accepts an optional sign, digits, and an optional fraction of at most the currency's
/// exponent digits (`"12"`, `"-3.5"`, `"1234.50"`, `".5"`). Thousands separators, exponents and
/// currency symbols are refused: the message says what to write instead.
pub fn parse_minor(text: &str, currency: Currency) -> Result<i64, Error> {
    let s = text.trim();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    let well_formed = !(int_part.is_empty() && frac_part.is_empty())
        && int_part.bytes().all(|b| b.is_ascii_digit())
        && frac_part.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && frac_part.is_empty() && int_part.is_empty());
    if !well_formed {
        return Err(Error::NotAmount { text: text.to_string(), currency });
    }
    let exponent = usize::from(currency.exponent());
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > exponent {
        return Err(Error::AmountDecimals { text: text.to_string(), currency });
    }
    let overflow = || Error::AmountOverflow { text: text.to_string() };
    let mut minor: i64 = 0;
    for b in int_part.bytes() {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or_else(overflow)?;
    }
    for idx in 0..exponent {
        let digit = frac_trimmed.as_bytes().get(idx).map_or(0, |b| b - b'0');
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(digit)))
            .ok_or_else(overflow)?;
    }
    if minor > MAX_MINOR {
        return Err(Error::AmountTooLarge { text: text.to_string(), currency });
    }
    Ok(if negative { -minor } else { minor })
}

/// Formats minor units as a plain decimal string in major units with exactly the currency's
/// decimals (`123450` USD → `"1234.50"`). The inverse of [`parse_minor`].
pub fn format_minor(minor: i64, currency: Currency) -> String {
    let exponent = u32::from(currency.exponent());
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10u64.pow(exponent);
    let abs = minor.unsigned_abs();
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize)
}

/// Minor units as a number of major units, for JSON output and display only.
pub fn minor_to_major_f64(minor: i64, currency: Currency) -> f64 {
    minor as f64 / currency.minor_per_major() as f64
}

/// A number for people, with thousands separators and `decimals` places: `1234567.891` with 2
/// places → `1,234,567.89`. For display only; stored and exported figures are never rounded.
pub fn grouped(x: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, x.abs());
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let mut out = String::new();
    for (idx, ch) in whole.chars().enumerate() {
        if idx > 0 && (whole.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    let negative = x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0');
    if negative { format!("-{out}") } else { out }
}

/// A number for people: thousands separators, no decimals when it is whole (to the cent), two
/// otherwise (`84,000`, `1,234.57`); `–` for a missing or non-finite value.
pub fn human_number(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => {
            let cents = (v * 100.0).round();
            grouped(v, if cents % 100.0 == 0.0 { 0 } else { 2 })
        }
        _ => "–".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_past_the_bound_are_refused() {
        assert_eq!(parse_minor("10000000000000.00", Currency::USD), Ok(MAX_MINOR));
        assert_eq!(parse_minor("-10000000000000.00", Currency::USD), Ok(-MAX_MINOR));
        let err = parse_minor("10000000000000.01", Currency::USD).unwrap_err().to_string();
        assert!(err.contains("too large") && err.contains("10000000000000.00 USD"), "{err}");
        assert!(parse_minor("50000000000000000", Currency::USD).is_err());
        assert!(parse_minor("92233720368547758.07", Currency::USD).is_err());
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(parse_minor("1000000000000000", jpy), Ok(MAX_MINOR));
        assert!(parse_minor("1000000000000001", jpy).is_err());
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(human_number(Some(84_000.0)), "84,000");
        assert_eq!(human_number(Some(1_234.567)), "1,234.57");
        assert_eq!(human_number(Some(-0.5)), "-0.50");
        assert_eq!(human_number(Some(999.0)), "999");
        assert_eq!(human_number(Some(1_000_000.0)), "1,000,000");
        assert_eq!(human_number(None), "–");
        assert_eq!(grouped(-0.001, 2), "0.00");
        assert_eq!(grouped(12_500.0, 2), "12,500.00");
    }

    /// The message of a refusal, as a person reads it.
    fn usd(text: &str) -> Result<i64, String> {
        parse_minor(text, Currency::USD).map_err(|e| e.to_string())
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(usd("1234.5"), Ok(123_450));
        assert_eq!(usd("1234.50"), Ok(123_450));
        assert_eq!(usd(" 12 "), Ok(1200));
        assert_eq!(usd("-3.07"), Ok(-307));
        assert_eq!(usd(".5"), Ok(50));
        assert_eq!(usd("0.10"), Ok(10));
        assert_eq!(usd("1.000"), Ok(100), "trailing zeros are not extra precision");
        assert_eq!(usd("0.1"), Ok(10), "0.1 is not 0.1000000000000000055 here");
    }

    #[test]
    fn too_many_decimals_is_an_error_not_a_rounding() {
        let err = usd("10.005").unwrap_err();
        assert!(err.contains("more decimals than USD allows (2)"), "{err}");
        let jpy = Currency::parse("jpy").unwrap();
        assert_eq!(parse_minor("1500", jpy), Ok(1500));
        assert!(parse_minor("1500.5", jpy).is_err());
        let bhd = Currency::parse("BHD").unwrap();
        assert_eq!(parse_minor("1.234", bhd), Ok(1234));
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for bad in ["", "-", ".", "1,234.00", "$12", "1e3", "12.3.4", "abc", "1 000"] {
            assert!(usd(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(usd("99999999999999999999").unwrap_err().contains("too large"));
    }

    #[test]
    fn formatting_is_the_inverse_of_parsing() {
        assert_eq!(format_minor(123_450, Currency::USD), "1234.50");
        assert_eq!(format_minor(-5, Currency::USD), "-0.05");
        assert_eq!(format_minor(0, Currency::USD), "0.00");
        assert_eq!(format_minor(1500, Currency::parse("JPY").unwrap()), "1500");
        for minor in [-1_000_001, -1, 0, 7, 99, 100, 123_456_789] {
            assert_eq!(usd(&format_minor(minor, Currency::USD)), Ok(minor));
        }
    }

    #[test]
    fn currency_codes_are_checked() {
        assert_eq!(Currency::parse("eur").unwrap().code(), "EUR");
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("E1R").is_err());
    }
}
