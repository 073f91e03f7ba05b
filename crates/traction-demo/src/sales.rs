//! The B2B side: leads from sources of different quality, answered at log-normal speed, some
//! qualified and converted into deals that walk the pipeline (and mostly leak at the demo), with
//! the activities and emails around them; then the reps' day-to-day prospecting.
//!
//! Each lead is one story, written together (account, contact, deal with its stage history, the
//! lead, its activities, emails and survey answers) and committed at story boundaries, so the
//! references inside a story resolve within one transaction.

use jiff::Span;
use traction_domain::time::Micros;
use traction_domain::{Entity, Record};
use traction_store::Error;

use crate::calendar::{Calendar, DAY, HOUR, SECOND};
use crate::rng::Rng;
use crate::sink::{Row, Sink};
use crate::world::{self, LOST, REGION_WEIGHTS, REGIONS, STAGES, WON, World, bump, stream};

/// A lead source and how good its leads are.
struct Source {
    name: &'static str,
    /// Share of leads on a working day, and on a weekend or holiday.
    weight: f64,
    weekend_weight: f64,
    /// Chance a lead is qualified (given an answer), and a qualified lead becomes a deal.
    qualify: f64,
    convert: f64,
    /// Median seconds until a rep first answers (0: the lead was made by the rep's own call).
    response_median: f64,
    /// Whether leads arrive in working hours (else any time of day).
    office_hours: bool,
    /// The campaign channel leads of this source are attributed to.
    campaign_channel: Option<&'static str>,
    /// How much likelier its deals are won past the demo.
    win: f64,
}

/// Referrals and partners convert best and are answered fastest; cold calls worst.
/// spec: issue demo data, point 2 ("conversion and response times differ by source").
const SOURCES: [Source; 7] = [
    Source {
        name: "referral",
        weight: 10.0,
        weekend_weight: 0.5,
        qualify: 0.75,
        convert: 0.75,
        response_median: 1200.0,
        office_hours: true,
        campaign_channel: None,
        win: 1.2,
    },
    Source {
        name: "partner",
        weight: 8.0,
        weekend_weight: 0.5,
        qualify: 0.65,
        convert: 0.65,
        response_median: 2700.0,
        office_hours: true,
        campaign_channel: None,
        win: 1.1,
    },
    Source {
        name: "web",
        weight: 30.0,
        weekend_weight: 3.0,
        qualify: 0.5,
        convert: 0.6,
        response_median: 2100.0,
        office_hours: false,
        campaign_channel: Some("search"),
        win: 1.0,
    },
    Source {
        name: "event",
        weight: 8.0,
        weekend_weight: 0.2,
        qualify: 0.45,
        convert: 0.55,
        response_median: 18_000.0,
        office_hours: true,
        campaign_channel: Some("event"),
        win: 0.95,
    },
    Source {
        name: "email",
        weight: 14.0,
        weekend_weight: 2.0,
        qualify: 0.35,
        convert: 0.5,
        response_median: 9000.0,
        office_hours: false,
        campaign_channel: Some("email"),
        win: 0.9,
    },
    Source {
        name: "social",
        weight: 12.0,
        weekend_weight: 2.0,
        qualify: 0.3,
        convert: 0.45,
        response_median: 14_400.0,
        office_hours: false,
        campaign_channel: Some("social"),
        win: 0.85,
    },
    Source {
        name: "cold_call",
        weight: 18.0,
        weekend_weight: 0.0,
        qualify: 0.22,
        convert: 0.45,
        response_median: 0.0,
        office_hours: true,
        campaign_channel: None,
        win: 0.8,
    },
];

/// Stage-to-stage chances of moving on, from each open stage (prospecting … negotiation), for an
/// average rep and source: 85% qualify, 82% take the call, 86% the demo, only 40% go on to a
/// proposal (the leak), 80% negotiate, 78% sign. Of 100 deals: 85, 70, 60, 24, 19, 15 won —
/// the seeds' shape (metrics.md: 70% call, 60% demo, 15% buy; the demo is the leak).
const STEP: [f64; 6] = [0.85, 0.82, 0.86, 0.40, 0.80, 0.78];
/// Median days spent in each open stage.
const DWELL_DAYS: [f64; 6] = [4.0, 6.0, 7.0, 9.0, 8.0, 6.0];
const SEGMENTS: [&str; 3] = ["smb", "mid_market", "enterprise"];
const SEGMENT_WEIGHTS: [f64; 3] = [0.62, 0.3, 0.08];
/// Median deal size per segment, in major units.
const SEGMENT_AMOUNT: [f64; 3] = [6000.0, 18_000.0, 55_000.0];
const INDUSTRIES: &[&str] = &[
    "professional_services",
    "healthcare",
    "technology",
    "hospitality",
    "education",
    "construction",
    "retail",
];
const COMPETITORS: &[&str] = &["brewmaster", "beanline", "cafetech", "officebrew"];

