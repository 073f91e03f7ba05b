//! Reading a metric or funnel query from text parameters — an HTTP query string
//! (`GET /api/v1/metrics/{name}?from&to&grain&by&where&compare&at`, `GET /api/v1/funnel?…`) or
//! a form — so every front end parses them the same way, once, with messages that name the
//! parameter at fault.

use jiff::tz::TimeZone;
use traction_domain::time::{Micros, parse_instant};

use crate::buckets::Grain;
use crate::filter::Filter;
use crate::funnel::FunnelQuery;
use crate::plan::{Compare, Query, parse_by};
use crate::{Error, Input};

const METRIC_PARAMS: &[&str] = &["from", "to", "grain", "by", "where", "compare", "at"];
const EXPLAIN_PARAMS: &[&str] = &["from", "to", "compare", "by", "where", "scope", "at"];
const FUNNEL_PARAMS: &[&str] = &["pipeline", "from", "to", "where", "at"];

struct Params<'a> {
    pairs: &'a [(String, String)],
}

impl<'a> Params<'a> {
    fn new(pairs: &'a [(String, String)], known: &[&'static str]) -> Result<Params<'a>, Error> {
        for (idx, (key, _)) in pairs.iter().enumerate() {
            if !known.contains(&key.as_str()) {
                return Err(
                    Input::UnknownParameter { key: key.clone(), known: known.to_vec() }.into()
                );
            }
            if pairs[..idx].iter().any(|(k, _)| k == key) {
                return Err(Input::RepeatedParameter { key: key.clone() }.into());
            }
        }
        Ok(Params { pairs })
    }

    /// A parameter's value; empty counts as absent.
    fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, v)| k == key && !v.trim().is_empty()).map(|(_, v)| v.as_str())
    }

    fn instant(&self, key: &str, zone: &TimeZone) -> Result<Option<Micros>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(text) => parse_instant(text, zone)
                .map(Some)
                .map_err(|reason| Input::Instant { key: key.to_string(), reason }.into()),
        }
    }

    /// The `where`, parsed once here; absent is no condition.
    fn filter(&self) -> Result<Filter, Error> {
        Ok(Filter::parse(self.get("where").unwrap_or_default())?)
    }

    fn required(&self, key: &str, zone: &TimeZone) -> Result<Micros, Error> {
        self.instant(key, zone)?
            .ok_or_else(|| Error::from(Input::Required { key: key.to_string() }))
    }
}

/// A metric query from parameters; `at` defaults to `now`.
pub fn metric_query(
    metric: &str,
    pairs: &[(String, String)],
    zone: &TimeZone,
    now: Micros,
) -> Result<Query, Error> {
    let params = Params::new(pairs, METRIC_PARAMS)?;
    let grain = match params.get("grain") {
        None => Grain::All,
        Some(text) => Grain::parse(text)?,
    };
    let compare = match params.get("compare") {
        None => None,
        Some(text) => Some(Compare::parse(text)?),
    };
    Ok(Query {
        metric: metric.to_string(),
        from: params.required("from", zone)?,
        to: params.required("to", zone)?,
        grain,
        by: params.get("by").map(parse_by).unwrap_or_default(),
        filter: params.filter()?,
        compare,
        at: params.instant("at", zone)?.unwrap_or(now),
    })
}

/// A funnel query from parameters; `at` defaults to `now`.
pub fn funnel_query(
    pairs: &[(String, String)],
    zone: &TimeZone,
    now: Micros,
) -> Result<FunnelQuery, Error> {
    let params = Params::new(pairs, FUNNEL_PARAMS)?;
    Ok(FunnelQuery {
        pipeline: params.get("pipeline").map(str::to_string),
        from: params.required("from", zone)?,
        to: params.required("to", zone)?,
        filter: params.filter()?,
        at: params.instant("at", zone)?.unwrap_or(now),
    })
}

