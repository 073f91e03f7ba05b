//! Numbers for people (web-design.md, Visual language): money with the currency symbol and the
//! thousands separators of the reader's locale, rates as percentages with one decimal, durations
//! humanised (`42 min`, `3.5 h`, `12 days`). Display only: stored and exported figures are never
//! rounded.

use traction_domain::money::Currency;
use traction_metrics::catalog::Unit;

/// How numbers are written for the reader: from the first language of `Accept-Language`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locale {
    pub group: &'static str,
    pub decimal: char,
}

impl Locale {
    pub const EN: Locale = Locale { group: ",", decimal: '.' };

    /// The locale of an `Accept-Language` header; English separators when absent or unknown.
    pub fn from_accept_language(header: Option<&str>) -> Locale {
        let first = header
            .and_then(|h| h.split(',').next())
            .map(|l| l.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .unwrap_or_default();
        let lang = first.split(['-', '_']).next().unwrap_or("");
        match lang {
            "de" | "es" | "it" | "nl" | "pt" | "da" | "id" | "tr" | "el" | "ro" | "sl" | "hr" => {
                Locale { group: ".", decimal: ',' }
            }
            // A narrow no-break space groups thousands in French and the Nordic languages.
            "fr" | "sv" | "nb" | "no" | "nn" | "fi" | "pl" | "cs" | "sk" | "ru" | "uk" | "hu"
            | "et" | "lt" | "lv" | "bg" => Locale { group: "\u{202f}", decimal: ',' },
            _ if first == "de-ch" => Locale { group: "’", decimal: '.' },
            _ => Locale::EN,
        }
    }

    /// `x` with `decimals` places and the locale's separators.
    pub fn number(&self, x: f64, decimals: usize) -> String {
        if !x.is_finite() {
            return "–".into();
        }
        let text = format!("{:.*}", decimals, x.abs());
        let (whole, frac) =
            text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
        let mut out = String::new();
        for (idx, ch) in whole.chars().enumerate() {
            if idx > 0 && (whole.len() - idx).is_multiple_of(3) {
                out.push_str(self.group);
            }
            out.push(ch);
        }
        if let Some(f) = frac {
            out.push(self.decimal);
            out.push_str(f);
        }
        let negative = x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0');
        if negative { format!("−{out}") } else { out }
    }
}

/// The symbol a currency is written with, or its code and a space.
pub fn currency_symbol(currency: Currency) -> String {
    currency.symbol()
}

/// Formats values of the workspace for one reader.
#[derive(Clone, Copy, Debug)]
pub struct Fmt {
    pub locale: Locale,
    pub currency: Currency,
}

impl Fmt {
    /// Money in major units: whole units from 1,000 up (`£84,200`), cents below (`£12.50`).
    pub fn money(&self, x: f64) -> String {
        let decimals = if x.abs() >= 1000.0 { 0 } else { usize::from(self.currency.exponent()) };
        let sign = if x < 0.0 { "−" } else { "" };
        format!("{sign}{}{}", currency_symbol(self.currency), self.locale.number(x.abs(), decimals))
    }

    /// A count: whole numbers grouped, fractions (per-head shares, averages) with one decimal.
    pub fn count(&self, x: f64) -> String {
        if (x - x.round()).abs() < 1e-9 {
            self.locale.number(x, 0)
        } else {
            self.locale.number(x, 1)
        }
    }

    /// A ratio as a percentage with one decimal: 0.4231 → `42.3%`.
    pub fn percent(&self, ratio: f64) -> String {
        format!("{}%", self.locale.number(ratio * 100.0, 1))
    }

    /// A value in its unit.
    pub fn value(&self, unit: Unit, x: Option<f64>) -> String {
        let Some(x) = x.filter(|x| x.is_finite()) else { return "–".into() };
        match unit {
            Unit::Money => self.money(x),
            Unit::Ratio => self.percent(x),
            Unit::Percent => format!("{}%", self.locale.number(x, 1)),
            Unit::Seconds => self.duration(x),
            Unit::Days => self.duration(x * 86_400.0),
            Unit::Months => format!("{} mo", self.locale.number(x, 1)),
            Unit::Score => self.locale.number(x, 1),
            Unit::Count => self.count(x),
        }
    }