pub fn generate(world: &mut World, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let mut rng = Rng::new(world.seed, stream::LEADS);
    let cal = &world.cal;
    let weights: Vec<f64> = (0..cal.len()).map(|d| cal.b2b_factor(d) * cal.growth(d)).collect();
    let total: f64 = weights.iter().sum();
    let per_day: Vec<f64> = weights.iter().map(|w| world.sizes.leads * w / total).collect();
    let mut story = Story::default();
    for (day, lambda) in per_day.into_iter().enumerate() {
        for _ in 0..rng.poisson(lambda) {
            lead_story(world, &mut rng, day, &mut story);
            story.flush(sink)?;
            sink.boundary()?;
        }
    }
    sink.commit()?;
    prospecting(world, sink)?;
    sink.commit()
}

/// The rows of one story, in an order in which their references resolve.
#[derive(Default)]
struct Story {
    parties: Vec<Record>,
    deals: Vec<Record>,
    leads: Vec<Record>,
    activities: Vec<Record>,
    emails: Vec<Record>,
    surveys: Vec<Record>,
}

impl Story {
    fn flush(&mut self, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
        for part in [
            &mut self.parties,
            &mut self.deals,
            &mut self.leads,
            &mut self.activities,
            &mut self.emails,
            &mut self.surveys,
        ] {
            for record in part.drain(..) {
                sink.put(record)?;
            }
        }
        Ok(())
    }
}

/// What an activity concerns.
#[derive(Clone, Default)]
struct About {
    lead: Option<String>,
    deal: Option<String>,
    contact: Option<String>,
    account: Option<String>,
}

/// The segment of account `n` (1-based), fixed by its number so a later lead of the same account
/// sees the same segment without keeping accounts in memory.
fn segment_of(seed: u64, n: u64) -> usize {
    let mut r = Rng::new(seed, 0x5E6_0000 ^ n);
    r.weighted(&SEGMENT_WEIGHTS)
}

/// One activity to record: its kind, when, by which rep, which way, how it ended, what it is
/// about, how long it took and its subject.
#[derive(Clone, Copy)]
struct Touch<'a> {
    kind: &'a str,
    at: Micros,
    owner: usize,
    direction: &'a str,
    outcome: Option<&'a str>,
    about: &'a About,
    duration_s: Option<i64>,
    subject: Option<&'a str>,
}

fn activity(world: &mut World, touch: &Touch<'_>) -> Record {
    let Touch { kind, at: t, owner, direction, outcome, about, duration_s, subject } = *touch;
    let n = bump(&mut world.next.activity);
    if kind == "call"
        && direction == "outbound"
        && let Some(day) = world.cal.day_of(t)
    {
        world.tally.rep_calls[owner][world.cal.month_index(day)] += 1;
    }
    let mut row = Row::new(Entity::Activities)
        .text("id", format!("{}activity-{n:08}", world.p))
        .text("kind", kind)
        .at("occurred_at", t)
        .text("owner_id", &world.reps[owner].id)
        .text("direction", direction)
        .opt_text("outcome", outcome)
        .opt_text("lead_id", about.lead.clone())
        .opt_text("deal_id", about.deal.clone())
        .opt_text("contact_id", about.contact.clone())
        .opt_text("account_id", about.account.clone())
        .opt_text("subject", subject);
    if let Some(d) = duration_s {
        row = row.int("duration_s", d);
    }
    row.done()
}

