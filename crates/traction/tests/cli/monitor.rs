//! Monitoring through the real binary (spec: monitoring.md): alert rules evaluated with
//! `alert eval --at T`, each run a new process on the same database file (so every evaluation
//! is also a restart), notifications posted to a webhook receiver listening on loopback inside
//! the test.
//!
//! The KPI is the worked example of kpis.md (tests/cli/kpi.rs): revenue_won 84,000 for team
//! north in November 2026, Mon–Fri 09:00–17:00 (168 working hours), 27,000 won by 11 November.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::kpi::{set_target, team_of_four};
use crate::util::Env;

/// One request the receiver got: its headers (lower-case names) and body, and the status it
/// answered.
#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
    status: u16,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A webhook receiver on 127.0.0.1: answers each request with the next status of `script`
/// (200 once the script is used up) and keeps what it got.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(script: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.to_vec()));
        let (got2, script2) = (got.clone(), script.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = Vec::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap(); // request line
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    let trimmed = line.trim_end();
                    if trimmed.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = trimmed.split_once(':') {
                        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                    }
                }
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n == "content-length")
                    .map_or(0, |(_, v)| v.parse().unwrap());
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let status = {
                    let mut script = script2.lock().unwrap();
                    if script.is_empty() { 200 } else { script.remove(0) }
                };
                got2.lock().unwrap().push(Received {
                    headers,
                    body: String::from_utf8(body).unwrap(),
                    status,
                });
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Receiver { url, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The requests it accepted (answered 2xx).
    fn accepted(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| (200..300).contains(&r.status)).collect()
    }
}

const SECRET: &str = "shared-secret";

