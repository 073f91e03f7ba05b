//! The shop side: customers who arrive with the season, order at their own pace (more at weekends
//! and before Christmas), come back, and one day stop; orders with lines, fulfilment against a
//! promised date, satisfaction answers; then the stock's restocks and adjustments.
//!
//! A customer's orders follow an inhomogeneous Poisson process, drawn by thinning (Lewis and
//! Shedler): candidate times at the peak rate, each kept with the day's weight over the peak. So
//! weekend and seasonal peaks show in the data while each customer keeps their own rate.

use jiff::Span;
use traction_domain::Entity;
use traction_domain::time::Micros;
use traction_store::Error;

use crate::calendar::{Calendar, DAY, HOUR, SECOND};
use crate::rng::Rng;
use crate::sales::nps_score;
use crate::sink::{Row, Sink};
use crate::world::{self, REGION_WEIGHTS, REGIONS, World, bump, stream};

/// Customers arrive over three years (one before the window) so the shop is running when the
/// history starts.
const LEAD_IN_DAYS: i64 = 365;
/// Mean days a customer keeps buying.
const MEAN_LIFETIME_DAYS: f64 = 420.0;
/// Median days between a customer's orders.
const MEDIAN_GAP_DAYS: f64 = 38.0;

pub fn generate(world: &mut World, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let mut rng = Rng::new(world.seed, stream::SHOP);
    let cal = &world.cal;
    let len = cal.len() as i64;
    // Day weights, normalised to mean 1 over the window; days before the window reuse the
    // season of the same day a year later without the growth.
    let raw: Vec<f64> =
        (0..cal.len()).map(|d| cal.shop_season(d) * cal.shop_weekday(d) * cal.growth(d)).collect();
    let mean = raw.iter().sum::<f64>() / raw.len() as f64;
    let weights: Vec<f64> = (-LEAD_IN_DAYS..len)
        .map(|d| {
            if d >= 0 {
                raw[d as usize] / mean
            } else {
                let same = (d + 365).clamp(0, len - 1) as usize;
                raw[same] / cal.growth(same) / mean
            }
        })
        .collect();
    let weight_of = |d: i64| weights[(d + LEAD_IN_DAYS) as usize];
    let peak = raw.iter().copied().fold(0.0, f64::max) / mean;
    for _ in 0..world.sizes.customers {
        // Arrival day by rejection: uniform over the span, kept with weight / peak.
        let arrival = loop {
            let d = rng.range(-LEAD_IN_DAYS, len - 1);
            if rng.f64() * peak < weight_of(d) {
                break d;
            }
        };
        let end = (arrival as f64 + rng.exponential(MEAN_LIFETIME_DAYS)).min(len as f64);
        let rate = 1.0 / rng.lognormal(MEDIAN_GAP_DAYS, 0.6);
        let mut t = arrival as f64;
        let mut days = vec![arrival];
        loop {
            t += rng.exponential(1.0 / (rate * peak));
            if t >= end {
                break;
            }
            let d = t.floor() as i64;
            if rng.f64() * peak < weight_of(d) {
                days.push(d);
            }
        }
        days.retain(|d| *d >= 0);
        if days.is_empty() {
            continue;
        }
        customer_story(world, &mut rng, arrival, &days, sink)?;
        sink.boundary()?;
    }
    sink.commit()?;
    inventory(world, sink)?;
    sink.commit()
}