/// An explain query from parameters (`GET /api/v1/explain/{metric}?from&to&compare&by&where&scope&at`),
/// and the scope as written (`company`, `team:ID`, `user:ID`), which the caller turns into
/// owners. `compare` is `previous` (also `prev`, the default) or `yoy`; `by` names one
/// dimension.
pub fn explain_query(
    metric: &str,
    pairs: &[(String, String)],
    zone: &TimeZone,
    now: Micros,
) -> Result<(crate::explain::ExplainQuery, Option<String>), Error> {
    let params = Params::new(pairs, EXPLAIN_PARAMS)?;
    let compare = parse_explain_compare(params.get("compare"))?;
    let by = match params.get("by").map(parse_by) {
        Some(mut dims) if dims.len() == 1 => dims.pop(),
        Some(dims) if dims.len() > 1 => {
            return Err(Input::ExplainByMany { dims }.into());
        }
        _ => None,
    };
    let query = crate::explain::ExplainQuery {
        metric: metric.to_string(),
        from: params.required("from", zone)?,
        to: params.required("to", zone)?,
        compare,
        by,
        filter: params.filter()?,
        at: params.instant("at", zone)?.unwrap_or(now),
    };
    Ok((query, params.get("scope").map(str::to_string)))
}

/// The comparison of an explanation: `previous` (or `prev`; the default) or `yoy`.
pub fn parse_explain_compare(text: Option<&str>) -> Result<Compare, Error> {
    match text.map(|t| t.trim().to_ascii_lowercase()) {
        None => Ok(Compare::Previous),
        Some(t) if t == "prev" => Ok(Compare::Previous),
        Some(t) => Compare::parse(&t).map_err(Error::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parameters_become_a_query() {
        let zone = TimeZone::get("Europe/London").unwrap();
        let q = metric_query(
            "win_rate",
            &pairs(&[
                ("from", "2026-07-01"),
                ("to", "2026-08-01"),
                ("grain", "Week"),
                ("by", "owner, segment"),
                ("where", "amount > 10"),
                ("compare", "yoy"),
                ("at", ""),
            ]),
            &zone,
            42,
        )
        .unwrap();
        // Local midnight of 1 July 2026 in London (BST) is 23:00 UTC on 30 June:
        // 1782860400 s since the epoch.
        assert_eq!(q.from, 1_782_860_400_000_000);
        assert_eq!((q.grain, q.compare, q.at), (Grain::Week, Some(Compare::Yoy), 42));
        assert_eq!(q.by, ["owner", "segment"]);
        assert_eq!(q.filter, Filter::parse("amount > 10").unwrap());
    }

    #[test]
    fn mistakes_name_the_parameter() {
        let zone = TimeZone::UTC;
        let err = |list: &[(&str, &str)]| {
            metric_query("m", &pairs(list), &zone, 0).unwrap_err().to_string()
        };
        assert_eq!(
            err(&[("to", "2026-01-01")]),
            "from is required: give a date or a timestamp, e.g. from=2026-03-01"
        );
        assert!(
            err(&[("from", "soon"), ("to", "2026-01-01")])
                .starts_with("from: \"soon\" is not a timestamp")
        );
        assert_eq!(
            err(&[("form", "2026-01-01")]),
            "unknown parameter \"form\": use from, to, grain, by, where, compare, at"
        );
        assert_eq!(err(&[("by", "a"), ("by", "b")]), "parameter \"by\" is given twice");
        assert!(
            err(&[("from", "2026-01-01"), ("to", "2026-02-01"), ("grain", "fortnight")])
                .contains("use hour, day")
        );
        let f = funnel_query(
            &pairs(&[("from", "2026-01-01"), ("to", "2026-02-01"), ("pipeline", "p1")]),
            &zone,
            7,
        )
        .unwrap();
        assert_eq!((f.pipeline.as_deref(), f.at), (Some("p1"), 7));
    }
}
