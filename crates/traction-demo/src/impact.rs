//! The social-enterprise side of the demo: a community kitchen the coffee company runs with
//! volunteers, tracked as events (data-model.md, events) — the story of docs/own-goals.md.
//!
//! A team of its own ("Community kitchen") with a kitchen lead (a manager, so the kitchen takes
//! no share of the sales reps' targets) owns every event. What it counts:
//! - `meals_served`: once a day, Monday to Saturday (closed on Sundays and holidays), about 60 a
//!   day at the start, more on Saturdays, a third more in midwinter than in midsummer, growing
//!   by about a fifth a year;
//! - `volunteer_hours`: shifts of 2.5 to 4 hours (quarter hours), three on a weekday and six on a
//!   Saturday, fewer in the summer holidays (July and August);
//! - `people_trained`: a cohort of 4 to 10 trainees on the first Monday of each month;
//! - `co2_saved_kg`: food rescued from waste, weighed every Friday (0.4 kg a meal that week);
//! - `cash_in`: donations with an amount, about two a week and three times as many in December.
//!
//! And a monthly target for the kitchen team on `meals_served` (an impact KPI with pace beside
//! the sales ones): the meals of the three months before plus 5%, rounded to 50 (the whole
//! history's monthly mean for the first three months), as the sales quotas are set.
//!
//! The same seed gives the same rows (its own sub-stream); nothing is placed after `at`.

use traction_domain::Entity;
use traction_store::Error;

use crate::rng::Rng;
use crate::sink::{Row, Sink};
use crate::world::World;

/// The sub-stream of the kitchen's rows.
const STREAM: u64 = 8;

/// The kitchen's team id (`{prefix}team-kitchen`).
pub fn team_id(world: &World) -> String {
    format!("{}team-kitchen", world.p)
}

/// The kitchen lead's user id.
pub fn lead_id(world: &World) -> String {
    format!("{}kitchen-lead", world.p)
}

/// Meals expected on day `idx` before noise: 60 × season × weekday × growth.
pub fn expected_meals(world: &World, idx: usize) -> f64 {
    let day = &world.cal.days[idx];
    if day.weekday == 7 || day.holiday {
        return 0.0;
    }
    let doy = f64::from(day.day_of_year);
    // Highest around 15 January, lowest in midsummer: ±16%, so winter is about a third above summer.
    let season = 1.0 + 0.16 * (std::f64::consts::TAU * (doy - 15.0) / 365.25).cos();
    let weekday = if day.weekday == 6 { 1.3 } else { 1.0 };
    let growth = 1.0 + 0.2 * idx as f64 / 365.0;
    60.0 * season * weekday * growth
}

pub fn generate(world: &mut World, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let mut rng = Rng::new(world.seed, STREAM);
    let team = team_id(world);
    let lead = lead_id(world);
    sink.put(Row::new(Entity::Teams).text("id", &team).text("name", "Community kitchen").done())?;
    sink.put(
        Row::new(Entity::Users)
            .text("id", &lead)
            .text("name", "Rosa Mendes")
            .text("email", "rosa.mendes@demo.example")
            .text("role", "manager")
            .text("team_id", &team)
            .at("created_at", world.cal.days[0].base)
            .done(),
    )?;
    let p = world.p.clone();
    let mut n = 0u64;
    let mut put = |sink: &mut Sink<'_, '_>, kind: &str, at: i64, quantity: f64, amount, note| {
        if at > world.cal.at {
            return Ok(());
        }
        n += 1;
        let mut row = Row::new(Entity::Events)
            .text("id", format!("{p}event-{n}"))
            .text("kind", kind)
            .at("occurred_at", at)
            .real("quantity", quantity)
            .text("owner_id", &lead)
            .text("team_id", &team)
            .text("note", note);
        if let Some(minor) = amount {
            row = row.int("amount", minor);
        }
        sink.put(row.done())
    };
    let mut week_meals = 0.0;
    let mut month_meals = vec![0.0; world.cal.months()];
    for idx in 0..world.cal.len() {
        let day = world.cal.days[idx].clone();
        let expected = expected_meals(world, idx);
        if expected > 0.0 {
            let meals = (expected * rng.lognormal(1.0, 0.12)).round().max(1.0);
            week_meals += meals;
            if world.cal.instant(idx, 13 * 3600) <= world.cal.at {
                month_meals[world.cal.month_index(idx)] += meals;
            }
            put(
                sink,
                "meals_served",
                world.cal.instant(idx, 13 * 3600),
                meals,
                None,
                "lunch service",
            )?;
            let summer = matches!(day.date.month(), 7 | 8);
            let shifts =
                (if day.weekday == 6 { 6.0 } else { 3.0 }) * if summer { 0.6 } else { 1.0 };
            for shift in 0..rng.poisson(shifts) {
                let hours = 2.5 + 0.25 * rng.below(7) as f64;
                let start = (9 + (shift % 4) as i64) * 3600;
                put(
                    sink,
                    "volunteer_hours",
                    world.cal.instant(idx, start),
                    hours,
                    None,
                    "kitchen shift",
                )?;
            }
        }
        if day.weekday == 1 && day.date.day() <= 7 && !day.holiday {
            let trainees = rng.range(4, 10) as f64;
            put(
                sink,
                "people_trained",
                world.cal.instant(idx, 10 * 3600),
                trainees,
                None,
                "food hygiene course",
            )?;
        }
        if day.weekday == 5 {
            let kg = (week_meals * 0.4 * 10.0).round() / 10.0;
            if kg > 0.0 {
                put(
                    sink,
                    "co2_saved_kg",
                    world.cal.instant(idx, 16 * 3600),
                    kg,
                    None,
                    "food rescued this week",
                )?;
            }
            week_meals = 0.0;
        }
        let donations = if day.date.month() == 12 { 6.0 / 7.0 } else { 2.0 / 7.0 };
        for _ in 0..rng.poisson(donations) {
            let amount = world.money(rng.lognormal(40.0, 0.7), 5.0).max(world.minor * 5);
            let secs = 9 * 3600 + rng.range(0, 10 * 3600);
            put(sink, "cash_in", world.cal.instant(idx, secs), 1.0, Some(amount), "donation")?;
        }
        sink.boundary()?;
    }
    sink.commit()?;
    write_targets(world, sink, &month_meals)
}

/// The kitchen team's monthly `meals_served` targets, from the meals of the months before.
fn write_targets(world: &World, sink: &mut Sink<'_, '_>, month_meals: &[f64]) -> Result<(), Error> {
    let team = team_id(world);
    let months = month_meals.len();
    // The last month is under way: only whole months before it set the run rate.
    let whole = months.saturating_sub(1).max(1);
    for m in 0..months {
        let (from, to) = if m >= 3 { (m - 3, m) } else { (0, whole) };
        let mean = month_meals[from..to.min(months)].iter().sum::<f64>() / (to - from) as f64;
        let value = (mean * 1.05 / 50.0).round().max(1.0) * 50.0;
        sink.put(
            Row::new(Entity::Targets)
                .text("id", format!("{}kitchen-target-{}", world.p, m + 1))
                .text("metric", "meals_served")
                .text("scope", format!("team:{team}"))
                .text("period", "month")
                .date("starts_on", world.cal.month_start(m))
                .text("value", format!("{value}"))
                .done(),
        )?;
    }
    sink.commit()
}