fn lead_story(world: &mut World, rng: &mut Rng, day: usize, story: &mut Story) {
    let cal_day = &world.cal.days[day];
    let weekend = !cal_day.is_workday();
    let weights: Vec<f64> =
        SOURCES.iter().map(|s| if weekend { s.weekend_weight } else { s.weight }).collect();
    let source = &SOURCES[rng.weighted(&weights)];
    let secs =
        if source.office_hours { Calendar::working_secs(rng) } else { Calendar::any_secs(rng) };
    let created = world.cal.instant(day, secs);
    let at = world.cal.at;
    if created > at {
        return;
    }
    let Some(owner) = world.rep_on(day, rng) else { return };
    let month = world.cal.month_index(day);
    world.tally.team_leads[world.reps[owner].team][month] += 1;
    let p = world.p.clone();
    let seed = world.seed;
    let owner_id = world.reps[owner].id.clone();
    let skill = world.reps[owner].skill;

    // The lead's company: usually new, sometimes one that came before.
    let (account_n, segment) = if world.next.account > 20 && rng.chance(0.12) {
        let n = 1 + rng.below(world.next.account);
        (n, segment_of(seed, n))
    } else {
        let n = bump(&mut world.next.account);
        let segment = segment_of(seed, n);
        story.parties.push(
            Row::new(Entity::Accounts)
                .text("id", format!("{p}account-{n:08}"))
                .text("name", world::company_of(seed, n))
                .text("segment", SEGMENTS[segment])
                .text("industry", *rng.pick(INDUSTRIES))
                .text("region", REGIONS[rng.weighted(REGION_WEIGHTS)])
                .text("owner_id", &owner_id)
                .at("created_at", created)
                .done(),
        );
        (n, segment)
    };
    let account_id = format!("{p}account-{account_n:08}");
    let contact_n = bump(&mut world.next.contact);
    let contact_id = format!("{p}contact-{contact_n:08}");
    let name = world::person(rng);
    story.parties.push(
        Row::new(Entity::Contacts)
            .text("id", &contact_id)
            .text("email", format!("{}@{}.example", world::email_local(&name), account_n))
            .text("phone", format!("+44 7700 9{:05}", rng.below(100_000)))
            .text("name", name)
            .text("account_id", &account_id)
            .text("owner_id", &owner_id)
            .at("created_at", created)
            .done(),
    );
    let campaign = source.campaign_channel.and_then(|channel| {
        let c = world
            .campaigns
            .iter()
            .find(|c| c.channel == channel && (c.start..=c.end).contains(&day))?;
        rng.chance(0.75).then(|| c.id.clone())
    });
    let lead_n = bump(&mut world.next.lead);
    let lead_id = format!("{p}lead-{lead_n:08}");
    let about = About {
        lead: Some(lead_id.clone()),
        deal: None,
        contact: Some(contact_id.clone()),
        account: Some(account_id.clone()),
    };

    // First response: log-normal, faster for better reps; most answers wait for office hours.
    let first_response = if source.response_median == 0.0 {
        Some(created + rng.range(30, 600) * SECOND)
    } else if rng.chance(0.06) {
        None
    } else {
        let wait = rng.lognormal(source.response_median / skill.sqrt(), 1.25);
        let t = created + (wait * SECOND as f64) as Micros;
        let in_hours = world.cal.to_working(t, rng) == Some(t);
        let t = if !in_hours && rng.chance(0.7) { world.cal.to_working(t, rng) } else { Some(t) };
        t.filter(|t| *t <= at)
    };
    let mut lead = Row::new(Entity::Leads)
        .text("id", &lead_id)
        .at("created_at", created)
        .text("source", source.name)
        .opt_text("campaign_id", campaign.clone())
        .text("owner_id", &owner_id)
        .text("account_id", &account_id)
        .text("contact_id", &contact_id)
        .opt_at("first_response_at", first_response);
    if matches!(source.name, "web" | "email") && rng.chance(0.5) {
        let subject = if source.name == "web" { "Website enquiry" } else { "Reply to newsletter" };
        story.activities.push(activity(
            world,
            &Touch {
                kind: "email",
                at: created,
                owner,
                direction: "inbound",
                outcome: None,
                about: &about,
                duration_s: None,
                subject: Some(subject),
            },
        ));
    }
    // Emails: the campaign message that brought an email lead, and nurture messages after.
    if source.name == "email" {
        let sent = created - (rng.lognormal(30.0, 0.8) * HOUR as f64) as Micros;
        email_message(
            world,
            rng,
            &Mail { sent, owner, about: &about, campaign: campaign.as_deref(), engaged: true },
            story,
        );
    }
    let nurture = if campaign.is_some() { 1 + rng.below(2) } else { u64::from(rng.chance(0.3)) };
    for i in 0..nurture {
        let sent = created + (i as i64 * 7 + rng.range(2, 6)) * DAY + rng.range(8, 11) * HOUR;
        let nurture_campaign = world
            .campaigns
            .iter()
            .find(|c| {
                c.channel == "email"
                    && world.cal.day_of(sent).is_some_and(|d| (c.start..=c.end).contains(&d))
            })
            .map(|c| c.id.clone());
        email_message(
            world,
            rng,
            &Mail {
                sent,
                owner,
                about: &about,
                campaign: nurture_campaign.as_deref(),
                engaged: false,
            },
            story,
        );
    }

    let Some(answered) = first_response else {
        let old = at - created > 30 * DAY;
        lead = if old {
            lead.text("status", "disqualified").text("disqualified_reason", "no_response")
        } else {
            lead.text("status", "new")
        };
        story.leads.push(lead.done());
        return;
    };
    if source.name == "cold_call" {
        let d = rng.lognormal(240.0, 0.5) as i64;
        story.activities.push(activity(
            world,
            &Touch {
                kind: "call",
                at: answered,
                owner,
                direction: "outbound",
                outcome: Some("connected"),
                about: &about,
                duration_s: Some(d),
                subject: Some("Cold call"),
            },
        ));
    } else if rng.chance(0.55) {
        let outcome = if rng.chance(0.65) { "connected" } else { "voicemail" };
        let d = if outcome == "connected" {
            rng.lognormal(300.0, 0.5) as i64
        } else {
            rng.range(30, 90)
        };
        story.activities.push(activity(
            world,
            &Touch {
                kind: "call",
                at: answered,
                owner,
                direction: "outbound",
                outcome: Some(outcome),
                about: &about,
                duration_s: Some(d),
                subject: Some("First call"),
            },
        ));
    } else {
        story.activities.push(activity(
            world,
            &Touch {
                kind: "email",
                at: answered,
                owner,
                direction: "outbound",
                outcome: None,
                about: &about,
                duration_s: None,
                subject: Some("Thanks for getting in touch"),
            },
        ));
    }

    let qualified_at = if rng.chance(source.qualify) {
        let t = answered + (rng.lognormal(2.0, 0.7) * DAY as f64) as Micros;
        world.cal.to_working(t, rng)
    } else {
        None
    };
    let Some(qualified) = qualified_at else {
        // Not qualified (or not yet): a follow-up or two, then dropped.
        let recent = at - created < 10 * DAY;
        for i in 0..rng.below(3) {
            let t = answered + (i as i64 + 1) * rng.range(2, 4) * DAY;
            if let Some(t) = world.cal.to_working(t, rng) {
                let outcome = *rng.pick(&["no_answer", "voicemail", "connected"]);
                story.activities.push(activity(
                    world,
                    &Touch {
                        kind: "call",
                        at: t,
                        owner,
                        direction: "outbound",
                        outcome: Some(outcome),
                        about: &about,
                        duration_s: Some(rng.range(20, 200)),
                        subject: Some("Follow-up"),
                    },
                ));
            }
        }
        lead = if recent {
            lead.text("status", "contacted")
        } else {
            let reasons =
                ["not_a_fit", "no_budget", "no_response", "duplicate", "student_or_job_seeker"];
            lead.text("status", "disqualified")
                .text("disqualified_reason", reasons[rng.weighted(&[0.35, 0.25, 0.25, 0.08, 0.07])])
        };
        story.leads.push(lead.done());
        return;
    };
    lead = lead.at("qualified_at", qualified);
    story.activities.push(activity(
        world,
        &Touch {
            kind: "call",
            at: qualified,
            owner,
            direction: "outbound",
            outcome: Some("positive"),
            about: &about,
            duration_s: Some(rng.lognormal(900.0, 0.4) as i64),
            subject: Some("Qualification call"),
        },
    ));
    let converted = if rng.chance(source.convert) {
        let t = qualified + (rng.lognormal(3.0, 0.6) * DAY as f64) as Micros;
        world.cal.to_working(t, rng)
    } else {
        None
    };
    let Some(converted) = converted else {
        lead = if at - qualified < 14 * DAY {
            lead.text("status", "qualified")
        } else {
            let reasons = ["no_budget", "bad_timing", "chose_competitor", "no_decision"];
            lead.text("status", "disqualified").text("disqualified_reason", *rng.pick(&reasons))
        };
        story.leads.push(lead.done());
        return;
    };
    let deal = DealStart {
        owner,
        created: converted,
        account_n,
        segment,
        source: Some(source.name),
        campaign,
        deal_type: "new_business",
        first_stage: 0,
        win: source.win,
        lead: Some(lead_id.clone()),
        contact: Some(contact_id),
    };
    let deal_id = deal_story(world, rng, deal, story, 0);
    lead = lead.text("status", "converted").at("converted_at", converted).text("deal_id", deal_id);
    story.leads.push(lead.done());
}

