//! Alerts against real receivers (a webhook receiver, aiosmtpd, failure hooks): sent by the
//! `notify` leaf, by `renew` once per failure streak, and by `notify --test`.

use std::time::Duration;

use certwright::error::Problem;
use certwright::notify::email::{EmailTarget, SmtpCredentials, SmtpServer};
use certwright::notify::hook::HookCommand;
use certwright::notify::{send_all, Delivery, Event, EventKind, Secret, Target, WebhookUrl};

use crate::metrics::assert_promtool_accepts;
use crate::support::nginx::process_alive;
use crate::support::rig::Rig;
use crate::support::smtp::{self, Smtp};
use crate::support::webhook::{Behaviour, Receiver};
use crate::support::{self, block_on, free_port};

/// The `event.kind` of every alert the receiver got, in order.
pub(crate) fn alert_kinds(hook: &Receiver) -> Vec<String> {
    hook.received()
        .iter()
        .map(|r| r.json()["event"]["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

const URL_TOKEN: &str = "T0KEN-in-the-webhook-url-4711";
const SMTP_PASSWORD: &str = "smtp-pa55word-0815";

fn sample_event(kind: EventKind) -> Event {
    let now = ::time::OffsetDateTime::now_utc();
    let mut event = Event::new(
        kind,
        "web1",
        "shop.example.test",
        &["shop.example.test".into(), "www.shop.example.test".into()],
        now,
    )
    .with_not_after(now + ::time::Duration::days(5) + ::time::Duration::hours(1));
    event.error = Some("order failed".into());
    event.problem = Some(Problem {
        kind: Some("urn:ietf:params:acme:error:rateLimited".into()),
        detail: Some("too many failed authorizations".into()),
        status: Some(429),
        subproblems: Vec::new(),
        retry_after: None,
    });
    event.next_retry = Some(now + ::time::Duration::hours(1));
    event.unpause_url = Some("https://portal.example/sfe/v1/unpause?jwt=abc".into());
    event.ca = Some("https://ca.example/dir".into());
    event
}

/// Everything a caller could log about deliveries and targets.
fn all_output(targets: &[Target], deliveries: &[Delivery]) -> String {
    format!("{targets:?} {deliveries:?} {}", {
        let shown: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        shown.join(" ")
    })
}

/// A webhook gets the documented JSON body with Slack `text` and Discord `content`; a
/// refused, a failing and a hung target each fail alone, within the timeout; the token in the
/// URLs appears in no output.
#[test]
fn webhook_delivers_and_bad_targets_neither_block_nor_leak() {
    let ok = Receiver::start(Behaviour::Status(200));
    let failing = Receiver::start(Behaviour::Status(500));
    let hung = Receiver::start(Behaviour::Hang);
    let refused = format!("http://127.0.0.1:{}/hook/{URL_TOKEN}", free_port());
    let targets: Vec<Target> = [
        ok.url(&format!("/services/T1/B2/{URL_TOKEN}")),
        failing.url(&format!("/hook?token={URL_TOKEN}")),
        hung.url(&format!("/hook/{URL_TOKEN}")),
        refused,
    ]
    .iter()
    .map(|u| Target::Webhook(WebhookUrl::parse(u).expect("webhook URL")))
    .collect();
    let event = sample_event(EventKind::RenewalFailed);
    let started = std::time::Instant::now();
    let deliveries = block_on(send_all(&targets, &event, Duration::from_secs(2)));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let ok_count = deliveries.iter().filter(|d| d.delivered()).count();
    assert_eq!(ok_count, 1, "{deliveries:?}");
    assert!(deliveries[0].delivered(), "{deliveries:?}");
    assert!(deliveries[1].error.as_deref().unwrap_or("").contains("500"));
    assert!(deliveries[2]
        .error
        .as_deref()
        .unwrap_or("")
        .contains("no answer"));
    let shown = all_output(&targets, &deliveries);
    assert!(!shown.contains(URL_TOKEN), "token leaked: {shown}");

    let got = ok.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "POST");
    assert!(got[0].path.ends_with(URL_TOKEN));
    assert!(
        got[0]
            .headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/json"),
        "{:?}",
        got[0].headers
    );
    let body = got[0].json();
    let text = body["text"].as_str().expect("text");
    assert_eq!(body["content"], body["text"]);
    for needle in [
        "web1",
        "shop.example.test",
        "rateLimited",
        "5 days left",
        "unpause",
    ] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
    assert_eq!(body["event"]["kind"], "renewal_failed");
    assert_eq!(body["event"]["days_left"], 5);
    assert_eq!(body["event"]["problem"]["status"], 429);
    assert_eq!(body["event"]["names"][1], "www.shop.example.test");
}

fn email_target(smtp: &Smtp, password: &str, implicit: bool) -> EmailTarget {
    let scheme = if implicit { "smtps" } else { "smtp" };
    let server = SmtpServer::parse(&format!("{scheme}://localhost:{}", smtp.port)).expect("server");
    let mut target =
        EmailTarget::new(&["ops@example.test".into()], None, "web1", server).expect("target");
    target.credentials = Some(SmtpCredentials {
        username: smtp::USER.into(),
        password: Secret::new(password),
    });
    target.extra_roots_pem = Some(smtp.ca_pem.clone().into_bytes());
    target
}

/// A mail reaches a real SMTP server over STARTTLS and over implicit TLS with a login; a wrong
/// password fails alone; the password appears in no output.
#[test]
fn email_alert_over_starttls_and_implicit_tls() {
    for implicit in [false, true] {
        let smtp = Smtp::start(implicit, SMTP_PASSWORD);
        let event = sample_event(EventKind::NearExpiry);
        let good = Target::Email(email_target(&smtp, SMTP_PASSWORD, implicit));
        let deliveries = block_on(send_all(
            std::slice::from_ref(&good),
            &event,
            Duration::from_secs(10),
        ));
        assert!(deliveries[0].delivered(), "{deliveries:?}\n{}", smtp.log());
        let mails = smtp.messages();
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].contains("To: ops@example.test"), "{}", mails[0]);
        assert!(mails[0].contains("certificate near expiry"), "{}", mails[0]);
        assert!(mails[0].contains("shop.example.test"), "{}", mails[0]);

        let wrong = format!("{SMTP_PASSWORD}-wrong");
        let bad = Target::Email(email_target(&smtp, &wrong, implicit));
        let deliveries = block_on(send_all(
            std::slice::from_ref(&bad),
            &event,
            Duration::from_secs(10),
        ));
        assert!(!deliveries[0].delivered(), "wrong password accepted");
        assert!(!smtp.auth_failures().is_empty(), "{}", smtp.log());
        assert_eq!(smtp.messages().len(), 1);
        let shown = all_output(&[good, bad], &deliveries);
        assert!(!shown.contains(SMTP_PASSWORD), "password leaked: {shown}");
    }
}

