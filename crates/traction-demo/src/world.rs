//! The cast of the demo: teams, people, the pipeline, campaigns and products — the small, fixed
//! part that the streamed rows refer to — and the operational rows written last (costs, web
//! visits, targets), which read the tallies the streams leave behind.

use traction_domain::Entity;
use traction_store::Error;

use crate::Sizes;
use crate::calendar::{Calendar, DAY, HISTORY_DAYS};
use crate::rng::Rng;
use crate::sink::{Row, Sink};

/// Sub-stream numbers: one per part of the data, so each part draws from its own sequence.
pub mod stream {
    pub const CAST: u64 = 1;
    pub const LEADS: u64 = 2;
    pub const PROSPECTING: u64 = 3;
    pub const SHOP: u64 = 4;
    pub const INVENTORY: u64 = 5;
    pub const COSTS: u64 = 6;
    pub const WEB: u64 = 7;
}

pub const FIRST_NAMES: &[&str] = &[
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo", "Freya",
    "Oscar", "Lily", "Harry", "Grace", "Jack", "Sofia", "Charlie", "Ella", "Thomas", "Priya",
    "Mohammed", "Zara", "Ravi", "Chloe", "Daniel", "Aisha", "Samuel", "Hannah", "Ewan", "Niamh",
    "Callum",
];
pub const LAST_NAMES: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Wright", "Evans", "Walker", "Shaw", "Hughes", "Green", "Khan", "Lewis", "Hall", "Clarke",
    "Turner", "Murray", "Campbell", "Kelly", "Singh", "Ahmed", "Price", "Bennett", "Fraser",
];
const COMPANY_WORDS: &[&str] = &[
    "Northwind",
    "Riverside",
    "Bluebell",
    "Harbour",
    "Oakfield",
    "Summit",
    "Kestrel",
    "Granite",
    "Meadow",
    "Lantern",
    "Copper",
    "Thistle",
    "Beacon",
    "Orchard",
    "Falcon",
    "Ashgrove",
    "Hawthorn",
    "Quayside",
    "Pennine",
    "Solent",
    "Fenwick",
    "Marlow",
    "Brightwater",
    "Ironbridge",
];
const COMPANY_KINDS: &[&str] = &[
    "Logistics",
    "Architects",
    "Dental",
    "Legal",
    "Studios",
    "Engineering",
    "Consulting",
    "Accountants",
    "Estates",
    "Clinic",
    "Software",
    "Print",
    "Hotels",
    "Academy",
    "Surveyors",
];
const COMPANY_SUFFIX: &[&str] = &["Ltd", "LLP", "Group", "& Co", "Ltd", "Partners"];
pub const REGIONS: &[&str] = &[
    "london",
    "south_east",
    "south_west",
    "midlands",
    "north_west",
    "north_east",
    "scotland",
    "wales",
];
/// Regions weighted like where a London-based business finds its customers.
pub const REGION_WEIGHTS: &[f64] = &[0.3, 0.18, 0.09, 0.12, 0.11, 0.07, 0.08, 0.05];
const TEAM_NAMES: &[&str] = &[
    "Inside Sales",
    "Field Sales",
    "Key Accounts",
    "Partnerships",
    "North",
    "South",
    "Midlands",
    "Scotland",
    "Enterprise",
    "Public Sector",
];

pub fn person(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
}

pub fn company(rng: &mut Rng) -> String {
    format!("{} {} {}", rng.pick(COMPANY_WORDS), rng.pick(COMPANY_KINDS), rng.pick(COMPANY_SUFFIX))
}

/// The name of B2B account `n`, fixed by its number (like its segment) so a deal on an account met
/// long before can be named without keeping accounts in memory.
pub fn company_of(seed: u64, n: u64) -> String {
    company(&mut Rng::new(seed, 0xC0_4000_0000 ^ n))
}

/// `Amelia Smith` → `amelia.smith`.
pub fn email_local(name: &str) -> String {
    name.to_ascii_lowercase().replace(' ', ".")
}

pub struct Team {
    pub id: String,
}

pub struct Rep {
    pub id: String,
    pub team: usize,
    /// How well the rep sells: scales conversion at the demo and at negotiation, and deal size.
    pub skill: f64,
    /// How much the rep does: scales activities per day.
    pub diligence: f64,
    /// The rep's days in the window: `start..end` (day indexes).
    pub start: usize,
    pub end: usize,
}

