//! Scheduled reports (spec: monitoring.md, Scheduled reports): when each is due, and sending
//! each due instant exactly once.
//!
//! - `day`: at its time on each working day of the scope's calendar; covers the previous
//!   working day, and the month to date (of that day's month, through that day).
//! - `week`: at its time on the first working day of each ISO week; covers the previous week.
//! - `month`: at its time on the first working day of each month; covers the previous month.
//!
//! Due instants begin after the schedule was made. [`run`] sends every due instant not yet
//! recorded (`traction schedule run`), or, for a server that was down, only the latest and
//! records the others as missed; the store records each instant once, so two processes never
//! send the same one. The report itself is made by the caller (the KPI crate's period report),
//! with the rights of the schedule's maker: [`rights_of`] reads them from the organisation as it
//! is at each run, so a maker who was disabled or lost the scope gets no report sent, and is
//! told why ([`RunOutcome::refused`]).

use jiff::civil::{Date, Time};
use serde_json::json;
use traction_domain::time::{Micros, format_instant, local_to_micros, to_zoned};
use traction_kpi::Calendar;
use traction_kpi::scope::{Org, Scope};
use traction_store::monitor::{Channel, NewNotification, Schedule};
use traction_store::{Actor, MonitorStore};

use crate::Error;
use crate::channel::ChannelConfig;
use crate::error::ValueError;

/// How often a schedule sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Every {
    Day,
    Week,
    Month,
}

impl Every {
    pub fn parse(text: &str) -> Result<Every, ValueError> {
        match text.trim() {
            "day" | "daily" => Ok(Every::Day),
            "week" | "weekly" => Ok(Every::Week),
            "month" | "monthly" => Ok(Every::Month),
            _ => Err(ValueError::Every { text: text.to_string() }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Every::Day => "day",
            Every::Week => "week",
            Every::Month => "month",
        }
    }
}

/// One due instant and the dates `[from, to)` its report covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub at: Micros,
    pub from: Date,
    pub to: Date,
}

fn parse_time(text: &str) -> Result<Time, ValueError> {
    let bad = || ValueError::Time { text: text.to_string() };
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

fn previous_working_day(calendar: &Calendar, date: Date) -> Option<Date> {
    let mut d = date;
    for _ in 0..366 {
        d = d.yesterday().ok()?;
        if calendar.is_working_day(d) {
            return Some(d);
        }
    }
    None
}

/// The due instants in `(after, until]`, oldest first.
pub fn due_instants(
    every: Every,
    time: Time,
    calendar: &Calendar,
    after: Micros,
    until: Micros,
) -> Vec<Due> {
    let mut out = Vec::new();
    let (Some(first), Some(last)) =
        (to_zoned(after, &calendar.zone), to_zoned(until, &calendar.zone))
    else {
        return out;
    };
    let mut date = first.date();
    while date <= last.date() {
        if calendar.is_working_day(date)
            && let Ok(at) = local_to_micros(date.to_datetime(time), &calendar.zone)
            && after < at
            && at <= until
        {
            let covered = match every {
                Every::Day => previous_working_day(calendar, date)
                    .and_then(|from| from.tomorrow().ok().map(|to| (from, to))),
                Every::Week => {
                    let offset = i64::from(date.weekday().to_monday_zero_offset());
                    let monday = date.checked_sub(jiff::Span::new().days(offset)).ok();
                    let earlier_working = monday.is_some_and(|m| {
                        let mut d = m;
                        while d < date {
                            if calendar.is_working_day(d) {
                                return true;
                            }
                            d = match d.tomorrow() {
                                Ok(next) => next,
                                Err(_) => return true,
                            };
                        }
                        false
                    });
                    match (earlier_working, monday) {
                        (false, Some(m)) => {
                            m.checked_sub(jiff::Span::new().weeks(1)).ok().map(|from| (from, m))
                        }
                        _ => None,
                    }
                }
                Every::Month => {
                    let first_of_month = date.first_of_month();
                    let mut d = first_of_month;
                    let mut earlier_working = false;
                    while d < date {
                        if calendar.is_working_day(d) {
                            earlier_working = true;
                            break;
                        }
                        d = d.tomorrow().unwrap_or(date);
                    }
                    if earlier_working {
                        None
                    } else {
                        first_of_month
                            .checked_sub(jiff::Span::new().months(1))
                            .ok()
                            .map(|from| (from, first_of_month))
                    }
                }
            };
            if let Some((from, to)) = covered {
                out.push(Due { at, from, to });
            }
        }
        date = match date.tomorrow() {
            Ok(d) => d,
            Err(_) => break,
        };
    }
    out
}

/// What the maker of a schedule may read, as it stands now: the same rule as a signed-in
/// user's read scope (docs/security.md, Team scope).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rights {
    /// Everything: an admin, a manager or viewer in no team, or the command line.
    All,
    /// The teams (a team and its sub-teams) and the people (their members, and the user).
    Within { teams: Vec<String>, owners: Vec<String> },
}