/// HMAC-SHA256 computed here, independently of the sender.
fn expected_signature(body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn eval(env: &Env, at: &str) -> Value {
    serde_json::from_str(&env.ok(&["alert", "eval", "--at", at, "--format", "json"])).unwrap()
}

/// Team north's target, a signed webhook channel `hook`, and a kpi rule `pace` on the target.
fn watched(receiver: &Receiver, extra: &[&str]) -> Env {
    let env = team_of_four();
    set_target(&env);
    env.ok(&["channel", "add", "--id", "hook", "--webhook", &receiver.url, "--secret", SECRET]);
    let mut args = vec![
        "alert",
        "add",
        "--id",
        "pace",
        "--kind",
        "kpi",
        "--target",
        "t-1",
        "--status",
        "at_risk",
        "--channel",
        "hook",
        "--at",
        "2026-11-11T12:00:00Z",
    ];
    args.extend(extra);
    env.ok(&args);
    env
}

fn import(env: &Env, entity: &str, csv: &str) {
    let path = env.file(&format!("{entity}-more.csv"), csv);
    env.ok(&["import", entity, path.to_str().unwrap()]);
}

#[test]
fn a_kpi_at_risk_then_recovering_fires_once_and_resolves_once_across_restarts() {
    let receiver = Receiver::start(&[]);
    let env = watched(&receiver, &[]);
    // Wed 11 Nov 13:00: 27,000 of 30,000 expected, pace 0.9: on track (at risk is below 0.9).
    assert_eq!(eval(&env, "2026-11-11T13:00:00Z")["transitions"], serde_json::json!([]));
    // Thu 12 Nov 13:00: 68 of 168 working hours gone, 34,000 expected: pace 27/34 ≈ 0.794.
    let fired = eval(&env, "2026-11-12T13:00:00Z");
    assert_eq!(fired["transitions"][0]["from"], "inactive");
    assert_eq!(fired["transitions"][0]["to"], "firing");
    assert_eq!(fired["delivered"], 1);
    // Another process, an hour on: 34,500 expected, still at risk: nothing new to tell.
    assert_eq!(eval(&env, "2026-11-12T14:00:00Z")["transitions"], serde_json::json!([]));
    // A 10,000 win at 14:30 makes 37,000 against 35,000 expected at 15:00: on track again.
    import(
        &env,
        "deals",
        "id,pipeline_id,stage_id,owner_id,amount,created_at,closed_at\n\
         d5,p1,w,u3,10000,2026-10-01,2026-11-12 14:30\n",
    );
    let resolved = eval(&env, "2026-11-12T15:00:00Z");
    assert_eq!(resolved["transitions"][0]["to"], "resolved");
    assert_eq!(eval(&env, "2026-11-12T16:00:00Z")["transitions"], serde_json::json!([]));

    let got = receiver.received();
    assert_eq!(got.len(), 2, "exactly one firing and one resolution: {got:?}");
    for r in &got {
        assert_eq!(r.header("x-traction-signature"), Some(expected_signature(&r.body).as_str()));
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let firing = got[0].json();
    assert_eq!(firing["kind"], "alert");
    assert_eq!(firing["rule"], "pace");
    assert_eq!(firing["key"], "t-1");
    assert_eq!(firing["state"], "firing");
    assert_eq!(firing["at"], "2026-11-12T13:00:00Z");
    assert_eq!(firing["since"], "2026-11-12T13:00:00Z");
    assert_eq!(firing["url"], "/targets/t-1");
    let pace = firing["value"].as_f64().unwrap();
    assert!((pace - 27_000.0 / 34_000.0).abs() < 1e-9, "{pace}");
    let text = firing["text"].as_str().unwrap();
    assert!(!text.contains('\n') && text.contains("FIRING") && text.contains("at risk"), "{text}");
    let resolution = got[1].json();
    assert_eq!(resolution["state"], "resolved");
    assert_eq!(resolution["at"], "2026-11-12T15:00:00Z");

    // History keeps both transitions; the state is resolved.
    let history: Value =
        serde_json::from_str(&env.ok(&["alert", "history", "--format", "json"])).unwrap();
    let to: Vec<&str> =
        history["history"].as_array().unwrap().iter().map(|t| t["to"].as_str().unwrap()).collect();
    assert_eq!(to, ["firing", "resolved"]);

    // An evaluation before the latest one is refused, and changes nothing.
    let back = env.run(&["alert", "eval", "--at", "2026-11-12T10:00:00Z"]);
    assert_eq!(back.code, 2, "{}", back.stderr);
    assert!(back.stderr.contains("before the latest"), "{}", back.stderr);
    assert_eq!(receiver.received().len(), 2);
}

#[test]
fn for_counts_working_time_across_a_night_and_a_weekend() {
    let receiver = Receiver::start(&[]);
    let env = watched(&receiver, &["--for", "2h"]);
    // Fri 13 Nov 16:00: 79 hours gone, 39,500 expected, 27,000 won: off track, so at risk or
    // worse. It must hold for 2 working hours: Fri 16–17 is one; Mon 09–10 the second.
    let steps = [
        ("2026-11-13T16:00:00Z", Some("pending")),
        ("2026-11-13T23:00:00Z", None),
        ("2026-11-14T12:00:00Z", None),
        ("2026-11-15T20:00:00Z", None),
        ("2026-11-16T09:30:00Z", None),
        ("2026-11-16T10:00:00Z", Some("firing")),
    ];
    for (at, to) in steps {
        let out = eval(&env, at);
        assert_eq!(out["transitions"][0]["to"].as_str(), to, "at {at}: {out}");
        let expected_posts = usize::from(to == Some("firing"));
        assert_eq!(receiver.received().len(), expected_posts, "at {at}");
    }
    let body = receiver.received()[0].json();
    assert_eq!(body["since"], "2026-11-13T16:00:00Z");
    assert_eq!(body["condition"], "status at_risk or worse for 2h");
}

#[test]
fn a_silence_holds_a_firing_until_it_ends() {
    let receiver = Receiver::start(&[]);
    let env = watched(&receiver, &[]);
    env.ok(&[
        "silence",
        "add",
        "--rule",
        "pace",
        "--from",
        "2026-11-12T12:00:00Z",
        "--until",
        "2026-11-12T15:00:00Z",
        "--comment",
        "quarterly review",
    ]);
    // Firing at 13:00, but held: the state is tracked, nobody is told.
    assert_eq!(eval(&env, "2026-11-12T13:00:00Z")["transitions"][0]["to"], "firing");
    eval(&env, "2026-11-12T14:00:00Z");
    assert!(receiver.received().is_empty());
    let status: Value = serde_json::from_str(
        &env.ok(&["alert", "status", "--state", "firing", "--format", "json"]),
    )
    .unwrap();
    assert_eq!(status["alerts"].as_array().unwrap().len(), 1);
    // Still firing when the silence ends: told once, then.
    eval(&env, "2026-11-12T15:30:00Z");
    eval(&env, "2026-11-12T16:00:00Z");
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].json()["state"], "firing");
    assert_eq!(got[0].json()["at"], "2026-11-12T15:30:00Z");
}

