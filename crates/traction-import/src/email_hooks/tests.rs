use super::*;

#[test]
fn form_pairs_decode_plus_and_percent_escapes() {
    let pairs = form_pairs(b"mandrill_events=%5B%7B%22a%22%3A1%7D%5D&x=a+b").unwrap();
    assert_eq!(pairs[0], ("mandrill_events".into(), "[{\"a\":1}]".into()));
    assert_eq!(pairs[1], ("x".into(), "a b".into()));
    // A `%` that starts no escape is kept (the URL Standard's rule, the server's too); text
    // that is not UTF-8 once decoded is refused.
    assert_eq!(form_pairs(b"a=%4").unwrap(), vec![("a".to_string(), "%4".to_string())]);
    assert!(form_pairs(b"a=%ff").is_err());
    assert!(form_pairs(b"a=%C3&b").is_err());
}

#[test]
fn a_long_provider_id_is_cut_to_128_characters_and_stays_unique() {
    let a = id_from(&["x".repeat(200).as_str()]);
    let b = id_from(&[format!("{}y", "x".repeat(199)).as_str()]);
    assert_eq!(a.len(), 128);
    assert_ne!(a, b);
    assert_eq!(id_from(&["a b", "c"]), "a_b:c");
}

#[test]
fn providers_are_named_in_any_case_and_others_refused() {
    assert_eq!(Provider::parse("Mandrill").unwrap(), Provider::Mandrill);
    assert_eq!(Provider::parse("mailchimp").unwrap(), Provider::Mandrill);
    assert_eq!(Provider::parse("SENDGRID").unwrap(), Provider::SendGrid);
    assert!(Provider::parse("postmark").unwrap_err().to_string().contains("mandrill or sendgrid"));
}

#[test]
fn a_mandrill_hook_needs_its_url_and_a_sendgrid_hook_a_p256_key() {
    assert!(Provider::Mandrill.check_settings("k", "").is_err());
    assert!(Provider::Mandrill.check_settings("k", "https://x.example/h").is_ok());
    assert_eq!(
        Provider::SendGrid.check_settings("not base64!", ""),
        Err(SettingsError::KeyNotBase64)
    );
    assert_eq!(Provider::SendGrid.check_settings("aGVsbG8=", ""), Err(SettingsError::KeyNotP256));
}

/// SendGrid's own published example (its SDKs' test of the Signed Event Webhook): this public
/// key, signature and timestamp over this payload. The payload is one object, not the array a
/// real batch is, so a good signature shows as a malformed body, a bad one as a bad signature.
#[test]
fn sendgrid_published_example_signature_verifies() {
    let key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
    let signature = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=";
    let body = r#"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#;
    let request = |body: &'static str, timestamp: &'static str| Request {
        body: body.as_bytes(),
        signature: Some(signature),
        timestamp: Some(timestamp),
    };
    match parse(Provider::SendGrid, key, "", &request(body, "1588788367")) {
        Err(HookError::Malformed(_)) => {}
        other => panic!("the published signature should verify: {other:?}"),
    }
    let changed =
        r#"{"category":"example_payload","event":"test_event","message_id":"message_iD"}"#;
    assert!(matches!(
        parse(Provider::SendGrid, key, "", &request(changed, "1588788367")),
        Err(HookError::BadSignature(_))
    ));
    assert!(matches!(
        parse(Provider::SendGrid, key, "", &request(body, "1588788368")),
        Err(HookError::BadSignature(_))
    ));
    assert!(Provider::SendGrid.check_settings(key, "").is_ok());
}