/// Who made a schedule from the command line (whoever can open the database file: an admin).
pub const COMMAND_LINE: &[&str] = &["cli", "system"];

/// Why a schedule's maker may not have its report: gone, disabled, or without the scope.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("its maker {user:?} no longer exists")]
    Gone { user: String },
    #[error("its maker {user:?} is disabled")]
    Disabled { user: String },
    #[error("its maker {user:?} may not read {scope}")]
    Beyond { user: String, scope: Scope },
}

/// The rights of `user` now; an error says why they have none (gone, disabled).
pub fn rights_of(org: &Org, user: &str) -> Result<Rights, Refusal> {
    if COMMAND_LINE.contains(&user) {
        return Ok(Rights::All);
    }
    let Some(member) = org.users.iter().find(|m| m.id == user) else {
        return Err(Refusal::Gone { user: user.to_string() });
    };
    if !member.active {
        return Err(Refusal::Disabled { user: user.to_string() });
    }
    Ok(match (member.role.as_str(), &member.team) {
        ("admin", _) => Rights::All,
        (_, Some(team)) => {
            let teams: Vec<String> = org.subtree(team).into_iter().collect();
            let mut owners = vec![member.id.clone()];
            for m in &org.users {
                if m.id != member.id && m.team.as_ref().is_some_and(|t| teams.contains(t)) {
                    owners.push(m.id.clone());
                }
            }
            Rights::Within { teams, owners }
        }
        // A rep in no team reads their own records; a manager or viewer in no team, all.
        ("rep", None) => Rights::Within { teams: Vec::new(), owners: vec![member.id.clone()] },
        _ => Rights::All,
    })
}

impl Rights {
    /// Whether a report of `scope` shows only what these rights read; an error says why not.
    pub fn check(&self, user: &str, scope: &Scope) -> Result<(), Refusal> {
        let fits = match (self, scope) {
            (Rights::All, _) => true,
            (Rights::Within { .. }, Scope::Company) => false,
            (Rights::Within { teams, .. }, Scope::Team(t)) => teams.contains(t),
            (Rights::Within { owners, .. }, Scope::User(u)) => owners.contains(u),
        };
        if fits {
            Ok(())
        } else {
            Err(Refusal::Beyond { user: user.to_string(), scope: scope.clone() })
        }
    }
}

/// Why a schedule's report may not be sent now (its maker gone, disabled, or without the
/// rights to its scope), or `None` when it may.
pub fn problem(schedule: &Schedule, org: &Org) -> Option<String> {
    let scope = match Scope::parse(&schedule.scope) {
        Ok(s) => s,
        Err(e) => return Some(e.to_string()),
    };
    rights_of(org, &schedule.created_by)
        .and_then(|rights| rights.check(&schedule.created_by, &scope))
        .err()
        .map(|refusal| refusal.to_string())
}