    /// A duration in seconds, humanised: `45 s`, `42 min`, `3.5 h`, `12 days`.
    pub fn duration(&self, seconds: f64) -> String {
        let s = seconds.abs();
        let sign = if seconds < 0.0 { "−" } else { "" };
        let text = if s < 90.0 {
            format!("{} s", self.locale.number(s, 0))
        } else if s < 90.0 * 60.0 {
            format!("{} min", self.locale.number(s / 60.0, 0))
        } else if s < 48.0 * 3600.0 {
            format!("{} h", self.locale.number(s / 3600.0, 1))
        } else {
            let days = s / 86_400.0;
            format!("{} days", self.locale.number(days, if days < 10.0 { 1 } else { 0 }))
        };
        format!("{sign}{text}")
    }

    /// A change as an arrow and a percentage: `▲ 12.0%`, `▼ 3.4%`; `None` without a base.
    pub fn change(&self, now: Option<f64>, then: Option<f64>) -> Option<(bool, String)> {
        match (now, then) {
            (Some(a), Some(b)) => {
                let c = traction_metrics::relative_change(a, b)?;
                let up = c >= 0.0;
                Some((up, format!("{} {}", if up { "▲" } else { "▼" }, self.percent(c.abs()))))
            }
            _ => None,
        }
    }

    /// The labels of a whole axis: `84k`, `1.2M`, `£3.5k`, `45%`, each tick with the fewest
    /// decimals that show every tick of its size exactly, so that ticks stay distinct on small
    /// values (`0, 0.05, 0.10, 0.15` rather than `0, 0.1, 0.1, 0.2`; `0%, 0.5%, 1.0%`).
    pub fn axis_labels(&self, unit: Unit, ticks: &[f64]) -> Vec<String> {
        let shown = |v: f64| if unit == Unit::Ratio { v * 100.0 } else { v };
        let scaled = |v: f64| -> (f64, &'static str) {
            let a = v.abs();
            if unit == Unit::Ratio || a < 1e3 {
                (v, "")
            } else if a < 1e6 {
                (v / 1e3, "k")
            } else {
                (v / 1e6, "M")
            }
        };
        let exact = |n: f64, d: i32| {
            let p = 10f64.powi(d);
            ((n * p).round() / p - n).abs() <= 1e-7 * n.abs().max(1e-3)
        };
        // Decimals per suffix: the ticks shown in thousands agree among themselves.
        let decimals = |suffix: &str| -> usize {
            (0..=6)
                .find(|d| {
                    ticks
                        .iter()
                        .map(|t| scaled(shown(*t)))
                        .filter(|(_, s)| *s == suffix)
                        .all(|(n, _)| exact(n, *d))
                })
                .unwrap_or(6) as usize
        };
        ticks
            .iter()
            .map(|t| {
                if unit == Unit::Seconds {
                    return self.duration(*t);
                }
                let (n, suffix) = scaled(shown(*t));
                let number = if *t == 0.0 {
                    "0".to_string()
                } else {
                    format!("{}{suffix}", self.locale.number(n, decimals(suffix)))
                };
                match unit {
                    Unit::Money => match number.strip_prefix('−') {
                        Some(abs) => format!("−{}{abs}", currency_symbol(self.currency).trim_end()),
                        None => format!("{}{number}", currency_symbol(self.currency).trim_end()),
                    },
                    Unit::Ratio => format!("{number}%"),
                    _ => number,
                }
            })
            .collect()
    }