/// The failure hook sees the event in its environment; a hook that hangs is killed at the
/// timeout, with its children.
#[test]
fn failure_hook_gets_the_event_and_a_hung_hook_is_killed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("env.txt");
    let hook = Target::Hook(HookCommand(format!(
        "env | grep ^CERTWRIGHT_ | sort > {}",
        out.display()
    )));
    let event = sample_event(EventKind::RenewalFailed);
    let deliveries = block_on(send_all(&[hook], &event, Duration::from_secs(5)));
    assert!(deliveries[0].delivered(), "{deliveries:?}");
    let env = std::fs::read_to_string(&out).expect("hook output");
    for line in [
        "CERTWRIGHT_EVENT=renewal_failed",
        "CERTWRIGHT_LINEAGE=shop.example.test",
        "CERTWRIGHT_NAMES=shop.example.test www.shop.example.test",
        "CERTWRIGHT_DAYS_LEFT=5",
        "CERTWRIGHT_PROBLEM_TYPE=urn:ietf:params:acme:error:rateLimited",
        "CERTWRIGHT_UNPAUSE_URL=https://portal.example/sfe/v1/unpause?jwt=abc",
        "CERTWRIGHT_CA=https://ca.example/dir",
    ] {
        assert!(env.lines().any(|l| l == line), "{line} missing:\n{env}");
    }

    let marker = dir.path().join("survived");
    let child_pid = dir.path().join("child.pid");
    let hung = Target::Hook(HookCommand(format!(
        "(sleep 3; touch {}) & echo $! > {}; sleep 30",
        marker.display(),
        child_pid.display()
    )));
    let started = std::time::Instant::now();
    let deliveries = block_on(send_all(&[hung], &event, Duration::from_secs(1)));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(!deliveries[0].delivered());
    // The child either died with the hook or touches the marker in 3 s, then exits: wait
    // for it to be gone instead of waiting the 3 s out.
    let child: i32 = std::fs::read_to_string(&child_pid)
        .unwrap_or_else(|e| panic!("the hook did not start its child: {e}"))
        .trim()
        .parse()
        .expect("child pid");
    let gone = support::wait_for(Duration::from_secs(30), || {
        (!process_alive(child)).then_some(())
    });
    assert!(gone.is_some(), "the hook's child {child} still runs");
    assert!(!marker.exists(), "the hook's child outlived the timeout");
}