fn customer_story(
    world: &mut World,
    rng: &mut Rng,
    arrival: i64,
    days: &[i64],
    sink: &mut Sink<'_, '_>,
) -> Result<(), Error> {
    let p = world.p.clone();
    let at = world.cal.at;
    let first_order = world.cal.instant(days[0] as usize, Calendar::any_secs(rng));
    if first_order > at {
        return Ok(());
    }
    let n = bump(&mut world.next.customer);
    let account_id = format!("{p}customer-{n:08}");
    let office = rng.chance(0.1);
    let name = if office { world::company(rng) } else { world::person(rng) };
    let created = if arrival >= 0 {
        first_order
    } else {
        world.cal.days[0].base + arrival * DAY + Calendar::any_secs(rng) * SECOND
    };
    sink.put(
        Row::new(Entity::Accounts)
            .text("id", &account_id)
            .text("name", &name)
            .text("segment", if office { "office" } else { "consumer" })
            .text("region", REGIONS[rng.weighted(REGION_WEIGHTS)])
            .at("created_at", created)
            .done(),
    )?;
    let contact_id = format!("{p}customer-contact-{n:08}");
    sink.put(
        Row::new(Entity::Contacts)
            .text("id", &contact_id)
            .text("name", &name)
            .text("email", format!("{}@mail.example", world::email_local(&name)))
            .text("account_id", &account_id)
            .at("created_at", created)
            .done(),
    )?;
    let channel_weights = [0.62, 0.28, 0.1];
    let channel = ["web", "store", "phone"][rng.weighted(&channel_weights)];
    for &day in days {
        let day = day as usize;
        let placed = world.cal.instant(day, Calendar::any_secs(rng));
        if placed > at {
            break;
        }
        // Customers mostly keep their channel.
        let channel = if rng.chance(0.8) {
            channel
        } else {
            ["web", "store", "phone"][rng.weighted(&channel_weights)]
        };
        order(
            world,
            rng,
            &Sale { placed, day, channel, account_id: &account_id, contact_id: &contact_id },
            sink,
        )?;
    }
    Ok(())
}

/// One order to place: when, on which day of the calendar, through which channel, by which
/// account and contact.
#[derive(Clone, Copy)]
struct Sale<'a> {
    placed: Micros,
    day: usize,
    channel: &'a str,
    account_id: &'a str,
    contact_id: &'a str,
}

fn order(
    world: &mut World,
    rng: &mut Rng,
    sale: &Sale<'_>,
    sink: &mut Sink<'_, '_>,
) -> Result<(), Error> {
    let Sale { placed, day, channel, account_id, contact_id } = *sale;
    let p = world.p.clone();
    let at = world.cal.at;
    let n = bump(&mut world.next.order);
    let id = format!("{p}order-{n:08}");
    let date = world.cal.days[day].date;
    let in_store = channel == "store";
    let promised =
        if in_store { date } else { date.checked_add(Span::new().days(3)).unwrap_or(date) };
    let mut status = if rng.chance(0.035) {
        "cancelled"
    } else if rng.chance(0.03) {
        "returned"
    } else {
        "fulfilled"
    };
    let fulfilled = if status == "cancelled" {
        None
    } else if in_store {
        Some(placed + rng.range(1, 10) * 60 * SECOND)
    } else {
        // Usually a day or two; the pre-Christmas rush runs late.
        let rush = if world.cal.shop_season(day) > 1.4 { 1.6 } else { 1.0 };
        Some(placed + (rng.lognormal(1.4 * rush, 0.5) * DAY as f64) as Micros)
    };
    let fulfilled = fulfilled.filter(|t| *t <= at);
    if fulfilled.is_none() && status != "cancelled" {
        status = "placed";
    }
    // Lines: one to a few distinct products; sale-time discounts on some lines.
    let lines = (1 + rng.poisson(1.0)).min(8) as usize;
    let mut products: Vec<usize> = Vec::with_capacity(lines);
    for _ in 0..lines {
        for _ in 0..4 {
            let pr = world.product(rng);
            if !products.contains(&pr) {
                products.push(pr);
                break;
            }
        }
    }
    let sale_period =
        matches!((date.month(), date.day()), (11, 24..=30) | (12, 26..=31) | (1, 1..=10));
    let mut total = 0;
    let mut line_rows = Vec::with_capacity(products.len());
    for (idx, &pr) in products.iter().enumerate() {
        let quantity = 1 + rng.poisson(0.45) as i64;
        let price = world.products[pr].price;
        let discount = if sale_period && rng.chance(0.4) { quantity * price / 10 } else { 0 };
        // Demo lines are far inside the bounds, so the exact amount fits an i64.
        total += traction_domain::orders::line_amount(quantity, price, discount) as i64;
        if status == "placed" || status == "fulfilled" {
            let week = day / 7;
            world.tally.product_week_units[pr][week] += quantity as u64;
        }
        line_rows.push(
            Row::new(Entity::OrderLines)
                .text("order_id", &id)
                .int("line", idx as i64 + 1)
                .text("product_id", &world.products[pr].id)
                .int("quantity", quantity)
                .int("unit_price", price)
                .int("discount", discount)
                .done(),
        );
    }
    world.tally.month_orders[world.cal.month_index(day)] += 1;
    sink.put(
        Row::new(Entity::Orders)
            .text("id", &id)
            .text("account_id", account_id)
            .at("placed_at", placed)
            .text("channel", channel)
            .text("status", status)
            .opt_at("fulfilled_at", fulfilled)
            .date("promised_on", promised)
            .int("total", total)
            .done(),
    )?;
    for line in line_rows {
        sink.put(line)?;
    }
    // Satisfaction: a CSAT answer after some deliveries (late ones score worse), NPS now and then.
    if let Some(done) = fulfilled
        && status == "fulfilled"
    {
        let done_day = world.cal.day_of(done).map(|d| world.cal.days[d].date);
        let on_time = done_day.is_some_and(|d| d <= promised);
        if rng.chance(0.06) {
            let answered = done + (rng.lognormal(20.0, 0.8) * HOUR as f64) as Micros;
            if answered <= at {
                let weights: &[f64] = if on_time {
                    &[0.02, 0.03, 0.1, 0.35, 0.5]
                } else {
                    &[0.1, 0.15, 0.3, 0.3, 0.15]
                };
                let score = 1 + rng.weighted(weights) as i64;
                survey(world, "csat", score, answered, account_id, contact_id, sink)?;
            }
        }
        if rng.chance(0.02) {
            let answered = done + rng.range(7, 20) * DAY;
            if answered <= at {
                let score = nps_score(rng, 0.45, 0.3);
                survey(world, "nps", score, answered, account_id, contact_id, sink)?;
            }
        }
    }
    Ok(())
}