/// What `schedule add` is given.
#[derive(Clone, Debug, Default)]
pub struct ScheduleInput {
    pub id: String,
    pub every: String,
    pub time: String,
    pub scope: Option<String>,
    pub channels: Vec<String>,
}

/// Checks a schedule's input against the organisation and the maker's rights (a report never
/// shows more than its maker may read), giving the schedule to store.
fn checked(
    org: &Org,
    input: &ScheduleInput,
    maker: &str,
    created_at: Micros,
) -> Result<Schedule, Error> {
    crate::channel::check_rule_id(&input.id).map_err(|_| {
        Error::at(
            "id",
            format!(
                "schedule id {:?} is not valid: use 1 to 64 letters, digits, '-', '_' or '.'",
                input.id
            ),
        )
    })?;
    let every = Every::parse(&input.every).map_err(|e| Error::at("every", e))?;
    let time = parse_time(&input.time).map_err(|e| Error::at("time", e))?;
    let scope_text = input.scope.clone().unwrap_or_else(|| "company".into());
    let scope =
        Scope::parse(&scope_text).map_err(|e| Error::at("scope", format!("--scope: {e}")))?;
    let exists = match &scope {
        Scope::Company => true,
        Scope::Team(t) => org.parents.contains_key(t),
        Scope::User(u) => org.users.iter().any(|m| &m.id == u),
    };
    if !exists {
        return Err(Error::at("scope", format!("--scope: {scope} does not exist")));
    }
    rights_of(org, maker)
        .and_then(|rights| rights.check(maker, &scope))
        .map_err(|e| Error::at("scope", format!("--scope: the report would show more than {e}")))?;
    let mut channels: Vec<String> = Vec::new();
    for part in input.channels.iter().flat_map(|c| c.split(',')).map(str::trim) {
        if !part.is_empty() && !channels.iter().any(|c| c == part) {
            channels.push(part.to_string());
        }
    }
    if channels.is_empty() {
        return Err(Error::at("channels", "a schedule needs --channel ID (one or more)"));
    }
    Ok(Schedule {
        id: input.id.clone(),
        every: every.name().into(),
        time: time.strftime("%H:%M").to_string(),
        scope: scope.to_string(),
        channels,
        created_at,
        created_by: maker.to_string(),
    })
}

/// Checks and stores a schedule made at `now` by `actor` (whose rights its reports have).
pub fn add(
    monitor: &dyn MonitorStore,
    org: &Org,
    input: &ScheduleInput,
    actor: &Actor,
    now: Micros,
) -> Result<Schedule, Error> {
    let schedule = checked(org, input, &actor.user, now)?;
    monitor.add_schedule(&schedule, actor)?;
    Ok(schedule)
}

/// Checks and stores a change to a schedule: its maker (whose rights its reports have) and the
/// instant it was made stay, so its due instants go on; `actor` is who changed it (audited).
pub fn update(
    monitor: &dyn MonitorStore,
    org: &Org,
    existing: &Schedule,
    input: &ScheduleInput,
    actor: &Actor,
) -> Result<Schedule, Error> {
    let schedule = checked(org, input, &existing.created_by, existing.created_at)?;
    monitor.update_schedule(&schedule, actor)?;
    Ok(schedule)
}

/// A report made for a range: its JSON, text, HTML and CSV forms.
#[derive(Clone, Debug)]
pub struct ReportContent {
    pub json: serde_json::Value,
    pub text: String,
    pub html: String,
    pub csv: String,
}

/// What a due instant sends: the report of the range it covers, and for a daily report the
/// month to date as well (`[from, to)` and its report).
#[derive(Clone, Debug)]
pub struct DueReport {
    pub report: ReportContent,
    pub month_to_date: Option<(Date, Date, ReportContent)>,
}

/// The range of a daily report's month to date: from the first of the covered day's month
/// through the covered day (on Tuesday 1 December 2026, covering Monday 30 November: 1–30 November).
pub fn month_to_date(due: &Due) -> (Date, Date) {
    (due.from.first_of_month(), due.to)
}

