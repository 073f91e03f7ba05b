//! Run with `cargo run --release -p traction-server --example write_load -- URL TOKEN OWNER
//! [CLIENTS] [SECONDS]` (bench/writes.sh does it for you).
//!
//! The single-write load generator of the benchmark (spec: quality.md, Performance, single
//! writes): CLIENTS keep-alive connections (default 8) each POST one activity after another to
//! `URL/api/v1/activities` for SECONDS (default 20), as the holder of TOKEN, each activity owned
//! by OWNER (a rep logging a call). It prints the writes per second and the median and 99th
//! percentile latency, timed at the client from the first byte sent to the last byte read.
//! Every answer must be 201: anything else stops the run with what the server said.
//!
//! It is plain blocking std code, one thread per client, so it costs the shared cores as little
//! as a load generator can (a Python one took a core of its own).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: write_load URL TOKEN OWNER [CLIENTS] [SECONDS]");
        return std::process::ExitCode::from(2);
    }
    let addr = args[0].trim_start_matches("http://").trim_end_matches('/').to_string();
    let (token, owner) = (args[1].clone(), args[2].clone());
    let clients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(8);
    let seconds: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(20);
    let stamp = std::process::id();
    let start = Instant::now();
    let stop = start + Duration::from_secs(seconds);
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let (addr, token, owner) = (addr.clone(), token.clone(), owner.clone());
            std::thread::spawn(move || run_client(&addr, &token, &owner, stamp, client, stop))
        })
        .collect();
    let mut latencies = Vec::new();
    for thread in threads {
        match thread.join() {
            Ok(Ok(mine)) => latencies.extend(mine),
            Ok(Err(message)) => {
                eprintln!("write_load: {message}");
                return std::process::ExitCode::FAILURE;
            }
            Err(_) => return std::process::ExitCode::FAILURE,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        let idx = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(idx).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{} writes in {elapsed:.1} s by {clients} clients: {:.0} writes/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    std::process::ExitCode::SUCCESS
}

fn run_client(
    addr: &str,
    token: &str,
    owner: &str,
    stamp: u32,
    client: usize,
    stop: Instant,
) -> Result<Vec<Duration>, String> {
    let stream = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut latencies = Vec::new();
    let mut n = 0u64;
    while Instant::now() < stop {
        let body = format!(
            r#"{{"id":"load-{stamp}-{client}-{n}","kind":"call","direction":"outbound","outcome":"connected","owner_id":"{owner}","occurred_at":"2026-11-20T11:{:02}:00Z"}}"#,
            n % 60
        );
        let request = format!(
            "POST /api/v1/activities HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let t0 = Instant::now();
        writer.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
        let (status, answer) = read_response(&mut reader)?;
        latencies.push(t0.elapsed());
        if status != 201 {
            return Err(format!("a write was answered {status}: {answer}"));
        }
        n += 1;
    }
    Ok(latencies)
}

/// One HTTP/1.1 response with a Content-Length body: its status and body.
fn read_response(reader: &mut BufReader<TcpStream>) -> Result<(u16, String), String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| format!("receive: {e}"))?;
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).map_err(|e| format!("receive: {e}"))?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| format!("receive: {e}"))?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