pub struct Campaign {
    pub id: String,
    pub channel: &'static str,
    pub start: usize,
    pub end: usize,
}

pub struct Product {
    pub id: String,
    pub price: i64,
    pub cost: i64,
    pub weight: f64,
}

/// Per-month figures the streams leave behind for the targets, indexed `[who][month]`.
#[derive(Default)]
pub struct Tally {
    pub rep_won_amount: Vec<Vec<i64>>,
    pub rep_won: Vec<Vec<u64>>,
    pub rep_calls: Vec<Vec<u64>>,
    pub team_leads: Vec<Vec<u64>>,
    /// Units sold per product per week of the window, for restocking.
    pub product_week_units: Vec<Vec<u64>>,
    /// Active shop customers per month, for service costs.
    pub month_orders: Vec<u64>,
}

pub struct World {
    pub seed: u64,
    /// Prefix of every id (`d7-`), so a second demo with another seed does not collide.
    pub p: String,
    pub sizes: Sizes,
    pub cal: Calendar,
    /// Minor units per major unit of the workspace currency.
    pub minor: i64,
    pub teams: Vec<Team>,
    pub reps: Vec<Rep>,
    pub campaigns: Vec<Campaign>,
    pub products: Vec<Product>,
    pub tally: Tally,
    /// Cumulative product weights, for drawing products by popularity.
    pub product_cdf: Vec<f64>,
    /// The last number used in the ids of each streamed kind of row.
    pub next: Counters,
}

/// Id counters of the streamed rows (ids are `{prefix}{kind}-{n}`).
#[derive(Default)]
pub struct Counters {
    pub account: u64,
    pub customer: u64,
    pub contact: u64,
    pub lead: u64,
    pub deal: u64,
    pub activity: u64,
    pub message: u64,
    pub email_event: u64,
    pub survey: u64,
    pub order: u64,
    pub movement: u64,
}

/// Increments a counter and returns the new value.
pub fn bump(counter: &mut u64) -> u64 {
    *counter += 1;
    *counter
}

pub const PIPELINE: &str = "pipeline-new-business";
/// The pipeline's stages: (id suffix, name, probability, kind). Positions are 1-based in order.
pub const STAGES: [(&str, &str, f64, &str); 8] = [
    ("prospecting", "Prospecting", 0.05, "open"),
    ("qualified", "Qualified", 0.10, "open"),
    ("discovery-call", "Discovery call", 0.20, "open"),
    ("demo", "Demo", 0.30, "open"),
    ("proposal", "Proposal", 0.55, "open"),
    ("negotiation", "Negotiation", 0.75, "open"),
    ("won", "Won", 1.0, "won"),
    ("lost", "Lost", 0.0, "lost"),
];
pub const WON: usize = 6;
pub const LOST: usize = 7;