/// Makes what a due instant of `schedule` sends, with `report` making one range's report.
pub fn due_report(
    schedule: &Schedule,
    due: &Due,
    at: Micros,
    report: &ReportFn<'_>,
) -> Result<DueReport, ReportError> {
    let main = report(schedule, due.from, due.to, at)?;
    let month_to_date = match schedule.every.as_str() {
        "day" => {
            let (from, to) = month_to_date(due);
            Some((from, to, report(schedule, from, to, at)?))
        }
        _ => None,
    };
    Ok(DueReport { report: main, month_to_date })
}

/// What a run did: the due instants sent, and how many were recorded as missed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOutcome {
    pub sent: Vec<(String, Due)>,
    pub missed: usize,
    /// Schedules whose report could not be made, with why (retried at the next run).
    pub errors: Vec<(String, String)>,
    /// Due instants not sent because the maker may no longer read the scope (or is gone or
    /// disabled), with why: recorded as `refused`, and the maker told in the app.
    pub refused: Vec<(String, Due, String)>,
}

/// Makes the report of a schedule for the dates `[from, to)`, as of `at`, with the rights of
/// its maker (checked before it is called).
pub type ReportFn<'a> =
    dyn Fn(&Schedule, Date, Date, Micros) -> Result<ReportContent, ReportError> + 'a;

/// Why a schedule's report could not be made (kept with the run's errors and tried again at
/// the next run).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The schedule's stored scope is not a scope (the KPI crate's message names it).
    #[error("{source}")]
    Scope { scope: String, source: traction_kpi::ValueError },
    /// A day of the range has no start in the workspace's time zone.
    #[error("{source}")]
    Day { date: Date, source: traction_domain::Error },
    /// The KPI layer could not make the report's figures.
    #[error(transparent)]
    Kpi(#[from] traction_kpi::service::Error),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] traction_store::Error),
}

/// What [`run`] needs besides the store.
pub struct RunContext<'a> {
    pub monitor: &'a dyn MonitorStore,
    pub org: &'a Org,
    /// The calendar of a scope's team (`None`: the workspace's).
    pub calendar: &'a dyn Fn(Option<&str>) -> Result<Calendar, Error>,
    pub report: &'a ReportFn<'a>,
}

/// Sends the reports due at or before `at` not yet sent; with `latest_only`, only the latest
/// of each schedule, the earlier ones recorded as missed. `now` is the wall clock (when the
/// notifications are made, for delivery). A schedule whose maker may not read its scope any
/// more sends nothing: its due instants are recorded as refused.
pub fn run(
    ctx: &RunContext<'_>,
    at: Micros,
    now: Micros,
    latest_only: bool,
) -> Result<RunOutcome, Error> {
    let channels: Vec<Channel> = ctx.monitor.channels()?;
    let mut outcome = RunOutcome::default();
    for schedule in ctx.monitor.schedules()? {
        let every = Every::parse(&schedule.every).map_err(|e| Error::at("every", e))?;
        let time = parse_time(&schedule.time).map_err(|e| Error::at("time", e))?;
        let scope = Scope::parse(&schedule.scope).map_err(|e| Error::at("scope", e))?;
        let calendar = (ctx.calendar)(ctx.org.calendar_team(&scope).as_deref())?;
        let done: Vec<Micros> =
            ctx.monitor.schedule_runs(&schedule.id)?.into_iter().map(|(d, _)| d).collect();
        let due: Vec<Due> = due_instants(every, time, &calendar, schedule.created_at, at)
            .into_iter()
            .filter(|d| !done.contains(&d.at))
            .collect();
        let Some(latest) = due.last().copied() else { continue };
        // The maker's rights as they are now: never sent with more.
        let refusal = problem(&schedule, ctx.org);
        for d in &due {
            if latest_only && d.at != latest.at {
                if ctx.monitor.record_run(&schedule.id, d.at, "missed", &[], now)? {
                    outcome.missed += 1;
                }
                continue;
            }
            if let Some(reason) = &refusal {
                let notes = refusal_notes(&schedule, d, reason, ctx.org);
                if ctx.monitor.record_run(&schedule.id, d.at, "refused", &notes, now)? {
                    outcome.refused.push((schedule.id.clone(), *d, reason.clone()));
                }
                continue;
            }
            let content = match due_report(&schedule, d, at, ctx.report) {
                Ok(c) => c,
                Err(e) => {
                    outcome.errors.push((schedule.id.clone(), e.to_string()));
                    break;
                }
            };
            let notes = addressed(&schedule, d, &content, &channels, ctx.org);
            if ctx.monitor.record_run(&schedule.id, d.at, "sent", &notes, now)? {
                outcome.sent.push((schedule.id.clone(), *d));
            }
        }
    }
    Ok(outcome)
}

