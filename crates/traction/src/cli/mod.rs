//! The command line: one file per command, dispatched from [`run`].
//!
//! Options shared by every command (`--db`, `--format`, `--at`) are global: they may stand before
//! or after the subcommand. Each command turns its raw flags into domain values first (parse,
//! don't validate) and then does its work through the store and the other crates.

mod audit;
mod backup;
mod config;
mod demo;
mod explain;
mod export;
mod forecast;

mod hook;
mod import;
mod kpi;
mod mapping;
mod metric;
mod monitor;
mod report;
mod serve;
mod target;
mod user;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use traction_domain::time::Micros;
use traction_store::Backend;

use crate::output::Format;

/// Traction: sales tracking and sales-metrics monitoring.
///
/// Keeps leads, deals, activities, customers, orders, products, campaigns and costs in one
/// database file, and answers how the team stands against its targets right now.
#[derive(Debug, Parser)]
#[command(name = "traction", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// The database file (created and migrated when missing or older).
    #[arg(
        long,
        global = true,
        env = "TRACTION_DB",
        default_value = "traction.db",
        value_name = "PATH"
    )]
    pub db: PathBuf,
    /// Output format: table (default on a terminal), json (default otherwise) or csv; for
    /// import and export, the file format: csv or ndjson; for report, also md or html.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub format: Option<String>,
    /// The clock: answer as if it were this instant (RFC 3339, or a local date-time or date).
    #[arg(long, global = true, value_name = "TIMESTAMP")]
    pub at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web application and the HTTP API.
    Serve(serve::Args),
    /// Fill the database with realistic generated sales data.
    Demo(demo::Args),
    /// Import a CSV or NDJSON file of one entity, atomically (all rows or none).
    Import(import::Args),
    /// Export an entity's records in the import format (CSV unless --format ndjson).
    Export(export::Args),
    /// Mappings of other tools' exports: print a preset, or check a mapping file.
    Mapping(mapping::Args),
    /// Read or change workspace settings (time zone, currency, business calendar).
    Config(config::Args),
    /// Write a consistent copy of the database to a new file, while others keep writing.
    Backup(backup::Args),
    /// Compute one metric over a range, by grain and dimensions.
    Metric(metric::MetricArgs),
    /// The metric catalog: list it, or check a definitions file.
    Metrics(metric::MetricsArgs),
    /// The stage-by-stage funnel of deals created in a range.
    Funnel(metric::FunnelArgs),
    /// Why a metric moved: its change split by segment, rate and mix, and along its drivers.
    Explain(explain::Args),
    /// Targets on metrics for the company, a team or a user: set, list, delete.
    Target(target::Args),
    /// KPIs: every target's pace and status, breakdowns to the hour per head, leaderboards.
    Kpi(kpi::Args),
    /// A period report: KPIs, key leading and lagging metrics against the previous period and a
    /// year ago, the funnel, the leaderboard (md, html, csv or json).
    Report(report::Args),
    /// People who sign in: add, list, set a password, disable.
    User(user::UserArgs),
    /// API tokens for scripts: create (printed once), list, revoke.
    Token(user::TokenArgs),
    /// The audit log: who changed what, when, before and after.
    Audit(audit::Args),
    /// Notification channels: webhooks, email, lists in the app: add, list, delete, test.
    Channel(monitor::ChannelArgs),
    /// Alert rules: add, list, delete; their states, history, and one evaluation (`eval`).
    Alert(monitor::AlertArgs),
    /// Silences: hold a rule's notifications for a time.
    Silence(monitor::SilenceArgs),
    /// Notifications sent: every channel's, or a user's list in the app.
    Notifications(monitor::NotificationsArgs),
    /// Scheduled reports: add, list, delete, and send what is due (`run`).
    Schedule(monitor::ScheduleArgs),
    /// Forecasts: a metric by day or week with an interval and its backtest; `history METRIC`
    /// (past forecasts against what happened); `pipeline` (open deals weighted by win rates).
    Forecast(forecast::Args),

    /// Mailing tools' event hooks (Mandrill, SendGrid): add, list, remove.
    Hook(hook::Args),
}

/// Why a command failed, which fixes the exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or bad input: exit 2.
    Input(String),
    /// The work could not be done (IO, database): exit 1.
    Runtime(String),
    /// stdout was closed by the reader (`| head`): not an error.
    BrokenPipe,
}

impl From<traction_store::Error> for Failure {
    fn from(e: traction_store::Error) -> Failure {
        match e {
            traction_store::Error::Invalid(_)
            | traction_store::Error::Conflict(_)
            | traction_store::Error::NotFound => Failure::Input(e.to_string()),
            traction_store::Error::Storage(message) | traction_store::Error::Busy(message) => {
                Failure::Runtime(message)
            }
        }
    }
}

impl Failure {
    /// Bad usage or input, with what is wrong.
    pub fn input(problem: impl std::fmt::Display) -> Failure {
        Failure::Input(problem.to_string())
    }
}

/// A text that is not a value (a flag, a cell, a setting) is bad input: exit 2.
impl From<traction_domain::Error> for Failure {
    fn from(e: traction_domain::Error) -> Failure {
        Failure::Input(e.to_string())
    }
}

/// A refused password is bad input; a secret the system cannot make is a runtime failure.
impl From<traction_server::auth::secret::Error> for Failure {
    fn from(e: traction_server::auth::secret::Error) -> Failure {
        use traction_server::auth::secret::Error;
        match e {
            Error::PasswordTooShort | Error::PasswordTooLong => Failure::Input(e.to_string()),
            Error::Random(_) | Error::Hash(_) => Failure::Runtime(e.to_string()),
        }
    }
}