impl World {
    pub fn new(seed: u64, p: String, sizes: Sizes, cal: Calendar, minor: i64) -> World {
        let mut rng = Rng::new(seed, stream::CAST);
        let last = cal.len();
        let mut teams = Vec::new();
        let mut reps = Vec::new();
        for t in 0..sizes.teams {
            teams.push(Team { id: format!("{p}team-{}", t + 1) });
            for _ in 0..sizes.reps_per_team {
                let n = reps.len();
                // Skill spreads reps around the quota: some clearly over, some clearly under.
                let skill = rng.lognormal(1.0, 0.28).clamp(0.55, 1.7);
                let diligence = (0.6 + 0.4 * skill + 0.2 * rng.normal()).clamp(0.5, 1.6);
                // One rep of every dozen joined nine months ago, one left seven months ago.
                let (start, end) = match n % 12 {
                    5 => (last - 270, last),
                    9 => (0, last - 210),
                    _ => (0, last),
                };
                reps.push(Rep {
                    id: format!("{p}user-{}", n + 1),
                    team: t,
                    skill,
                    diligence,
                    start,
                    end,
                });
            }
        }
        let months = cal.months();
        let mut campaigns = Vec::new();
        const CHANNELS: [&str; 6] = ["email", "social", "search", "event", "email", "print"];
        for m in 0..months {
            let Some(first) = (0..cal.len()).find(|&d| cal.month_index(d) == m) else { continue };
            let start = first + rng.below(10) as usize;
            let end = (start + 14 + rng.below(32) as usize).min(last - 1);
            if start >= last {
                continue;
            }
            campaigns.push(Campaign {
                id: format!("{p}campaign-{}", m + 1),
                channel: CHANNELS[m % CHANNELS.len()],
                start,
                end,
            });
        }
        let mut products = Vec::new();
        for i in 0..sizes.products {
            let (_, lo, hi, _) = PRODUCT_KINDS[i % PRODUCT_KINDS.len()];
            let price = rng.range(lo, hi) * minor - minor / 100 * 5; // £x.95 style prices
            let cost = price * rng.range(40, 65) / 100;
            // Popularity falls off with rank (Zipf, exponent 0.9): a few best sellers, a long tail.
            let weight = 1.0 / ((i + 1) as f64).powf(0.9);
            products.push(Product { id: format!("{p}product-{}", i + 1), price, cost, weight });
        }
        let mut acc = 0.0;
        let product_cdf = products
            .iter()
            .map(|pr| {
                acc += pr.weight;
                acc
            })
            .collect();
        let tally = Tally {
            rep_won_amount: vec![vec![0; months]; reps.len()],
            rep_won: vec![vec![0; months]; reps.len()],
            rep_calls: vec![vec![0; months]; reps.len()],
            team_leads: vec![vec![0; months]; teams.len()],
            product_week_units: vec![vec![0; HISTORY_DAYS / 7 + 2]; products.len()],
            month_orders: vec![0; months],
        };
        World {
            seed,
            p,
            sizes,
            cal,
            minor,
            teams,
            reps,
            campaigns,
            products,
            tally,
            product_cdf,
            next: Counters::default(),
        }
    }

    pub fn stage_id(&self, idx: usize) -> String {
        format!("{}stage-{}", self.p, STAGES[idx].0)
    }

    pub fn pipeline_id(&self) -> String {
        format!("{}{PIPELINE}", self.p)
    }

    /// A rep working on day `day`, drawn uniformly; `None` when nobody is (never, with the cast).
    pub fn rep_on(&self, day: usize, rng: &mut Rng) -> Option<usize> {
        let n = self.reps.len() as u64;
        for _ in 0..64 {
            let r = rng.below(n) as usize;
            if (self.reps[r].start..self.reps[r].end).contains(&day) {
                return Some(r);
            }
        }
        (0..self.reps.len()).find(|&r| (self.reps[r].start..self.reps[r].end).contains(&day))
    }

    /// A product drawn by popularity.
    pub fn product(&self, rng: &mut Rng) -> usize {
        let total = self.product_cdf.last().copied().unwrap_or(1.0);
        let x = rng.f64() * total;
        self.product_cdf.partition_point(|c| *c <= x).min(self.products.len() - 1)
    }

    /// Money in minor units from major units, rounded to `step` major units.
    pub fn money(&self, major: f64, step: f64) -> i64 {
        ((major / step).round().max(1.0) * step * self.minor as f64) as i64
    }

