//! `traction hook add|list|remove` (issue 19 point 7): a hook per mailing tool, its secret kept
//! for checking only — never printed by `list`, never in the audit log.

use crate::util::Env;

/// SendGrid's published example verification key (base64 DER of a P-256 public key).
const SENDGRID_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";

#[test]
fn hooks_are_added_listed_without_their_secrets_audited_and_removed() {
    let env = Env::new();
    env.ok(&[
        "hook",
        "add",
        "mandrill",
        "--secret",
        "md-s3cret-key",
        "--url",
        "https://sales.example.com/api/v1/hooks/email/mandrill",
    ]);
    let key_file = env.file("sendgrid.key", &format!("{SENDGRID_KEY}\n"));
    env.ok(&["hook", "add", "SendGrid", "--secret-file", key_file.to_str().unwrap()]);

    let list = env.ok(&["hook", "list", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&list).unwrap();
    let hooks = json["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0]["provider"], "mandrill");
    assert_eq!(hooks[0]["path"], "/api/v1/hooks/email/mandrill");
    assert_eq!(hooks[1]["provider"], "sendgrid");
    let table = env.ok(&["hook", "list"]);
    for text in [&list, &table] {
        assert!(!text.contains("md-s3cret-key") && !text.contains("MFkwEwYH"), "{text}");
    }

    let audit = env.ok(&["audit", "--format", "json"]);
    assert!(audit.contains("email_hooks"), "{audit}");
    assert!(!audit.contains("md-s3cret-key") && !audit.contains("MFkwEwYH"), "{audit}");

    // One hook per provider.
    let again =
        env.run(&["hook", "add", "mandrill", "--secret", "x", "--url", "https://a.example/h"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("remove it first"), "{}", again.stderr);

    env.ok(&["hook", "remove", "mandrill"]);
    let list = env.ok(&["hook", "list", "--format", "json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&list).unwrap()["hooks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let gone = env.run(&["hook", "remove", "mandrill"]);
    assert_eq!(gone.code, 2);
    assert!(gone.stderr.contains("no mandrill hook"), "{}", gone.stderr);
}

#[test]
fn bad_hook_settings_are_refused_with_the_fix_and_nothing_is_kept() {
    let env = Env::new();
    for (args, says) in [
        (vec!["hook", "add", "mandrill", "--secret", "k"], "--url"),
        (vec!["hook", "add", "sendgrid", "--secret", "not-a-key"], "not base64"),
        (vec!["hook", "add", "sendgrid", "--secret", "aGVsbG8="], "not a P-256 public key"),
        (vec!["hook", "add", "postmark", "--secret", "k"], "mandrill or sendgrid"),
        (vec!["hook", "add", "mandrill"], "--secret"),
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    let list = env.ok(&["hook", "list", "--format", "json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&list).unwrap()["hooks"],
        serde_json::json!([])
    );
}