/// A flag's value that names no output format: bad usage.
impl From<crate::output::UnknownFormat> for Failure {
    fn from(e: crate::output::UnknownFormat) -> Failure {
        Failure::Input(e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Runtime(e.to_string())
        }
    }
}

pub type Result<T, E = Failure> = std::result::Result<T, E>;

pub fn parse() -> Result<Cli, clap::Error> {
    Cli::try_parse()
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Context { global: cli.global };
    match cli.command {
        Command::Import(args) => import::run(&ctx, args),
        Command::Export(args) => export::run(&ctx, args),
        Command::Mapping(args) => mapping::run(&ctx, args),
        Command::Hook(args) => hook::run(&ctx, args),
        Command::Config(args) => config::run(&ctx, args),
        Command::Backup(args) => backup::run(&ctx, args),
        Command::Serve(args) => serve::run(&ctx, args),
        Command::Demo(args) => demo::run(&ctx, args),
        Command::Metric(args) => metric::run_metric(&ctx, args),
        Command::Metrics(args) => metric::run_metrics(&ctx, args),
        Command::Funnel(args) => metric::run_funnel(&ctx, args),
        Command::Explain(args) => explain::run(&ctx, args),
        Command::Target(args) => target::run(&ctx, args),
        Command::Kpi(args) => kpi::run(&ctx, args),
        Command::Report(args) => report::run(&ctx, args),
        Command::User(args) => user::run_user(&ctx, args),
        Command::Token(args) => user::run_token(&ctx, args),
        Command::Audit(args) => audit::run(&ctx, args),
        Command::Channel(args) => monitor::run_channel(&ctx, args),
        Command::Alert(args) => monitor::run_alert(&ctx, args),
        Command::Silence(args) => monitor::run_silence(&ctx, args),
        Command::Notifications(args) => monitor::run_notifications(&ctx, args),
        Command::Schedule(args) => monitor::run_schedule(&ctx, args),
        Command::Forecast(args) => forecast::run(&ctx, args),
    }
}

/// What every command gets: the global options, and ways to open the store and read the clock.
pub struct Context {
    pub global: Global,
}

impl Context {
    /// Opens the database, creating and migrating it when needed.
    pub fn store(&self) -> Result<Arc<dyn Backend>> {
        if let Some(parent) = self.global.db.parent()
            && !parent.as_os_str().is_empty()
            && !parent.exists()
        {
            return Err(Failure::Input(format!(
                "the folder {} of the database does not exist: create it or pass another --db",
                parent.display()
            )));
        }
        let store = traction_store::open(&self.global.db)?;
        // Whoever can open the file is its admin: changes made here are audited as `cli`.
        store.set_default_actor(Some(traction_store::Actor { user: "cli".into(), at: None }));
        Ok(store)
    }

    /// The output format asked for (table, json or csv), or the default for where stdout goes.
    pub fn format(&self) -> Result<Format> {
        let asked = match self.global.format.as_deref() {
            None => None,
            Some(text) => Some(Format::parse(text)?),
        };
        Ok(Format::or_default(asked))
    }

    /// The clock: `--at` read in the workspace zone, else now.
    pub fn now(&self, store: &dyn Backend) -> Result<Micros> {
        match &self.global.at {
            Some(_) => self.now_in(&store.workspace()?.zone),
            None => Ok(wall_clock()),
        }
    }

    /// [`Context::now`] with the workspace's zone already read.
    pub fn now_in(&self, zone: &jiff::tz::TimeZone) -> Result<Micros> {
        match &self.global.at {
            Some(text) => traction_domain::time::parse_instant(text, zone)
                .map_err(|e| Failure::Input(format!("--at: {e}"))),
            None => Ok(wall_clock()),
        }
    }
}

/// The system clock. The only place Traction reads it: everything below takes the clock as a
/// value, so `--at` can stand in for it.
#[allow(clippy::disallowed_methods)]
pub fn wall_clock() -> Micros {
    jiff::Timestamp::now().as_microsecond()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// The methods clippy.toml disallows, as they are called.
    const CLOCK_READS: &[&str] = &["Timestamp::now()", "Zoned::now()", "SystemTime::now()"];

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }

    /// The clock rule (ARCHITECTURE.md, "The clock rule, enforced"): clippy.toml disallows every
    /// way of reading the wall clock, and each place allowed to (`wall_clock` here, a test that
    /// runs a server on the wall clock) is a real clock read — no allow is left dead.
    #[test]
    fn the_clock_rule_is_in_clippy_toml_and_every_allow_is_on_a_clock_read() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let config = std::fs::read_to_string(root.join("clippy.toml")).unwrap();
        for path in ["jiff::Timestamp::now", "jiff::Zoned::now", "std::time::SystemTime::now"] {
            assert!(config.contains(&format!("path = \"{path}\"")), "clippy.toml lacks {path}");
        }
        let mut files = Vec::new();
        for krate in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
            rust_files(&krate.path().join("src"), &mut files);
            rust_files(&krate.path().join("tests"), &mut files);
        }
        assert!(files.len() > 50, "the workspace's sources are found ({})", files.len());
        // Split so this file does not match itself.
        let allow = concat!("allow(clippy::", "disallowed_methods)");
        let mut allows = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (idx, line) in lines.iter().enumerate() {
                if !line.contains(allow) {
                    continue;
                }
                allows += 1;
                // The item or statement the attribute is on: the next few lines.
                let next = lines[idx + 1..(idx + 4).min(lines.len())].join("\n");
                assert!(
                    CLOCK_READS.iter().any(|read| next.contains(read)),
                    "{}:{}: an allow of disallowed_methods without a clock read under it",
                    file.display(),
                    idx + 1
                );
            }
        }
        assert!(allows >= 1, "wall_clock's allow is found");
    }
}