    /// The teams, users, campaigns, pipeline, stages and products.
    pub fn write_cast(&mut self, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
        let mut rng = Rng::new(self.seed, stream::CAST ^ 0xCA57);
        let p = self.p.clone();
        let start = self.cal.days[0].base;
        for (t, team) in self.teams.iter().enumerate() {
            let name =
                TEAM_NAMES.get(t).map_or_else(|| format!("Team {}", t + 1), |n| n.to_string());
            sink.put(Row::new(Entity::Teams).text("id", &team.id).text("name", name).done())?;
        }
        let domain = "demo.example";
        let admin = person(&mut rng);
        sink.put(
            Row::new(Entity::Users)
                .text("id", format!("{p}admin"))
                .text("email", format!("{}@{domain}", email_local(&admin)))
                .text("name", admin)
                .text("role", "admin")
                .at("created_at", start - 500 * DAY)
                .done(),
        )?;
        for team in &self.teams {
            let name = person(&mut rng);
            sink.put(
                Row::new(Entity::Users)
                    .text("id", format!("{}-manager", team.id))
                    .text("email", format!("{}@{domain}", email_local(&name)))
                    .text("name", name)
                    .text("role", "manager")
                    .text("team_id", &team.id)
                    .at("created_at", start - rng.range(200, 600) * DAY)
                    .done(),
            )?;
        }
        for rep in &self.reps {
            let name = person(&mut rng);
            let created = if rep.start == 0 {
                start - rng.range(30, 500) * DAY
            } else {
                self.cal.instant(rep.start, 9 * 3600)
            };
            sink.put(
                Row::new(Entity::Users)
                    .text("id", &rep.id)
                    .text("email", format!("{}@{domain}", email_local(&name)))
                    .text("name", name)
                    .text("team_id", &self.teams[rep.team].id)
                    .bool("active", rep.end == self.cal.len())
                    .at("created_at", created)
                    .done(),
            )?;
        }
        for c in &self.campaigns {
            let budget = self.money(rng.lognormal(3000.0, 0.4) * self.sizes.k, 100.0);
            let date = self.cal.days[c.start].date;
            let theme = rng.pick(&[
                "office coffee",
                "barista kit",
                "new roasts",
                "free trial",
                "winter warmers",
                "team tasting",
            ]);
            sink.put(
                Row::new(Entity::Campaigns)
                    .text("id", &c.id)
                    .text("name", format!("{} {theme} {}", c.channel, date.strftime("%b %Y")))
                    .text("channel", c.channel)
                    .date("started_on", date)
                    .date("ended_on", self.cal.days[c.end].date)
                    .int("budget", budget)
                    .done(),
            )?;
        }
        sink.put(
            Row::new(Entity::Pipelines)
                .text("id", self.pipeline_id())
                .text("name", "New business")
                .done(),
        )?;
        for (idx, (_, name, probability, kind)) in STAGES.iter().enumerate() {
            sink.put(
                Row::new(Entity::Stages)
                    .text("id", self.stage_id(idx))
                    .text("pipeline_id", self.pipeline_id())
                    .text("name", *name)
                    .int("position", idx as i64 + 1)
                    .real("probability", *probability)
                    .text("kind", *kind)
                    .done(),
            )?;
        }
        // Opening stock: about three weeks of expected sales; reorder at about one week.
        let total_weight: f64 = self.products.iter().map(|pr| pr.weight).sum();
        let lines_per_week = self.sizes.customers as f64 * 5.5 * 2.0 / 104.0;
        for (i, pr) in self.products.iter().enumerate() {
            let (category, _, _, names) = PRODUCT_KINDS[i % PRODUCT_KINDS.len()];
            let weekly = (lines_per_week * 1.6 * pr.weight / total_weight).max(1.0);
            let name = format!("{} {}", rng.pick(names), i / PRODUCT_KINDS.len() + 1);
            sink.put(
                Row::new(Entity::Products)
                    .text("id", &pr.id)
                    .text("sku", format!("SKU-{:05}", i + 1))
                    .text("name", name)
                    .text("category", category)
                    .int("unit_price", pr.price)
                    .int("unit_cost", pr.cost)
                    .int("opening_stock", (weekly * 3.0).round() as i64)
                    .int("reorder_level", weekly.round() as i64)
                    .done(),
            )?;
        }
        sink.commit()
    }
}

/// Product kinds: (category, lowest price, highest price in whole major units, names).
const PRODUCT_KINDS: &[(&str, i64, i64, &[&str])] = &[
    (
        "beans",
        9,
        16,
        &["Ethiopia Yirgacheffe", "Colombia Huila", "House Espresso", "Brazil Cerrado", "Kenya AA"],
    ),
    ("capsules", 5, 9, &["Lungo Capsules", "Ristretto Capsules", "Decaf Capsules"]),
    ("ground", 7, 12, &["Filter Blend", "Cafetière Grind", "Breakfast Blend"]),
    ("accessories", 6, 45, &["Milk Jug", "Tamper", "Cups Set", "Descaler", "Scales"]),
    ("beans", 10, 18, &["Guatemala Antigua", "Rwanda Nyamasheke", "Sumatra Mandheling"]),
    ("tea", 4, 11, &["Earl Grey", "Assam Breakfast", "Sencha"]),
    (
        "equipment",
        60,
        900,
        &["Grinder", "Espresso Machine", "Pour-over Kit", "Bean-to-cup Machine"],
    ),
];