/// How a deal starts.
struct DealStart {
    owner: usize,
    created: Micros,
    account_n: u64,
    segment: usize,
    source: Option<&'static str>,
    campaign: Option<String>,
    deal_type: &'static str,
    /// The stage it enters first (0: prospecting; expansion deals start at the discovery call).
    first_stage: usize,
    /// Multiplies the chance of going past the demo and of signing.
    win: f64,
    lead: Option<String>,
    contact: Option<String>,
}

/// Walks one deal through the pipeline up to `at`; writes it, its stage history and activities
/// into the story; returns its id.
fn deal_story(
    world: &mut World,
    rng: &mut Rng,
    start: DealStart,
    story: &mut Story,
    depth: u32,
) -> String {
    let p = world.p.clone();
    let n = bump(&mut world.next.deal);
    let id = format!("{p}deal-{n:08}");
    let at = world.cal.at;
    let owner = start.owner;
    let skill = world.reps[owner].skill;
    let account_id = format!("{p}account-{:08}", start.account_n);
    let about = About {
        lead: start.lead.clone(),
        deal: Some(id.clone()),
        contact: start.contact.clone(),
        account: Some(account_id.clone()),
    };
    let size = if start.deal_type == "new_business" { 1.0 } else { 0.4 };
    let amount = world
        .money(rng.lognormal(SEGMENT_AMOUNT[start.segment] * size * skill.powf(0.3), 0.45), 50.0);
    let offer = match (start.deal_type, start.segment) {
        ("upsell", _) => "more machines",
        ("cross_sell", _) => "tea and snacks add-on",
        (_, 0) => "office coffee machine",
        (_, 1) => "coffee service contract",
        _ => "multi-site coffee programme",
    };
    let mut step = STEP;
    step[3] = (step[3] * skill * start.win).min(0.92);
    step[5] = (step[5] * skill.sqrt() * start.win.sqrt()).min(0.96);
    let mut stage = start.first_stage;
    let mut t = start.created;
    let mut changes: Vec<(usize, Micros)> = vec![(stage, t)];
    let mut closed: Option<(usize, Micros)> = None;
    let mut lost_reason: Option<&str> = None;
    let mut competitor: Option<&str> = None;
    while stage < WON {
        let dwell = rng.lognormal(DWELL_DAYS[stage], 0.6);
        let Some(next) = world.cal.to_working(t + (dwell * DAY as f64) as Micros, rng) else {
            break;
        };
        // A nudge half-way through the stage.
        if rng.chance(0.6)
            && let Some(mid) = world.cal.to_working(t + (dwell * DAY as f64 / 2.0) as Micros, rng)
            && mid < next
        {
            let a = if rng.chance(0.5) {
                activity(
                    world,
                    &Touch {
                        kind: "email",
                        at: mid,
                        owner,
                        direction: "outbound",
                        outcome: rng.chance(0.4).then_some("replied"),
                        about: &about,
                        duration_s: None,
                        subject: Some("Following up"),
                    },
                )
            } else {
                let outcome = *rng.pick(&["connected", "voicemail", "no_answer"]);
                activity(
                    world,
                    &Touch {
                        kind: "call",
                        at: mid,
                        owner,
                        direction: "outbound",
                        outcome: Some(outcome),
                        about: &about,
                        duration_s: Some(rng.range(20, 600)),
                        subject: Some("Check-in"),
                    },
                )
            };
            story.activities.push(a);
        }
        if rng.chance(step[stage]) {
            // A few deals go straight from qualified to the demo.
            stage = if stage == 1 && rng.chance(0.05) { 3 } else { stage + 1 };
            t = next;
            changes.push((stage, t));
            if let Some(a) = stage_activity(world, rng, stage, t, owner, &about) {
                story.activities.push(a);
            }
            if stage == WON {
                closed = Some((WON, t));
            }
        } else {
            let (reasons, weights): (&[&str], &[f64]) = match stage {
                0 | 1 => {
                    (&["no_budget", "no_need", "bad_timing", "unresponsive"], &[0.3, 0.3, 0.2, 0.2])
                }
                2 | 3 => (
                    &["product_fit", "price", "competitor", "unresponsive"],
                    &[0.35, 0.25, 0.3, 0.1],
                ),
                _ => (&["price", "competitor", "no_decision"], &[0.35, 0.45, 0.2]),
            };
            let reason = reasons[rng.weighted(weights)];
            lost_reason = Some(reason);
            if reason == "competitor" {
                competitor = Some(*rng.pick(COMPETITORS));
            }
            closed = Some((LOST, next));
            changes.push((LOST, next));
            story.activities.push(activity(
                world,
                &Touch {
                    kind: "email",
                    at: next,
                    owner,
                    direction: "inbound",
                    outcome: Some("negative"),
                    about: &about,
                    duration_s: None,
                    subject: Some("Decision"),
                },
            ));
            break;
        }
    }
    let current = closed.map_or(stage, |(s, _)| s);
    let closed_at = closed.map(|(_, t)| t);
    let created_day = world.cal.day_of(start.created).unwrap_or(0);
    let expected_close = world.cal.days[created_day]
        .date
        .checked_add(Span::new().days(rng.range(30, 75)))
        .unwrap_or(world.cal.days[created_day].date);
    let deal = Row::new(Entity::Deals)
        .text("id", &id)
        .text("name", format!("{} – {}", world::company_of(world.seed, start.account_n), offer))
        .text("pipeline_id", world.pipeline_id())
        .text("stage_id", world.stage_id(current))
        .text("account_id", &account_id)
        .text("owner_id", &world.reps[owner].id)
        .int("amount", amount)
        .at("created_at", start.created)
        .date("expected_close_on", expected_close)
        .opt_at("closed_at", closed_at)
        .opt_text("lost_reason", lost_reason)
        .opt_text("competitor", competitor)
        .opt_text("source", start.source)
        .opt_text("campaign_id", start.campaign.clone())
        .text("deal_type", start.deal_type)
        .int("contract_months", *rng.pick(&[12, 12, 24, 36]))
        .done();
    story.deals.push(deal);
    for (s, when) in changes {
        story.deals.push(
            Row::new(Entity::StageChanges)
                .text("deal_id", &id)
                .text("stage_id", world.stage_id(s))
                .at("changed_at", when)
                .text("changed_by", &world.reps[owner].id)
                .done(),
        );
    }
    if let Some((WON, won_at)) = closed {
        let day = world.cal.day_of(won_at).unwrap_or(0);
        let month = world.cal.month_index(day);
        world.tally.rep_won_amount[owner][month] += amount;
        world.tally.rep_won[owner][month] += 1;
        // Customers answer an NPS survey a month or two after signing.
        if rng.chance(0.4) {
            let answered = won_at + rng.range(30, 60) * DAY + rng.range(0, 8) * HOUR;
            if answered <= at {
                let score = nps_score(rng, 0.58, 0.27);
                let n = bump(&mut world.next.survey);
                story.surveys.push(
                    Row::new(Entity::Surveys)
                        .text("id", format!("{p}survey-{n:08}"))
                        .text("kind", "nps")
                        .int("score", score)
                        .at("answered_at", answered)
                        .text("account_id", &account_id)
                        .opt_text("contact_id", start.contact.clone())
                        .done(),
                );
            }
        }
        // A quarter of customers buy more within a year: an upsell or cross-sell.
        if depth < 2 && rng.chance(0.25) {
            let created = won_at + (rng.lognormal(150.0, 0.4) * DAY as f64) as Micros;
            if let Some(created) = world.cal.to_working(created, rng) {
                let day = world.cal.day_of(created).unwrap_or(0);
                let rep = &world.reps[owner];
                let owner = if (rep.start..rep.end).contains(&day) {
                    owner
                } else {
                    world.rep_on(day, rng).unwrap_or(owner)
                };
                let next = DealStart {
                    owner,
                    created,
                    account_n: start.account_n,
                    segment: start.segment,
                    source: Some("existing_customer"),
                    campaign: None,
                    deal_type: if rng.chance(0.6) { "upsell" } else { "cross_sell" },
                    first_stage: 2,
                    win: 1.5,
                    lead: None,
                    contact: start.contact.clone(),
                };
                deal_story(world, rng, next, story, depth + 1);
            }
        }
    }
    id
}