#[test]
fn a_lead_answered_after_70_minutes_breaks_a_60_minute_sla_once() {
    let receiver = Receiver::start(&[]);
    let env = team_of_four();
    env.ok(&["channel", "add", "--id", "hook", "--webhook", &receiver.url, "--secret", SECRET]);
    env.ok(&[
        "alert",
        "add",
        "--id",
        "sla",
        "--kind",
        "lead_sla",
        "--minutes",
        "60",
        "--channel",
        "hook",
        "--at",
        "2026-11-12T09:00:00Z",
    ]);
    import(&env, "leads", "id,created_at,source,owner_id\nl1,2026-11-12 10:00,web,u1\n");
    // 59 minutes: within the SLA.
    assert_eq!(eval(&env, "2026-11-12T10:59:00Z")["transitions"], serde_json::json!([]));
    // 65 minutes without a first response: the SLA is broken.
    let fired = eval(&env, "2026-11-12T11:05:00Z");
    assert_eq!(fired["transitions"][0]["key"], "l1");
    assert_eq!(fired["transitions"][0]["to"], "firing");
    assert_eq!(fired["transitions"][0]["value"], 65.0);
    // Answered at 11:10, 70 minutes in.
    import(
        &env,
        "leads",
        "id,created_at,source,owner_id,first_response_at\nl1,2026-11-12 10:00,web,u1,2026-11-12 11:10\n",
    );
    assert_eq!(eval(&env, "2026-11-12T11:15:00Z")["transitions"][0]["to"], "resolved");
    eval(&env, "2026-11-12T12:00:00Z");
    let states: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.json()["state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states, ["firing", "resolved"]);
    // The lead's owner heard of it in the app as well: both, unread.
    let mine: Value = serde_json::from_str(&env.ok(&[
        "notifications",
        "--user",
        "u1",
        "--unread",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(mine["notifications"].as_array().unwrap().len(), 2);
}

#[test]
fn a_webhook_failing_twice_then_accepting_is_delivered_once() {
    let receiver = Receiver::start(&[500, 503]);
    let env = watched(&receiver, &[]);
    let fired = eval(&env, "2026-11-12T13:00:00Z");
    assert_eq!(fired["delivered"], 1);
    eval(&env, "2026-11-12T14:00:00Z");
    let got = receiver.received();
    assert_eq!(got.iter().map(|r| r.status).collect::<Vec<_>>(), [500, 503, 200]);
    assert_eq!(receiver.accepted().len(), 1);
    // The three attempts carry the same body (the same notification).
    assert!(got.iter().all(|r| r.body == got[0].body));
    let all: Value = serde_json::from_str(&env.ok(&["notifications", "--format", "json"])).unwrap();
    let note = &all["notifications"][0];
    assert_eq!(note["status"], "delivered");
    assert_eq!(note["attempts"], 3);
    assert!(note["last_error"].as_str().unwrap().contains("503"), "{note}");
}

#[test]
fn bad_rules_and_channels_are_refused_with_what_to_write() {
    let env = team_of_four();
    set_target(&env);
    let refused = |args: &[&str], needle: &str| {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    };
    refused(&["channel", "add", "--id", "x", "--webhook", "ftp://example.com"], "http://");
    refused(&["channel", "add", "--id", "x", "--email", "not-an-address"], "not an email address");
    refused(&["channel", "add", "--id", "x", "--user", "nobody"], "no such user");
    refused(&["channel", "add", "--id", "x"], "exactly one destination");
    env.ok(&["channel", "add", "--id", "me", "--user", "m1"]);
    refused(&["channel", "add", "--id", "me", "--user", "u1"], "already a channel");
    let rule = |extra: &[&str]| {
        let mut args = vec!["alert", "add", "--id", "r1", "--channel", "me"];
        args.extend(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let check = |extra: &[&str], needle: &str| {
        let args = rule(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, needle);
    };
    check(&["--kind", "kpi", "--target", "t-9"], "no such target");
    check(&["--kind", "kpi", "--target", "t-1", "--for", "2 hours"], "not a duration");
    check(&["--kind", "anomaly", "--metric", "win_rate"], "watches a count or a sum");
    check(&["--kind", "anomaly", "--metric", "revenue_won", "--level", "2"], "between 0 and 1");
    check(
        &["--kind", "threshold", "--metric", "nope", "--op", "<", "--value", "1"],
        "not a metric",
    );
    check(
        &[
            "--kind",
            "threshold",
            "--metric",
            "win_rate",
            "--scope",
            "team:south",
            "--op",
            "<",
            "--value",
            "1",
        ],
        "does not exist",
    );
    // A dimension that does not apply to the metric names the ones that do.
    check(
        &[
            "--kind",
            "threshold",
            "--metric",
            "revenue_won",
            "--by",
            "colour",
            "--op",
            "<",
            "--value",
            "1",
        ],
        "the dimensions that do are",
    );
    check(&["--kind", "kpi", "--target", "t-1", "--by", "owner"], "does not apply");
    check(&["--kind", "lead_sla"], "--minutes");
    check(&["--kind", "lead_sla", "--minutes", "60", "--metric", "win_rate"], "does not apply");
    let run = env.run(&[
        "alert",
        "add",
        "--id",
        "r1",
        "--kind",
        "kpi",
        "--target",
        "t-1",
        "--channel",
        "nope",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no such channel"), "{}", run.stderr);
    // Nothing half-created.
    let rules: Value =
        serde_json::from_str(&env.ok(&["alert", "list", "--format", "json"])).unwrap();
    assert_eq!(rules["rules"], serde_json::json!([]));
}

#[test]
fn the_smtp_password_is_never_shown() {
    let env = Env::new();
    env.ok(&["config", "set", "smtp_url", "smtps://mailer:hunter2@mail.example.com:465"]);
    let shown = env.ok(&["config", "get", "smtp_url", "--format", "table"]);
    assert_eq!(shown.trim(), "smtps://mailer:***@mail.example.com:465");
    let all = env.ok(&["config", "get", "--format", "json"]);
    assert!(!all.contains("hunter2"), "{all}");
    let audit = env.ok(&["audit", "--format", "json"]);
    assert!(!audit.contains("hunter2"), "{audit}");
    let bad = env.run(&["config", "set", "smtp_url", "http://mail.example.com"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("smtps://"), "{}", bad.stderr);
}

#[test]
fn the_server_evaluates_rules_by_itself_and_delivers() {
    let receiver = Receiver::start(&[]);
    let env = team_of_four();
    // The server runs on the wall clock: a lead that came in two hours ago, never answered.
    #[allow(clippy::disallowed_methods)]
    let now = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap();
    let two_hours_ago = now - jiff::SignedDuration::from_hours(2);
    let three_hours_ago = (now - jiff::SignedDuration::from_hours(3)).to_string();
    env.ok(&["channel", "add", "--id", "hook", "--webhook", &receiver.url]);
    env.ok(&[
        "alert",
        "add",
        "--id",
        "sla",
        "--kind",
        "lead_sla",
        "--minutes",
        "60",
        "--channel",
        "hook",
        "--at",
        &three_hours_ago,
    ]);
    import(&env, "leads", &format!("id,created_at,source,owner_id\nl9,{two_hours_ago},web,u2\n"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_traction"))
        .args(["--db", env.db().to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"])
        .env_remove("TRACTION_DB")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while receiver.received().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let body = got[0].json();
    assert_eq!((body["rule"].as_str(), body["key"].as_str()), (Some("sla"), Some("l9")));
    assert_eq!(body["state"], "firing");
    assert!(got[0].header("x-traction-signature").is_none(), "no secret, no signature");
}

/// A minimal SMTP server on 127.0.0.1 (plain, no authentication): the test's receiver, keeping
/// each message's envelope recipients and data.
/// The messages an SMTP sink got: envelope recipients and data.
type Mailbox = Arc<Mutex<Vec<(Vec<String>, String)>>>;

fn smtp_sink() -> (u16, Mailbox) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let got2 = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut rcpt = Vec::new();
            write!(stream, "220 sink ESMTP\r\n").unwrap();
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let command = line.trim_end().to_ascii_uppercase();
                if command.starts_with("EHLO") || command.starts_with("HELO") {
                    write!(stream, "250-sink\r\n250 8BITMIME\r\n").unwrap();
                } else if command.starts_with("MAIL FROM") {
                    write!(stream, "250 OK\r\n").unwrap();
                } else if command.starts_with("RCPT TO") {
                    rcpt.push(line.trim_end()[8..].trim().to_string());
                    write!(stream, "250 OK\r\n").unwrap();
                } else if command == "DATA" {
                    write!(stream, "354 go on\r\n").unwrap();
                    let mut data = String::new();
                    loop {
                        line.clear();
                        reader.read_line(&mut line).unwrap();
                        if line == ".\r\n" {
                            break;
                        }
                        data.push_str(&line);
                    }
                    got2.lock().unwrap().push((std::mem::take(&mut rcpt), data));
                    write!(stream, "250 queued\r\n").unwrap();
                } else if command == "QUIT" {
                    write!(stream, "221 bye\r\n").unwrap();
                    break;
                } else {
                    write!(stream, "250 OK\r\n").unwrap();
                }
            }
        }
    });
    (port, got)
}

#[test]
fn an_email_channel_sends_text_and_html_over_smtp() {
    let (port, got) = smtp_sink();
    let env = team_of_four();
    env.ok(&["config", "set", "smtp_url", &format!("smtp://127.0.0.1:{port}")]);
    env.ok(&["config", "set", "smtp_from", "alerts@example.com"]);
    env.ok(&["channel", "add", "--id", "mail", "--email", "ann@example.com, bob@example.com"]);
    let out = env.ok(&["channel", "test", "mail"]);
    assert!(out.contains("delivered"), "{out}");
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (rcpt, data) = &got[0];
    assert_eq!(rcpt, &["<ann@example.com>", "<bob@example.com>"]);
    assert!(data.contains("From: alerts@example.com"), "{data}");
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("text/plain") && data.contains("text/html"), "{data}");
    assert!(data.contains("Traction test notification for channel mail"), "{data}");
}

#[test]
fn an_unreachable_webhook_is_a_clear_error_and_stays_pending() {
    // A port nobody listens on: bind one, note it, close it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let env = Env::new();
    env.ok(&["channel", "add", "--id", "dead", "--webhook", &format!("http://127.0.0.1:{port}/x")]);
    let run = env.run(&["channel", "test", "dead"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
    assert!(run.stderr.contains("retried"), "{}", run.stderr);
    let all: Value = serde_json::from_str(&env.ok(&["notifications", "--format", "json"])).unwrap();
    let note = &all["notifications"][0];
    assert_eq!(note["status"], "pending");
    // 1 s, 2 s, 4 s apart within the ten seconds `channel test` waits: four attempts recorded.
    assert_eq!(note["attempts"], 4);
}

#[test]
fn a_daily_report_arrives_once_for_each_working_day_of_a_week_with_a_holiday() {
    let receiver = Receiver::start(&[]);
    let env = team_of_four();
    // Wednesday 11 November is a holiday.
    env.ok(&["config", "set", "holidays", "2026-11-11"]);
    env.ok(&["channel", "add", "--id", "hook", "--webhook", &receiver.url]);
    env.ok(&[
        "schedule",
        "add",
        "--id",
        "daily",
        "--every",
        "day",
        "--time",
        "08:00",
        "--scope",
        "team:north",
        "--channel",
        "hook",
        "--at",
        "2026-11-08T12:00:00Z",
    ]);
    // A run every morning (and twice on Tuesday), each a new process.
    for at in [
        "2026-11-09T08:05:00Z",
        "2026-11-10T08:05:00Z",
        "2026-11-10T09:00:00Z",
        "2026-11-11T08:05:00Z",
        "2026-11-12T08:05:00Z",
        "2026-11-13T08:05:00Z",
        "2026-11-14T08:05:00Z",
    ] {
        env.ok(&["schedule", "run", "--at", at]);
    }
    let got = receiver.received();
    let covered: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            let b = r.json();
            (b["from"].as_str().unwrap().to_string(), b["to"].as_str().unwrap().to_string())
        })
        .collect();
    // Monday covers Friday; Thursday covers Tuesday (Wednesday is off); none on the holiday or
    // the weekend.
    assert_eq!(
        covered,
        [
            ("2026-11-06".to_string(), "2026-11-07".to_string()),
            ("2026-11-09".to_string(), "2026-11-10".to_string()),
            ("2026-11-10".to_string(), "2026-11-11".to_string()),
            ("2026-11-12".to_string(), "2026-11-13".to_string()),
        ]
    );
    let body = got[1].json();
    assert_eq!(body["kind"], "report");
    assert_eq!(body["schedule"], "daily");
    assert_eq!(body["scope"], "team:north");
    assert!(body["report"]["kpis"].is_array(), "{body}");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Daily report for team:north: 2026-11-09 to 2026-11-09, month to date 2026-11-01 to 2026-11-09"
        ),
        "{text}"
    );
    assert!(!text.contains('\n'));
    // Thursday's report covers Tuesday 10 November: d2 (7,000) won that day; the month to date,
    // 1–10 November, adds d1 (20,000, won on the 3rd) = 27,000; d4 was won in October.
    let revenue_won = |report: &Value| {
        report["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == "revenue_won")
            .map(|m| m["value"].as_f64().unwrap())
    };
    let thursday = got[2].json();
    assert_eq!(
        (thursday["from"].as_str(), thursday["to"].as_str()),
        (Some("2026-11-10"), Some("2026-11-11"))
    );
    assert_eq!(revenue_won(&thursday["report"]), Some(7000.0), "{thursday}");
    let mtd = &thursday["month_to_date"];
    assert_eq!(
        (mtd["from"].as_str(), mtd["to"].as_str()),
        (Some("2026-11-01"), Some("2026-11-11"))
    );
    assert_eq!(revenue_won(&mtd["report"]), Some(27000.0), "{mtd}");
}

#[test]
fn an_emailed_report_has_html_text_and_a_csv_attachment() {
    let (port, sink) = smtp_sink();
    let env = team_of_four();
    env.ok(&["config", "set", "smtp_url", &format!("smtp://127.0.0.1:{port}")]);
    env.ok(&["config", "set", "smtp_from", "reports@example.com"]);
    env.ok(&["channel", "add", "--id", "mail", "--email", "meg@example.com"]);
    env.ok(&[
        "schedule",
        "add",
        "--id",
        "weekly",
        "--every",
        "week",
        "--time",
        "07:30",
        "--channel",
        "mail",
        "--at",
        "2026-11-08T12:00:00Z",
    ]);
    env.ok(&["schedule", "run", "--at", "2026-11-09T07:30:00Z"]);
    let got = sink.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let data = &got[0].1;
    assert!(data.contains("multipart/mixed"), "{data}");
    assert!(data.contains("text/plain") && data.contains("text/html"), "{data}");
    assert!(data.contains("text/csv"), "{data}");
    assert!(data.contains("report-weekly-2026-11-02.csv"), "{data}");
    // A weekly report has no month to date; a daily one has it as a second table.
    assert!(!data.contains("month-to-date"), "{data}");
    env.ok(&[
        "schedule",
        "add",
        "--id",
        "daily",
        "--every",
        "day",
        "--time",
        "07:45",
        "--channel",
        "mail",
        "--at",
        "2026-11-09T08:00:00Z",
    ]);
    env.ok(&["schedule", "run", "--at", "2026-11-10T07:45:00Z"]);
    let got = sink.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let data = &got[1].1;
    assert!(data.contains("report-daily-2026-11-09.csv"), "{data}");
    assert!(data.contains("report-daily-2026-11-01-month-to-date.csv"), "{data}");
}

#[test]
fn a_threshold_rule_by_a_dimension_has_one_instance_per_value() {
    let receiver = Receiver::start(&[]);
    let env = team_of_four();
    env.ok(&["channel", "add", "--id", "hook", "--webhook", &receiver.url]);
    env.ok(&[
        "alert",
        "add",
        "--id",
        "big",
        "--kind",
        "threshold",
        "--metric",
        "revenue_won",
        "--scope",
        "team:north",
        "--window",
        "period",
        "--by",
        "owner",
        "--op",
        ">=",
        "--value",
        "10000",
        "--channel",
        "hook",
        "--at",
        "2026-11-01T00:00:00Z",
    ]);
    // Month to date on 5 November: u1 won d1 (20,000) on the 3rd; nobody else has won yet.
    let first = eval(&env, "2026-11-05T12:00:00Z");
    let t = &first["transitions"];
    assert_eq!(t.as_array().unwrap().len(), 1, "{first}");
    assert_eq!((t[0]["key"].as_str(), t[0]["to"].as_str()), (Some("u1"), Some("firing")));
    assert_eq!(t[0]["value"].as_f64(), Some(20000.0));
    // On 11 November u2 has won d2 (7,000): below 10,000, so u2 does not fire; u1 still fires
    // and is not notified again.
    let second = eval(&env, "2026-11-11T12:00:00Z");
    assert_eq!(second["transitions"], serde_json::json!([]), "{second}");
    let status: Value =
        serde_json::from_str(&env.ok(&["alert", "status", "--format", "json"])).unwrap();
    let text = status.to_string();
    assert!(text.contains("\"u1\"") && !text.contains("\"u2\""), "{status}");
    // On 1 December the month starts again: nobody has won, u1's instance resolves.
    let third = eval(&env, "2026-12-01T12:00:00Z");
    let t = &third["transitions"];
    assert_eq!(
        (t[0]["key"].as_str(), t[0]["to"].as_str()),
        (Some("u1"), Some("resolved")),
        "{third}"
    );
    let got = receiver.received();
    let states: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            let b = r.json();
            (b["key"].as_str().unwrap().to_string(), b["state"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(
        states,
        [("u1".to_string(), "firing".to_string()), ("u1".to_string(), "resolved".to_string())]
    );
    let summary = got[0].json()["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("team:north, owner u1"), "{summary}");
}