/// `renew` with alert targets: a failing renewal sends exactly one webhook and one mail, a
/// second failing run sends none, the recovery sends one more of each; the textfile passes
/// promtool; the URL token and SMTP password appear in no output.
#[test]
fn renew_alerts_once_per_failure_streak_and_on_recovery() {
    let rig = Rig::new();
    let name = "alert.example.test";
    rig.certonly_cli(&rig.env, &["-d", name])
        .run()
        .assert_success();
    let hook = Receiver::start(Behaviour::Status(200));
    let smtp = Smtp::start(false, SMTP_PASSWORD);
    let creds = rig.env.root().join("smtp.ini");
    std::fs::write(
        &creds,
        format!("username = {}\npassword = {SMTP_PASSWORD}\n", smtp::USER),
    )
    .expect("write credentials");
    let ca = rig.env.root().join("smtp-ca.pem");
    std::fs::write(&ca, &smtp.ca_pem).expect("write SMTP CA");
    let textfile = rig.env.root().join("certwright.prom");
    let renew = || {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600))
            .expect("chmod credentials");
        rig.env
            .renew_cli(&["--force-renewal"])
            .args(["--notify-webhook", &hook.url(&format!("/hook/{URL_TOKEN}"))])
            .args(["--notify-email", "ops@example.test"])
            .args(["--smtp-server", &format!("localhost:{}", smtp.port)])
            .arg("--smtp-credentials")
            .arg(&creds)
            .arg("--smtp-ca-bundle")
            .arg(&ca)
            .arg("--metrics-textfile")
            .arg(&textfile)
            .run()
    };
    let kinds = || alert_kinds(&hook);
    rig.pebble.resolve_to(name, "127.0.0.2");
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    let first = renew();
    first.assert_code(1);
    assert_eq!(kinds(), ["renewal_failed"], "{}", first.stderr);
    let event = hook.received()[0].json()["event"].clone();
    assert_eq!(event["ca"], rig.pebble.directory_url(), "{event}");
    assert_eq!(smtp.messages().len(), 1, "{}", smtp.log());
    let second = renew();
    second.assert_code(1);
    assert_eq!(
        kinds(),
        ["renewal_failed"],
        "a second failing run alerted again"
    );
    assert_eq!(smtp.messages().len(), 1);
    let failing_metrics = std::fs::read_to_string(&textfile).expect("textfile");
    assert!(
        failing_metrics.contains(&format!(
            "certwright_consecutive_failures{{lineage=\"{name}\"}} 2"
        )),
        "{failing_metrics}"
    );

    rig.pebble.clear_resolution(name);
    let third = renew();
    third.assert_success();
    assert_eq!(kinds(), ["renewal_failed", "recovered"]);
    assert_eq!(smtp.messages().len(), 2);
    let metrics = std::fs::read_to_string(&textfile).expect("textfile");
    assert_promtool_accepts(&metrics);
    assert!(
        metrics.contains(&format!(
            "certwright_renewals_total{{lineage=\"{name}\",result=\"failure\"}} 2"
        )),
        "{metrics}"
    );
    for out in [&first, &second, &third] {
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(!all.contains(URL_TOKEN), "token leaked:\n{all}");
        assert!(!all.contains(SMTP_PASSWORD), "password leaked:\n{all}");
    }
    for file in ["alerts.json", "metrics-counters.json"] {
        let text = std::fs::read_to_string(rig.env.work_dir().join(file)).expect(file);
        assert!(
            !text.contains(URL_TOKEN) && !text.contains(SMTP_PASSWORD),
            "{file}"
        );
    }
}