/// The activity that marks entering a stage.
fn stage_activity(
    world: &mut World,
    rng: &mut Rng,
    stage: usize,
    t: Micros,
    owner: usize,
    about: &About,
) -> Option<Record> {
    Some(match STAGES[stage].0 {
        "qualified" => activity(
            world,
            &Touch {
                kind: "call",
                at: t,
                owner,
                direction: "outbound",
                outcome: Some("booked"),
                about,
                duration_s: Some(rng.range(300, 900)),
                subject: Some("Book discovery call"),
            },
        ),
        "discovery-call" => {
            let outcome = if rng.chance(0.9) { "held" } else { "no_show" };
            activity(
                world,
                &Touch {
                    kind: "meeting",
                    at: t,
                    owner,
                    direction: "outbound",
                    outcome: Some(outcome),
                    about,
                    duration_s: Some(rng.range(25, 60) * 60),
                    subject: Some("Discovery call"),
                },
            )
        }
        "demo" => activity(
            world,
            &Touch {
                kind: "demo",
                at: t,
                owner,
                direction: "outbound",
                outcome: Some("held"),
                about,
                duration_s: Some(rng.range(40, 80) * 60),
                subject: Some("Product demo"),
            },
        ),
        "proposal" => activity(
            world,
            &Touch {
                kind: "proposal",
                at: t,
                owner,
                direction: "outbound",
                outcome: Some("sent"),
                about,
                duration_s: None,
                subject: Some("Proposal sent"),
            },
        ),
        "negotiation" => activity(
            world,
            &Touch {
                kind: "call",
                at: t,
                owner,
                direction: "outbound",
                outcome: Some("connected"),
                about,
                duration_s: Some(rng.range(600, 2400)),
                subject: Some("Terms"),
            },
        ),
        "won" => activity(
            world,
            &Touch {
                kind: "email",
                at: t,
                owner,
                direction: "inbound",
                outcome: Some("positive"),
                about,
                duration_s: None,
                subject: Some("Signed contract"),
            },
        ),
        _ => return None,
    })
}