/// Costs, web visits and targets: the rows that depend on the tallies of the other streams.
pub fn write_operations(world: &mut World, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    write_costs(world, sink)?;
    write_web_visits(world, sink)?;
    write_targets(world, sink)
}

fn write_costs(world: &World, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let mut rng = Rng::new(world.seed, stream::COSTS);
    let p = &world.p;
    let k = world.sizes.k;
    let mut n = 0u64;
    let mut next_id = || {
        n += 1;
        format!("{p}cost-{n}")
    };
    // Campaign spend: weekly invoices over the campaign, about the budget in all.
    for c in &world.campaigns {
        let weeks = ((c.end - c.start) / 7 + 1) as f64;
        let mut day = c.start;
        while day <= c.end {
            let amount = world.money(rng.lognormal(3000.0 * k / weeks, 0.25), 1.0);
            sink.put(
                Row::new(Entity::Costs)
                    .text("id", next_id())
                    .date("incurred_on", world.cal.days[day].date)
                    .text("category", "marketing")
                    .int("amount", amount)
                    .text("campaign_id", &c.id)
                    .text("note", format!("{} campaign spend", c.channel))
                    .done(),
            )?;
            day += 7;
        }
    }
    // Monthly running costs on the first workday of each month.
    for m in 0..world.cal.months() {
        let Some(day) = (0..world.cal.len())
            .find(|&d| world.cal.month_index(d) == m && world.cal.days[d].is_workday())
        else {
            continue;
        };
        let date = world.cal.days[day].date;
        for (t, team) in world.teams.iter().enumerate() {
            let heads = world
                .reps
                .iter()
                .filter(|r| r.team == t && (r.start..r.end).contains(&day))
                .count();
            let amount = world.money((heads as f64 + 1.0) * rng.lognormal(3600.0, 0.05), 1.0);
            sink.put(
                Row::new(Entity::Costs)
                    .text("id", next_id())
                    .date("incurred_on", date)
                    .text("category", "sales")
                    .int("amount", amount)
                    .text("team_id", &team.id)
                    .text("note", "salaries and commission")
                    .done(),
            )?;
        }
        let service = 800.0 * k + world.tally.month_orders[m] as f64 * 1.2;
        for (category, amount, note) in [
            ("overhead", 4200.0 * k.sqrt(), "rent and utilities"),
            ("overhead", 650.0 * k.sqrt(), "software subscriptions"),
            ("service", service, "customer service and delivery"),
        ] {
            sink.put(
                Row::new(Entity::Costs)
                    .text("id", next_id())
                    .date("incurred_on", date)
                    .text("category", category)
                    .int("amount", world.money(rng.lognormal(amount, 0.04), 1.0))
                    .text("note", note)
                    .done(),
            )?;
        }
        if rng.chance(0.3) {
            sink.put(
                Row::new(Entity::Costs)
                    .text("id", next_id())
                    .date(
                        "incurred_on",
                        world.cal.days[(day + rng.below(20) as usize).min(world.cal.len() - 1)]
                            .date,
                    )
                    .text("category", "other")
                    .int("amount", world.money(rng.lognormal(400.0 * k.sqrt(), 0.6), 1.0))
                    .text("note", "equipment repair")
                    .done(),
            )?;
        }
    }
    sink.commit()
}

/// Expected web visitors of a source on a day (before day-to-day noise).
pub fn expected_visitors(world: &World, day: usize, source_base: f64) -> f64 {
    let cal = &world.cal;
    // The site serves both shoppers (weekend peak) and business buyers (weekday peak): flatter
    // than either, with the shop's season.
    let weekday = 0.5 * cal.shop_weekday(day) + 0.5 * cal.b2b_factor(day).max(0.3) / 0.9;
    source_base * world.sizes.k * weekday * cal.shop_season(day).sqrt() * cal.growth(day)
}

/// Web traffic sources and their visitors on an average day at scale S.
pub const WEB_SOURCES: [(&str, f64); 6] = [
    ("organic", 180.0),
    ("direct", 120.0),
    ("paid_search", 70.0),
    ("social", 55.0),
    ("email", 30.0),
    ("referral", 25.0),
];