    /// A short axis label: `84k`, `1.2M`, `£3.5k`, `45%`.
    pub fn axis(&self, unit: Unit, x: f64) -> String {
        let short = |v: f64| -> String {
            let a = v.abs();
            let (n, suffix) = if a >= 1e6 {
                (v / 1e6, "M")
            } else if a >= 1e3 {
                (v / 1e3, "k")
            } else {
                (v, "")
            };
            let decimals = if n.fract().abs() < 1e-9 { 0 } else { 1 };
            format!("{}{suffix}", self.locale.number(n, decimals))
        };
        match unit {
            Unit::Money => format!("{}{}", currency_symbol(self.currency).trim_end(), short(x)),
            Unit::Ratio => format!("{}%", self.locale.number(x * 100.0, 0)),
            Unit::Seconds => self.duration(x),
            _ => short(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbp() -> Fmt {
        Fmt { locale: Locale::EN, currency: Currency::parse("GBP").unwrap() }
    }

    #[test]
    fn money_has_symbol_and_separators() {
        assert_eq!(gbp().money(84_200.0), "£84,200");
        assert_eq!(gbp().money(12.5), "£12.50");
        assert_eq!(gbp().money(-1_234_567.0), "−£1,234,567");
        let de = Fmt { locale: Locale::from_accept_language(Some("de-DE,de;q=0.9")), ..gbp() };
        assert_eq!(de.money(84_200.0), "£84.200");
        assert_eq!(de.percent(0.4231), "42,3%");
        let jpy = Fmt { currency: Currency::parse("JPY").unwrap(), ..gbp() };
        assert_eq!(jpy.money(950.0), "¥950");
    }

    #[test]
    fn durations_are_humanised() {
        let f = gbp();
        assert_eq!(f.duration(45.0), "45 s");
        assert_eq!(f.duration(42.0 * 60.0), "42 min");
        assert_eq!(f.duration(3.5 * 3600.0), "3.5 h");
        assert_eq!(f.duration(12.0 * 86_400.0), "12 days");
        assert_eq!(f.value(Unit::Days, Some(2.5)), "2.5 days");
    }

    #[test]
    fn rates_and_changes() {
        let f = gbp();
        assert_eq!(f.value(Unit::Ratio, Some(0.4231)), "42.3%");
        assert_eq!(f.change(Some(112.0), Some(100.0)), Some((true, "▲ 12.0%".into())));
        assert_eq!(f.change(Some(90.0), Some(100.0)), Some((false, "▼ 10.0%".into())));
        assert_eq!(f.change(Some(1.0), Some(0.0)), None);
        assert_eq!(f.axis(Unit::Money, 84_000.0), "£84k");
        assert_eq!(f.axis(Unit::Count, 1_500_000.0), "1.5M");
    }

    /// Issue 22.7: "0.0, 0.0, 0" was seen on an axis of small values; every tick is distinct.
    #[test]
    fn axis_labels_keep_small_ticks_distinct() {
        let f = gbp();
        let labels = |unit, ticks: &[f64]| f.axis_labels(unit, ticks);
        assert_eq!(labels(Unit::Count, &[0.0, 0.02, 0.04, 0.06]), ["0", "0.02", "0.04", "0.06"]);
        assert_eq!(
            labels(Unit::Count, &[0.0, 0.25, 0.5, 0.75, 1.0]),
            ["0", "0.25", "0.50", "0.75", "1.00"]
        );
        assert_eq!(labels(Unit::Ratio, &[0.0, 0.002, 0.004]), ["0%", "0.2%", "0.4%"]);
        assert_eq!(labels(Unit::Ratio, &[0.0, 0.25, 0.5]), ["0%", "25%", "50%"]);
        assert_eq!(
            labels(Unit::Money, &[0.0, 0.25, 0.5, 0.75, 1.0]),
            ["£0", "£0.25", "£0.50", "£0.75", "£1.00"]
        );
        assert_eq!(
            labels(Unit::Money, &[0.0, 500.0, 1000.0, 1500.0]),
            ["£0", "£500", "£1.0k", "£1.5k"]
        );
        assert_eq!(labels(Unit::Money, &[-20_000.0, 0.0, 20_000.0]), ["−£20k", "£0", "£20k"]);
        assert_eq!(labels(Unit::Count, &[0.0, 2.0, 4.0]), ["0", "2", "4"]);
    }
}