/// `notify --test` reaches a live webhook, reports a dead one without its token, exit 1.
#[test]
fn notify_test_reports_each_target() {
    let env = support::Env::new();
    let hook = Receiver::start(Behaviour::Status(204));
    let ok = env
        .cli()
        .args(["notify", "--test", "--notify-webhook"])
        .arg(hook.url(&format!("/x/{URL_TOKEN}")))
        .run();
    ok.assert_success();
    assert_eq!(hook.received()[0].json()["event"]["kind"], "test");
    let dead = format!("http://127.0.0.1:{}/x/{URL_TOKEN}", free_port());
    let out = env
        .cli()
        .args(["notify", "--test", "--notify-webhook", &dead])
        .run();
    out.assert_code(1);
    let all = format!("{}{}{}{}", ok.stdout, ok.stderr, out.stdout, out.stderr);
    assert!(out.stdout.contains("FAILED"), "{}", out.stdout);
    assert!(!all.contains(URL_TOKEN), "{all}");
}

/// A certificate with 5 of 90 days left whose renewal fails: the webhook gets both
/// `renewal_failed` and `near_expiry`, with the days left; the failure hook runs for each.
#[test]
fn failing_renewal_near_expiry_sends_both_alerts() {
    let rig = Rig::new();
    let name = "late.example.test";
    rig.certonly_cli(&rig.env, &["-d", name])
        .run()
        .assert_success();
    support::certs::age_lineage(&rig.env.live(name), 90, 5);
    rig.pebble.resolve_to(name, "127.0.0.2");
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    let hook = Receiver::start(Behaviour::Status(200));
    let seen = rig.env.root().join("hook-events");
    let out = rig
        .env
        .renew_cli(&["--notify-webhook"])
        .arg(hook.url("/hook"))
        .arg("--failure-hook")
        .arg(format!("echo $CERTWRIGHT_EVENT >> {}", seen.display()))
        .run();
    out.assert_code(1);
    let bodies: Vec<serde_json::Value> = hook.received().iter().map(|r| r.json()).collect();
    let kinds: Vec<&str> = bodies
        .iter()
        .map(|b| b["event"]["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["renewal_failed", "near_expiry"], "{}", out.stderr);
    for body in &bodies {
        assert_eq!(body["event"]["days_left"], 4, "{body}");
    }
    assert!(bodies[0]["event"]["error"]
        .as_str()
        .unwrap_or("")
        .contains("validation"));
    let hook_events = std::fs::read_to_string(&seen).expect("failure hook ran");
    assert_eq!(hook_events, "renewal_failed\nnear_expiry\n");
}

/// The webhook URL can come from CERTWRIGHT_NOTIFY_WEBHOOK (out of `ps`); the failure hook
/// does not inherit that variable.
#[test]
fn webhook_from_the_environment_is_not_passed_to_the_hook() {
    let env = support::Env::new();
    let hook = Receiver::start(Behaviour::Status(200));
    let dump = env.root().join("hook-env");
    let out = env
        .cli()
        .env(
            "CERTWRIGHT_NOTIFY_WEBHOOK",
            hook.url(&format!("/x/{URL_TOKEN}")),
        )
        .args(["notify", "--test", "--failure-hook"])
        .arg(format!("env > {}", dump.display()))
        .run();
    out.assert_success();
    assert_eq!(hook.received().len(), 1);
    let hook_env = std::fs::read_to_string(&dump).expect("hook env");
    assert!(hook_env.contains("CERTWRIGHT_EVENT=test"), "{hook_env}");
    assert!(!hook_env.contains(URL_TOKEN), "{hook_env}");
    assert!(!format!("{}{}", out.stdout, out.stderr).contains(URL_TOKEN));
}