/// An NPS answer: promoters (9–10) with chance `promoters`, passives (7–8) with `passives`, the
/// rest detractors (0–6, mostly 5–6).
pub fn nps_score(rng: &mut Rng, promoters: f64, passives: f64) -> i64 {
    let x = rng.f64();
    if x < promoters {
        rng.range(9, 10)
    } else if x < promoters + passives {
        rng.range(7, 8)
    } else if rng.chance(0.7) {
        rng.range(5, 6)
    } else {
        rng.range(0, 4)
    }
}

/// One email message and what became of it: sent, then bounced (3%) or delivered; of those
/// delivered about 30% opened, of opened 15% clicked and 6% replied, 1% unsubscribed. `engaged`:
/// the lead came from this message, so it was opened and clicked.
/// One email message to send: when, by which rep, about what, in which campaign, and whether
/// the lead came from it.
#[derive(Clone, Copy)]
struct Mail<'a> {
    sent: Micros,
    owner: usize,
    about: &'a About,
    campaign: Option<&'a str>,
    engaged: bool,
}

fn email_message(world: &mut World, rng: &mut Rng, mail: &Mail<'_>, story: &mut Story) {
    let Mail { sent, owner, about, campaign, engaged } = *mail;
    let at = world.cal.at;
    if sent > at || world.cal.day_of(sent).is_none() {
        return;
    }
    let p = world.p.clone();
    let message = format!("{p}msg-{:08}", bump(&mut world.next.message));
    let mut events: Vec<(&str, Micros)> = vec![("sent", sent)];
    if !engaged && rng.chance(0.03) {
        events.push(("bounced", sent + rng.range(2, 60) * SECOND));
    } else {
        events.push(("delivered", sent + rng.range(2, 60) * SECOND));
        if engaged || rng.chance(0.3) {
            let opened = sent + (rng.lognormal(3.0, 1.2) * HOUR as f64) as Micros;
            events.push(("opened", opened));
            if engaged || rng.chance(0.15) {
                events.push(("clicked", opened + rng.range(5, 300) * SECOND));
            }
            if !engaged && rng.chance(0.06) {
                events
                    .push(("replied", opened + (rng.lognormal(2.0, 1.0) * HOUR as f64) as Micros));
            }
        }
        if rng.chance(0.01) {
            events.push(("unsubscribed", sent + rng.range(1, 48) * HOUR));
        }
    }
    for (kind, t) in events {
        if t > at {
            continue;
        }
        let n = bump(&mut world.next.email_event);
        story.emails.push(
            Row::new(Entity::EmailEvents)
                .text("id", format!("{p}email-{n:08}"))
                .text("message_id", &message)
                .text("kind", kind)
                .at("occurred_at", t)
                .text("owner_id", &world.reps[owner].id)
                .opt_text("lead_id", about.lead.clone())
                .opt_text("contact_id", about.contact.clone())
                .opt_text("campaign_id", campaign)
                .done(),
        );
    }
}

