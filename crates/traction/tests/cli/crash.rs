//! The crash harness (issue 25, point 9; spec: quality.md, Reliability): the server is killed
//! with SIGKILL at a moment chosen at random while clients write through the API, a
//! `traction import` and a `traction backup` run beside it, and each of them is killed too. Then
//! the database is reopened: every write the API acknowledged is there, SQLite's integrity check
//! passes, the import is all or nothing, and the backup is either complete and restorable at
//! its name or absent (an unfinished one is only ever `FILE.partial`).
//!
//! `cargo test` runs three rounds; `TRACTION_CRASH_ROUNDS=100` runs a hundred (the figures are in
//! bench/RESULTS.md). The moments are drawn from a fixed seed (`TRACTION_CRASH_SEED` changes it),
//! so a failing round can be run again.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use traction_domain::{Entity, Value};

use crate::util::{Env, free_port, http, wait_up};

/// Rows of the import killed in each round.
const IMPORT_ROWS: usize = 5_000;
/// Clients writing through the API at once.
const WRITERS: usize = 3;

/// SplitMix64: the harness's moments, from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A request's status, or `None` when the server did not answer in full.
fn request(port: u16, method: &str, path: &str, token: &str, body: &str) -> Option<u16> {
    http(port, method, path, token, body).map(|(status, _)| status)
}

fn spawn(db: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_traction"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("TRACTION_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// What the rounds added up to.
#[derive(Default)]
struct Tally {
    acknowledged: usize,
    imports_whole: usize,
    imports_absent: usize,
    backups_complete: usize,
    backups_partial: usize,
    backups_absent: usize,
}

#[test]
fn killed_at_any_moment_the_server_loses_no_acknowledged_write_and_leaves_no_half_import_or_backup()
{
    let rounds: u64 =
        std::env::var("TRACTION_CRASH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(3);
    let seed: u64 =
        std::env::var("TRACTION_CRASH_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(25);
    let mut rng = Rng(seed);
    let env = Env::new();
    let db = env.db();
    env.ok(&["user", "add", "--id", "admin", "--name", "Admin", "--role", "admin"]);
    let token =
        env.ok(&["token", "create", "--user", "admin", "--name", "crash"]).trim().to_owned();
    let mut tally = Tally::default();
    for round in 0..rounds {
        let mut csv = String::from("id,kind,occurred_at,owner_id\n");
        for i in 0..IMPORT_ROWS {
            csv.push_str(&format!("imp-{round}-{i},email,2026-01-05T10:00:00Z,admin\n"));
        }
        let import_file = env.file(&format!("import-{round}.csv"), &csv);
        let backup_file = env.dir.path().join(format!("backup-{round}.db"));

        let port = free_port();
        let mut server = spawn(&db, &["serve", "--listen", &format!("127.0.0.1:{port}")]);
        assert!(wait_up(port, &token), "round {round}: the server did not start");

        // Writers: each write's id is kept once its 201 is read in full.
        let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (acknowledged, stop, token) =
                    (acknowledged.clone(), stop.clone(), token.clone());
                std::thread::spawn(move || {
                    for n in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let id = format!("api-{round}-{w}-{n}");
                        let body = format!(
                            r#"{{"id":"{id}","kind":"call","owner_id":"admin","occurred_at":"2026-01-05T10:00:00Z"}}"#
                        );
                        match request(port, "POST", "/api/v1/activities", &token, &body) {
                            Some(201) => acknowledged.lock().unwrap().push(id),
                            Some(status) => panic!("round {round}: a write answered {status}"),
                            None => break,
                        }
                    }
                })
            })
            .collect();

        // An import and a backup beside them, and the kill at a moment drawn at random.
        let kill_after = 50 + rng.below(1_200);
        let backup_after = rng.below(kill_after);
        let mut import = spawn(&db, &["import", "activities", import_file.to_str().unwrap()]);
        std::thread::sleep(Duration::from_millis(backup_after));
        let mut backup = spawn(&db, &["backup", backup_file.to_str().unwrap()]);
        std::thread::sleep(Duration::from_millis(kill_after - backup_after));
        for child in [&mut server, &mut import, &mut backup] {
            let _ = child.kill(); // SIGKILL: no chance to clean up.
        }
        for child in [&mut server, &mut import, &mut backup] {
            let _ = child.wait();
        }
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.join().unwrap();
        }

        // Reopened: intact, with everything acknowledged.
        let store = traction_store::open(&db).unwrap();
        store.integrity_check().unwrap_or_else(|e| panic!("round {round}: {e}"));
        let acknowledged = acknowledged.lock().unwrap();
        for id in acknowledged.iter() {
            let key = [Value::Text(id.clone())];
            assert!(
                store.get(Entity::Activities, &key).unwrap().is_some(),
                "round {round}: the acknowledged write {id} is lost"
            );
        }
        tally.acknowledged += acknowledged.len();
        let imported = (0..IMPORT_ROWS)
            .filter(|i| {
                let key = [Value::Text(format!("imp-{round}-{i}"))];
                store.get(Entity::Activities, &key).unwrap().is_some()
            })
            .count();
        assert!(
            imported == 0 || imported == IMPORT_ROWS,
            "round {round}: the killed import left {imported} of {IMPORT_ROWS} rows"
        );
        if imported == 0 {
            tally.imports_absent += 1
        } else {
            tally.imports_whole += 1
        }
        drop(store);

        // The backup: complete at its name, or absent there.
        let partial = traction_store::partial_backup_path(&backup_file);
        if backup_file.exists() {
            let copy = traction_store::open(&backup_file).unwrap();
            copy.integrity_check().unwrap_or_else(|e| panic!("round {round}: backup: {e}"));
            assert!(copy.count(Entity::Users).unwrap() >= 1, "round {round}: an empty backup");
            tally.backups_complete += 1;
        } else if partial.exists() {
            tally.backups_partial += 1;
        } else {
            tally.backups_absent += 1;
        }
    }
    // The figures of a run, for bench/RESULTS.md (`--nocapture` shows them).
    println!(
        "crash harness: {rounds} rounds, {} writes acknowledged, 0 lost; imports whole {} / absent {}; \
         backups complete {} / partial {} / not started {}",
        tally.acknowledged,
        tally.imports_whole,
        tally.imports_absent,
        tally.backups_complete,
        tally.backups_partial,
        tally.backups_absent
    );
    assert!(tally.acknowledged > 0, "the harness acknowledged no write: it proved nothing");
}