fn write_web_visits(world: &World, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let mut rng = Rng::new(world.seed, stream::WEB);
    for day in 0..world.cal.len() {
        for (source, base) in WEB_SOURCES {
            let visitors = rng.lognormal(expected_visitors(world, day, base), 0.15).round() as i64;
            sink.put(
                Row::new(Entity::WebVisits)
                    .date("day", world.cal.days[day].date)
                    .text("source", source)
                    .int("visitors", visitors)
                    .done(),
            )?;
        }
    }
    sink.commit()
}

/// Monthly targets as a sales manager sets them: each rep's quota is the team's recent run rate
/// per rep plus a stretch, the same for every rep, so the strong reps beat it and the weak miss.
fn write_targets(world: &World, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let p = &world.p;
    let months = world.cal.months();
    let t = &world.tally;
    let mut n = 0u64;
    let mut put =
        |sink: &mut Sink<'_, '_>, metric: &str, scope: String, m: usize, value: String| {
            n += 1;
            sink.put(
                Row::new(Entity::Targets)
                    .text("id", format!("{p}target-{n}"))
                    .text("metric", metric)
                    .text("scope", scope)
                    .text("period", "month")
                    .date("starts_on", world.cal.month_start(m))
                    .text("value", value)
                    .done(),
            )
        };
    // Per-rep monthly means over months `from..to` of the reps working then.
    let per_rep = |series: &dyn Fn(usize, usize) -> f64, from: usize, to: usize| -> f64 {
        let (mut sum, mut heads) = (0.0, 0.0);
        for m in from..to {
            for (r, rep) in world.reps.iter().enumerate() {
                let first_day =
                    (0..world.cal.len()).find(|&d| world.cal.month_index(d) == m).unwrap_or(0);
                if (rep.start..rep.end).contains(&first_day) {
                    sum += series(r, m);
                    heads += 1.0;
                }
            }
        }
        if heads > 0.0 { sum / heads } else { 0.0 }
    };
    let revenue = |r: usize, m: usize| t.rep_won_amount[r][m] as f64 / world.minor as f64;
    let won = |r: usize, m: usize| t.rep_won[r][m] as f64;
    let calls = |r: usize, m: usize| t.rep_calls[r][m] as f64;
    let whole = months.saturating_sub(1).max(1);
    for m in 0..months {
        // The run rate of the three months before (the whole history for the first three).
        let (from, to) = if m >= 3 { (m - 3, m) } else { (0, whole) };
        let quota = (per_rep(&revenue, from, to) * 1.1 / 500.0).round() * 500.0;
        let deals = (per_rep(&won, from, to) * 1.1).round().max(1.0);
        let call_quota = (per_rep(&calls, from, to) * 1.05 / 10.0).round() * 10.0;
        let first_day = (0..world.cal.len()).find(|&d| world.cal.month_index(d) == m).unwrap_or(0);
        let mut company_quota = 0.0;
        for (team_idx, team) in world.teams.iter().enumerate() {
            let heads = world
                .reps
                .iter()
                .filter(|r| r.team == team_idx && (r.start..r.end).contains(&first_day))
                .count() as f64;
            for rep in world.reps.iter().filter(|r| r.team == team_idx) {
                if !(rep.start..rep.end).contains(&first_day) {
                    continue;
                }
                put(sink, "revenue_won", format!("user:{}", rep.id), m, format!("{quota}"))?;
                put(sink, "deals_won", format!("user:{}", rep.id), m, format!("{deals}"))?;
                put(sink, "calls_made", format!("user:{}", rep.id), m, format!("{call_quota}"))?;
            }
            let leads_from = m.saturating_sub(3);
            let leads_to = if m >= 3 { m } else { whole };
            let leads = (leads_from..leads_to).map(|x| t.team_leads[team_idx][x]).sum::<u64>()
                as f64
                / (leads_to - leads_from).max(1) as f64;
            put(sink, "revenue_won", format!("team:{}", team.id), m, format!("{}", quota * heads))?;
            put(
                sink,
                "leads_created",
                format!("team:{}", team.id),
                m,
                format!("{}", (leads * 1.1).round()),
            )?;
            company_quota += quota * heads;
        }
        put(sink, "revenue_won", "company".into(), m, format!("{company_quota}"))?;
        // Level targets: a win rate of 18% to hold, half the leads answered within the hour.
        put(sink, "win_rate", "company".into(), m, "0.18".into())?;
        put(sink, "lead_response_time", "company".into(), m, "3600".into())?;
    }
    sink.commit()
}