fn survey(
    world: &mut World,
    kind: &str,
    score: i64,
    answered: Micros,
    account_id: &str,
    contact_id: &str,
    sink: &mut Sink<'_, '_>,
) -> Result<(), Error> {
    let n = bump(&mut world.next.survey);
    sink.put(
        Row::new(Entity::Surveys)
            .text("id", format!("{}survey-{n:08}", world.p))
            .text("kind", kind)
            .int("score", score)
            .at("answered_at", answered)
            .text("account_id", account_id)
            .text("contact_id", contact_id)
            .done(),
    )
}

/// Restocks and adjustments. Sales movements come from the order lines (the store derives them);
/// here each product is restocked at the start of each week with what sold the week before,
/// rounded to cases of six (sometimes a delivery slips a week), and stock counts now and then
/// find a breakage or a miscount.
fn inventory(world: &mut World, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let mut rng = Rng::new(world.seed, stream::INVENTORY);
    let p = world.p.clone();
    let weeks = world.cal.len() / 7 + 1;
    for pr in 0..world.products.len() {
        let product_id = world.products[pr].id.clone();
        let mut owed = 0u64;
        for week in 0..weeks {
            owed += world.tally.product_week_units[pr][week];
            let day = (week + 1) * 7;
            if day >= world.cal.len() {
                break;
            }
            let mut put = |world: &mut World, delta: i64, reason: &str, t: Micros| {
                let n = bump(&mut world.next.movement);
                sink.put(
                    Row::new(Entity::InventoryMovements)
                        .text("id", format!("{p}movement-{n:08}"))
                        .text("product_id", &product_id)
                        .int("delta", delta)
                        .text("reason", reason)
                        .at("occurred_at", t)
                        .done(),
                )
            };
            let Some(t) = world.cal.to_working(world.cal.instant(day, 7 * 3600), &mut rng) else {
                break;
            };
            let cases = (owed as f64 / 6.0).round() as u64;
            if cases > 0 && !rng.chance(0.05) {
                put(world, (cases * 6) as i64, "restock", t)?;
                owed = owed.saturating_sub(cases * 6);
            }
            if week % 4 == 3 && rng.chance(0.25) && t + 6 * HOUR <= world.cal.at {
                let delta = if rng.chance(0.85) { -rng.range(1, 3) } else { rng.range(1, 2) };
                put(world, delta, "adjustment", t + 6 * HOUR)?;
            }
        }
        sink.boundary()?;
    }
    Ok(())
}