/// The maker of a refused schedule is told in the app, if they can still sign in.
fn refusal_notes(schedule: &Schedule, due: &Due, reason: &str, org: &Org) -> Vec<NewNotification> {
    let active = org.users.iter().any(|m| m.id == schedule.created_by && m.active);
    if !active {
        return Vec::new();
    }
    let text = format!(
        "{} report {} for {} was not sent: {reason}; change its scope or ask an admin",
        title(&schedule.every),
        schedule.id,
        schedule.scope
    );
    let body = json!({
        "kind": "report", "schedule": schedule.id, "scope": schedule.scope,
        "at": format_instant(due.at), "refused": reason, "text": text,
    });
    vec![NewNotification {
        kind: "report".into(),
        rule_id: None,
        key: Some(schedule.id.clone()),
        state: Some("refused".into()),
        at: due.at,
        channel_id: None,
        user_id: Some(schedule.created_by.clone()),
        body: body.to_string(),
        text,
    }]
}

fn title(every: &str) -> &'static str {
    match every {
        "day" => "Daily",
        "week" => "Weekly",
        _ => "Monthly",
    }
}

/// The inside of an HTML page's `<body>` (the whole text when it has none).
fn inner_body(html: &str) -> &str {
    let start = html.find("<body>").map_or(0, |i| i + "<body>".len());
    let end = html.rfind("</body>").filter(|e| *e >= start).unwrap_or(html.len());
    &html[start..end]
}

/// One page: the report, then the month to date after a rule.
fn combined_html(day: &str, mtd: Option<&str>) -> String {
    let Some(mtd) = mtd else { return day.to_string() };
    let section = format!(
        "<hr><section class=month-to-date><h1>Month to date</h1>{}</section>",
        inner_body(mtd)
    );
    match day.rfind("</body>") {
        Some(end) => format!("{}{section}{}", &day[..end], &day[end..]),
        None => format!("{day}{section}"),
    }
}

