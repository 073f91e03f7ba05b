//! Durations as people write them: `30m`, `2h`, `1d`, `90s`, or a sum such as `1h30m`.
//!
//! A rule's `for` is counted in working time of its scope's calendar, so `2h` is two working
//! hours; `1d` is 24 hours of working time (three days of 09:00–17:00), which is why the docs
//! suggest `8h` for "one working day".

use crate::error::ValueError;

/// Parses a duration into seconds.
pub fn parse_seconds(text: &str) -> Result<i64, ValueError> {
    let bad = || ValueError::Duration { text: text.to_string() };
    let text = text.trim();
    if text == "0" {
        return Ok(0);
    }
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = n.checked_mul(unit).and_then(|x| total.checked_add(x)).ok_or_else(bad)?;
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// Seconds as the shortest text that parses back: `2h`, `1h30m`, `0`.
pub fn format_seconds(secs: i64) -> String {
    if secs == 0 {
        return "0".into();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if rest >= n {
            out.push_str(&format!("{}{unit}", rest / n));
            rest %= n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit_and_sum() {
        assert_eq!(parse_seconds("30m"), Ok(1800));
        assert_eq!(parse_seconds("2h"), Ok(7200));
        assert_eq!(parse_seconds("1d"), Ok(86_400));
        assert_eq!(parse_seconds("1h30m"), Ok(5400));
        assert_eq!(parse_seconds("0"), Ok(0));
        assert_eq!(format_seconds(5400), "1h30m");
    }

    #[test]
    fn bad_durations_say_how_to_write_one() {
        for text in ["", "2", "h", "2x", "-1h", "1.5h"] {
            let e = parse_seconds(text).unwrap_err().to_string();
            assert!(e.contains("30m, 2h or 1d"), "{text}: {e}");
        }
    }
}
