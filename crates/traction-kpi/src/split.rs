//! How a target's value spreads over its period (spec: kpis.md, Breakdown).
//!
//! Every split is a piecewise-constant weight over time: a list of segments `[start, end)` with a
//! density. The target of any sub-range is value × (weight in the sub-range / weight of the
//! period). With density 1 the weight of a range is its length in seconds, an integer, so the
//! worked examples come out exact (84,000 × 28,800 s / 604,800 s = 4,000).

use jiff::civil::Weekday;
use traction_domain::time::{Micros, to_zoned};

use crate::calendar::Calendar;
use crate::error::ValueError;

/// A split: `calendar`, `even` or `seasonal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Calendar,
    Even,
    Seasonal,
}

impl Split {
    pub fn parse(text: &str) -> Result<Split, ValueError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "calendar" => Ok(Split::Calendar),
            "even" => Ok(Split::Even),
            "seasonal" => Ok(Split::Seasonal),
            _ => Err(ValueError::Split { text: text.to_string() }),
        }
    }
}

/// Share of a metric per (weekday, local hour): `[weekday Monday=0][hour]`, from history.
pub type Seasonality = [[f64; 24]; 7];

/// A weight over time.
#[derive(Clone, Debug)]
pub struct Weights {
    /// `(start, end, density per second)`, in order, not overlapping.
    segments: Vec<(Micros, Micros, f64)>,
}

impl Weights {
    /// Uniform over the working time of `[from, to)`; nothing outside it.
    pub fn calendar(calendar: &Calendar, from: Micros, to: Micros) -> Weights {
        let segments =
            calendar.working_intervals(from, to).into_iter().map(|(s, e)| (s, e, 1.0)).collect();
        Weights { segments }
    }

    /// Uniform over all of `[from, to)`.
    pub fn even(from: Micros, to: Micros) -> Weights {
        Weights { segments: if to > from { vec![(from, to, 1.0)] } else { Vec::new() } }
    }

    /// Over working time, each local hour weighted by the metric's share in that (weekday, hour)
    /// over past weeks. With no history at all (every share zero), it is the calendar split.
    pub fn seasonal(
        calendar: &Calendar,
        from: Micros,
        to: Micros,
        shares: &Seasonality,
    ) -> Weights {
        if shares.iter().flatten().all(|s| *s <= 0.0) {
            return Weights::calendar(calendar, from, to);
        }
        let mut segments = Vec::new();
        for (s, e) in calendar.working_intervals(from, to) {
            // Cut the working interval at local hour boundaries (every whole hour of elapsed time).
            let mut start = s;
            while start < e {
                let hour_end = ((start.div_euclid(3_600_000_000)) + 1) * 3_600_000_000;
                let end = hour_end.min(e);
                let density = to_zoned(start, &calendar.zone).map_or(0.0, |z| {
                    let day = weekday_index(z.weekday());
                    shares[day][z.hour() as usize]
                });
                if density > 0.0 {
                    segments.push((start, end, density));
                }
                start = end;
            }
        }
        Weights { segments }
    }

    /// The weight in `[from, to)` (density × seconds).
    pub fn between(&self, from: Micros, to: Micros) -> f64 {
        self.segments
            .iter()
            .map(|(s, e, density)| {
                let overlap = (e.min(&to) - s.max(&from)).max(0);
                if overlap == 0 {
                    0.0
                } else {
                    density * (overlap / 1_000_000) as f64
                        + density * ((overlap % 1_000_000) as f64 / 1e6)
                }
            })
            .sum()
    }

    /// The whole weight.
    pub fn total(&self) -> f64 {
        self.between(Micros::MIN, Micros::MAX)
    }

    /// The first instant that carries weight, if any.
    pub fn first_instant(&self) -> Option<Micros> {
        self.segments.first().map(|(s, _, _)| *s)
    }

    /// `value` × the share of `[from, to)` in the whole weight (0 when there is no weight).
    /// Multiplies before dividing, so shares of whole seconds are exact.
    pub fn share_of(&self, value: f64, from: Micros, to: Micros) -> f64 {
        let total = self.total();
        if total <= 0.0 { 0.0 } else { value * self.between(from, to) / total }
    }
}

/// Monday = 0 … Sunday = 6.
pub fn weekday_index(day: Weekday) -> usize {
    day.to_monday_zero_offset() as usize
}