/// The report's notifications: the webhook body of monitoring.md, the same with the HTML and
/// CSV forms for email, and the line in the app.
pub fn addressed(
    schedule: &Schedule,
    due: &Due,
    due_report: &DueReport,
    channels: &[Channel],
    org: &Org,
) -> Vec<NewNotification> {
    let content = &due_report.report;
    let mtd = due_report.month_to_date.as_ref();
    let text = format!(
        "{} report for {}: {} to {}{} ({})",
        title(&schedule.every),
        schedule.scope,
        due.from,
        due.to.yesterday().unwrap_or(due.to),
        mtd.map_or_else(String::new, |(from, to, _)| format!(
            ", month to date {from} to {}",
            to.yesterday().unwrap_or(*to)
        )),
        content.text.lines().next().unwrap_or("").trim_start_matches('#').trim()
    )
    .replace(['\n', '\r'], " ");
    let mut body = json!({
        "kind": "report", "schedule": schedule.id, "from": due.from.to_string(),
        "to": due.to.to_string(), "scope": schedule.scope, "at": format_instant(due.at),
        "report": content.json, "text": text,
    });
    if let Some((from, to, report)) = mtd {
        body["month_to_date"] =
            json!({"from": from.to_string(), "to": to.to_string(), "report": report.json});
    }
    let mut email_body = body.clone();
    email_body["html"] = json!(combined_html(&content.html, mtd.map(|(_, _, r)| r.html.as_str())));
    email_body["csv"] = json!(content.csv);
    email_body["plain"] = json!(match mtd {
        Some((_, _, r)) => format!("{}\n\n# Month to date\n\n{}", content.text, r.text),
        None => content.text.clone(),
    });
    if let Some((from, _, report)) = mtd {
        email_body["csv_month_to_date"] = json!(report.csv);
        email_body["month_to_date_from"] = json!(from.to_string());
    }
    let base = NewNotification {
        kind: "report".into(),
        rule_id: None,
        key: Some(schedule.id.clone()),
        state: None,
        at: due.at,
        channel_id: None,
        user_id: None,
        body: body.to_string(),
        text,
    };
    let mut out = Vec::new();
    for channel in channels.iter().filter(|c| schedule.channels.contains(&c.id)) {
        match ChannelConfig::of(channel) {
            Ok(ChannelConfig::Email { .. }) => out.push(NewNotification {
                channel_id: Some(channel.id.clone()),
                body: email_body.to_string(),
                ..base.clone()
            }),
            Ok(config @ ChannelConfig::InApp { .. }) => {
                for user in crate::notify::in_app_users(&config, org) {
                    out.push(NewNotification { user_id: Some(user), ..base.clone() });
                }
            }
            Ok(ChannelConfig::Webhook { .. }) => {
                out.push(NewNotification { channel_id: Some(channel.id.clone()), ..base.clone() })
            }
            Err(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn calendar(holidays: &str) -> Calendar {
        Calendar::from_settings(
            jiff::tz::TimeZone::UTC,
            "mon,tue,wed,thu,fri",
            "09:00-17:00",
            holidays,
        )
        .unwrap()
    }

    /// A report that cannot be made stops a due instant with the report's own typed error
    /// (its values as fields, its message unchanged), for the month to date as for the day.
    #[test]
    fn due_report_passes_the_report_error_through() {
        let schedule = Schedule {
            id: "s1".into(),
            every: "day".into(),
            time: "08:00".into(),
            scope: "team:".into(),
            channels: vec![],
            created_at: 0,
            created_by: "u1".into(),
        };
        let due = Due { at: 0, from: date(2026, 11, 30), to: date(2026, 12, 1) };
        let message = "\"team:\" is not a scope: write company, team:ID or user:ID";
        let report =
            |s: &Schedule, _: Date, _: Date, _: Micros| -> Result<ReportContent, ReportError> {
                let source = traction_kpi::ValueError::Scope { text: s.scope.clone() };
                Err(ReportError::Scope { scope: s.scope.clone(), source })
            };
        let err = due_report(&schedule, &due, 0, &report).err().unwrap();
        assert_eq!(err.to_string(), message);
        assert!(matches!(&err, ReportError::Scope { scope, .. } if scope == "team:"));
        // Only the month to date fails: the error still stops the instant.
        let calls = std::cell::Cell::new(0);
        let report = |_: &Schedule, from: Date, to: Date, _: Micros| {
            calls.set(calls.get() + 1);
            if from == date(2026, 11, 1) {
                Err(ReportError::Day { date: to, source: traction_domain::Error::Missing })
            } else {
                Ok(ReportContent {
                    json: serde_json::Value::Null,
                    text: String::new(),
                    html: String::new(),
                    csv: String::new(),
                })
            }
        };
        let err = due_report(&schedule, &due, 0, &report).err().unwrap();
        assert!(matches!(err, ReportError::Day { date: d, .. } if d == date(2026, 12, 1)));
        assert_eq!(err.to_string(), "is required and is missing");
        assert_eq!(calls.get(), 2);
    }

    fn at(d: Date, h: i8) -> Micros {
        local_to_micros(d.at(h, 0, 0, 0), &jiff::tz::TimeZone::UTC).unwrap()
    }

    #[test]
    fn daily_reports_skip_weekends_and_holidays_and_cover_the_previous_working_day() {
        // Week of Mon 9 Nov 2026 with Wednesday 11 a holiday.
        let cal = calendar("2026-11-11");
        let time = Time::new(8, 0, 0, 0).unwrap();
        let due = due_instants(
            Every::Day,
            time,
            &cal,
            at(date(2026, 11, 8), 12),
            at(date(2026, 11, 15), 12),
        );
        let got: Vec<(Date, Date)> = due.iter().map(|d| (d.from, d.to)).collect();
        assert_eq!(
            got,
            [
                (date(2026, 11, 6), date(2026, 11, 7)),
                (date(2026, 11, 9), date(2026, 11, 10)),
                (date(2026, 11, 10), date(2026, 11, 11)),
                (date(2026, 11, 12), date(2026, 11, 13)),
            ]
        );
        assert_eq!(due[0].at, at(date(2026, 11, 9), 8));
    }

    #[test]
    fn weekly_and_monthly_reports_go_on_the_first_working_day() {
        // Mon 28 Dec 2026 … ; 1 Jan 2027 (Friday) a holiday: January's first working day is Mon 4.
        let cal = calendar("2027-01-01");
        let time = Time::new(8, 0, 0, 0).unwrap();
        let monthly = due_instants(
            Every::Month,
            time,
            &cal,
            at(date(2026, 12, 20), 0),
            at(date(2027, 1, 31), 0),
        );
        assert_eq!(monthly.len(), 1);
        assert_eq!(monthly[0].at, at(date(2027, 1, 4), 8));
        assert_eq!((monthly[0].from, monthly[0].to), (date(2026, 12, 1), date(2027, 1, 1)));
        let weekly = due_instants(
            Every::Week,
            time,
            &cal,
            at(date(2026, 12, 20), 0),
            at(date(2027, 1, 6), 0),
        );
        // Mondays 21 and 28 December and 4 January, each covering the week before.
        let got: Vec<(Date, Date)> = weekly.iter().map(|d| (d.from, d.to)).collect();
        assert_eq!(
            got,
            [
                (date(2026, 12, 14), date(2026, 12, 21)),
                (date(2026, 12, 21), date(2026, 12, 28)),
                (date(2026, 12, 28), date(2027, 1, 4)),
            ]
        );
    }

    #[test]
    fn after_a_time_down_only_the_latest_missed_report_is_sent_and_the_others_recorded() {
        use traction_store::monitor::Channel;
        let dir = tempfile::tempdir().unwrap();
        let store = traction_store::open(&dir.path().join("t.db")).unwrap();
        let actor = Actor::system();
        let channel = Channel {
            id: "hook".into(),
            kind: "webhook".into(),
            config: r#"{"kind":"webhook","url":"http://127.0.0.1:9/x"}"#.into(),
            created_at: 0,
            created_by: "cli".into(),
        };
        store.add_channel(&channel, "{}", &actor).unwrap();
        let org = Org::default();
        let input = ScheduleInput {
            id: "daily".into(),
            every: "day".into(),
            time: "08:00".into(),
            scope: None,
            channels: vec!["hook".into()],
        };
        // Made on Sunday 8 November; the server comes back on Friday 13 at noon.
        add(&*store, &org, &input, &actor, at(date(2026, 11, 8), 12)).unwrap();
        let cal = calendar("");
        let calendar_of = |_: Option<&str>| Ok(cal.clone());
        let report = |_: &Schedule, from: Date, _: Date, _: Micros| {
            Ok(ReportContent {
                json: json!({"from": from.to_string()}),
                text: "# Report".into(),
                html: String::new(),
                csv: String::new(),
            })
        };
        let ctx =
            RunContext { monitor: &*store, org: &org, calendar: &calendar_of, report: &report };
        let back = at(date(2026, 11, 13), 12);
        let outcome = run(&ctx, back, back, true).unwrap();
        assert_eq!(outcome.missed, 4);
        assert_eq!(outcome.sent.len(), 1);
        assert_eq!(outcome.sent[0].1.from, date(2026, 11, 12));
        // A second server (or a restart) finds everything recorded.
        let again = run(&ctx, back, back, true).unwrap();
        assert_eq!((again.sent.len(), again.missed), (0, 0));
        let runs = store.schedule_runs("daily").unwrap();
        let statuses: Vec<&str> = runs.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(statuses, ["missed", "missed", "missed", "missed", "sent"]);
        assert_eq!(store.notifications(&Default::default()).unwrap().len(), 1);
    }

    #[test]
    fn a_makers_rights_are_their_read_scope_as_it_is_now() {
        use traction_kpi::scope::Member;
        let member = |id: &str, role: &str, team: Option<&str>, active: bool| Member {
            id: id.into(),
            team: team.map(str::to_string),
            role: role.into(),
            active,
        };
        let org = Org {
            users: vec![
                member("boss", "admin", None, true),
                member("meg", "manager", Some("north"), true),
                member("rob", "rep", Some("north-east"), true),
                member("sol", "rep", None, true),
                member("sue", "rep", Some("south"), true),
                member("gone", "manager", None, false),
                member("vic", "viewer", None, true),
            ],
            parents: [
                ("north".to_string(), None),
                ("north-east".to_string(), Some("north".to_string())),
                ("south".to_string(), None),
            ]
            .into(),
        };
        let check = |user: &str, scope: &str| {
            rights_of(&org, user).and_then(|r| r.check(user, &Scope::parse(scope).unwrap()))
        };
        // The command line and admins read everything; so do a manager or viewer in no team.
        for user in ["cli", "boss", "vic"] {
            assert_eq!(check(user, "company"), Ok(()), "{user}");
        }
        // A manager: their team, its sub-teams and their people; not the company or south.
        assert_eq!(check("meg", "team:north"), Ok(()));
        assert_eq!(check("meg", "team:north-east"), Ok(()));
        assert_eq!(check("meg", "user:rob"), Ok(()));
        assert_eq!(
            check("meg", "team:south").unwrap_err().to_string(),
            "its maker \"meg\" may not read team:south"
        );
        assert!(check("meg", "company").is_err());
        assert!(check("meg", "user:sue").is_err());
        // A rep in a team reads that team (below the manager's), not the team above it.
        assert_eq!(check("rob", "team:north-east"), Ok(()));
        assert!(check("rob", "team:north").is_err());
        // A rep in no team: only themselves.
        assert_eq!(check("sol", "user:sol"), Ok(()));
        assert!(check("sol", "user:rob").is_err());
        // Disabled or gone: nothing, and the reason says so.
        assert_eq!(
            check("gone", "company").unwrap_err().to_string(),
            "its maker \"gone\" is disabled"
        );
        assert_eq!(
            check("nobody", "company").unwrap_err().to_string(),
            "its maker \"nobody\" no longer exists"
        );
    }

    #[test]
    fn a_daily_reports_month_to_date_is_the_covered_days_month_through_that_day() {
        let due = |from: Date| Due { at: 0, from, to: from.tomorrow().unwrap() };
        // Tuesday 10 November covers Monday 9: 1–9 November.
        assert_eq!(month_to_date(&due(date(2026, 11, 9))), (date(2026, 11, 1), date(2026, 11, 10)));
        // Tuesday 1 December covers Monday 30 November: November, not December.
        assert_eq!(month_to_date(&due(date(2026, 11, 30))), (date(2026, 11, 1), date(2026, 12, 1)));
        // The first of the month covers itself.
        assert_eq!(month_to_date(&due(date(2026, 12, 1))), (date(2026, 12, 1), date(2026, 12, 2)));
    }
}