/// The reps' own prospecting: calls, emails and social touches on working days, more for the
/// diligent, none on weekends and holidays.
fn prospecting(world: &mut World, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let mut rng = Rng::new(world.seed, stream::PROSPECTING);
    let cal_len = world.cal.len();
    let workdays = |w: &World, r: usize| -> f64 {
        let rep = &w.reps[r];
        (rep.start..rep.end).filter(|&d| w.cal.days[d].is_workday()).count() as f64 * rep.diligence
    };
    let capacity: f64 = (0..world.reps.len()).map(|r| workdays(world, r)).sum();
    let rate = world.sizes.prospecting / capacity.max(1.0);
    let about = About::default();
    let mut rows = Vec::new();
    for day in 0..cal_len {
        if !world.cal.days[day].is_workday() {
            continue;
        }
        for r in 0..world.reps.len() {
            let rep = &world.reps[r];
            if !(rep.start..rep.end).contains(&day) {
                continue;
            }
            let n = rng.poisson(rate * rep.diligence);
            for _ in 0..n {
                let t = world.cal.instant(day, Calendar::working_secs(&mut rng));
                if t > world.cal.at {
                    continue;
                }
                let kind = ["call", "email", "social", "task", "note"]
                    [rng.weighted(&[0.55, 0.22, 0.1, 0.08, 0.05])];
                let row = match kind {
                    "call" => {
                        let inbound = rng.chance(0.05);
                        let outcome = ["no_answer", "voicemail", "connected", "booked", "positive"]
                            [rng.weighted(&[0.42, 0.25, 0.26, 0.04, 0.03])];
                        let d = match outcome {
                            "no_answer" => rng.range(15, 40),
                            "voicemail" => rng.range(30, 90),
                            _ => rng.lognormal(240.0, 0.6) as i64,
                        };
                        let direction = if inbound { "inbound" } else { "outbound" };
                        activity(
                            world,
                            &Touch {
                                kind: "call",
                                at: t,
                                owner: r,
                                direction,
                                outcome: Some(outcome),
                                about: &about,
                                duration_s: Some(d),
                                subject: Some("Prospecting call"),
                            },
                        )
                    }
                    "email" => {
                        let outcome = rng.chance(0.08).then_some("replied");
                        activity(
                            world,
                            &Touch {
                                kind: "email",
                                at: t,
                                owner: r,
                                direction: "outbound",
                                outcome,
                                about: &about,
                                duration_s: None,
                                subject: Some("Introduction"),
                            },
                        )
                    }
                    "social" => activity(
                        world,
                        &Touch {
                            kind: "social",
                            at: t,
                            owner: r,
                            direction: "outbound",
                            outcome: Some("connected"),
                            about: &about,
                            duration_s: None,
                            subject: Some("LinkedIn connection"),
                        },
                    ),
                    "task" => activity(
                        world,
                        &Touch {
                            kind: "task",
                            at: t,
                            owner: r,
                            direction: "outbound",
                            outcome: None,
                            about: &about,
                            duration_s: Some(rng.range(5, 30) * 60),
                            subject: Some("Research accounts"),
                        },
                    ),
                    _ => activity(
                        world,
                        &Touch {
                            kind: "note",
                            at: t,
                            owner: r,
                            direction: "outbound",
                            outcome: None,
                            about: &about,
                            duration_s: None,
                            subject: Some("Territory notes"),
                        },
                    ),
                };
                rows.push(row);
            }
        }
        for row in rows.drain(..) {
            sink.put(row)?;
        }
        sink.boundary()?;
    }
    Ok(())
}
