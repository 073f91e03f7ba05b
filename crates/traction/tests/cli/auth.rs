//! `traction user`, `traction token` and `traction audit` on a real database file.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::Env;

/// Runs the binary with `input` on stdin; returns (exit code, stdout, stderr).
fn run_with_stdin(env: &Env, args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_traction"))
        .arg("--db")
        .arg(env.db())
        .args(args)
        .env_remove("TRACTION_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn users_get_hashed_passwords_tokens_print_once_and_changes_are_audited() {
    let env = Env::new();
    let (code, _, err) = run_with_stdin(
        &env,
        &["user", "add", "--id", "ann", "--name", "Ann", "--role", "admin", "--password-stdin"],
        "a long passphrase\n",
    );
    assert_eq!(code, 0, "{err}");
    // A short password is refused and stores nothing.
    let (code, _, err) = run_with_stdin(
        &env,
        &["user", "add", "--id", "bob", "--name", "Bob", "--password-stdin"],
        "short\n",
    );
    assert_eq!(code, 2);
    assert!(err.contains("at least 10 characters"), "{err}");
    let (code, _, err) =
        run_with_stdin(&env, &["user", "add", "--id", "x", "--name", "X", "--role", "boss"], "");
    assert_eq!(code, 2);
    assert!(err.contains("not a role"), "{err}");
    // Without --password-stdin: API tokens only, and nothing is read from stdin.
    env.ok(&["user", "add", "--id", "bob", "--name", "Bob", "--role", "rep"]);
    let list: serde_json::Value =
        serde_json::from_str(&env.ok(&["user", "list", "--format", "json"])).unwrap();
    assert_eq!(list[0]["id"], "ann");
    assert_eq!(list[0]["password"], true);
    assert_eq!(list[1]["password"], false);
    // The token is exactly one line on stdout, whatever the format; only its hash is kept.
    let token = env.ok(&["token", "create", "--user", "bob", "--name", "ci", "--format", "json"]);
    assert_eq!(token.lines().count(), 1);
    let token = token.trim().to_string();
    assert_eq!(token.len(), 43);
    let store = traction_store::open(&env.db()).unwrap();
    let tokens = store.tokens(Some("bob")).unwrap();
    assert_eq!(tokens.len(), 1);
    let stored = store.token_by_hash(&traction_server::auth::secret::token_hash(&token)).unwrap();
    assert_eq!(stored.unwrap().id, tokens[0].id);
    let hash = store.password_hash("ann").unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("passphrase"));
    drop(store);
    let listed = env.ok(&["token", "list", "--format", "json"]);
    assert!(!listed.contains(&token));
    env.ok(&["token", "revoke", &tokens[0].id]);
    assert_eq!(env.run(&["token", "revoke", "tok-nope"]).code, 2);
    env.ok(&["user", "disable", "bob"]);
    let (code, _, _) = run_with_stdin(&env, &["user", "passwd", "bob"], "another long one\n");
    assert_eq!(code, 0);
    // Every change, as `cli`, newest first.
    let audit: serde_json::Value =
        serde_json::from_str(&env.ok(&["audit", "--format", "json"])).unwrap();
    let actions: Vec<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|r| {
            assert_eq!(r["user"], "cli");
            format!(
                "{} {} {}",
                r["action"].as_str().unwrap(),
                r["entity"].as_str().unwrap(),
                r["id"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "create users ann",
            "password.set credentials ann",
            "create users bob",
            format!("token.create api_tokens {}", tokens[0].id).as_str(),
            format!("token.revoke api_tokens {}", tokens[0].id).as_str(),
            "update users bob",
            "password.set credentials bob",
        ]
    );
    assert_eq!(audit[1]["before"], serde_json::json!({"active": true}));
    assert_eq!(audit[1]["after"], serde_json::json!({"active": false}));
    let only_users: serde_json::Value =
        serde_json::from_str(&env.ok(&["audit", "--entity", "users", "--format", "json"])).unwrap();
    assert_eq!(only_users.as_array().unwrap().len(), 3);
}
