//! Issue 13's leaves against real servers: Debian sid's Pebble (ARI, profiles), a webhook
//! receiver, aiosmtpd, promtool and nginx serving one certificate or another.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use certwright::cli_ini;
use certwright::error::Problem;
use certwright::metrics::{
    self, render, write_textfile, LineageMetrics, RenewalCounters, Snapshot,
};
use certwright::notify::email::{EmailTarget, SmtpCredentials, SmtpServer};
use certwright::notify::hook::HookCommand;
use certwright::notify::{send_all, Delivery, Event, EventKind, Secret, Target, WebhookUrl};
use certwright::verify::{sha256_hex, verify, Outcome, Probe, RetryOpts};

use crate::support::certs::Lineage;
use crate::support::nginx::process_alive;
use crate::support::pebble::PROFILE_SHORTLIVED_SECS;
use crate::support::prometheus::Prometheus;
use crate::support::proxy::GatedProxy;
use crate::support::rig::Rig;
use crate::support::smtp::{self, Smtp};
use crate::support::webhook::{Behaviour, Receiver};
use crate::support::{self, free_port, net, Nginx, Pebble, PebbleOpts};

/// sid's Pebble starts with our `profiles` config and its directory offers ARI and both
/// profiles; the management port answers.
#[test]
fn pebble_sid_offers_ari_and_profiles() {
    let pebble = Pebble::start(PebbleOpts::default().sid());
    let ca = std::fs::read_to_string(pebble.ca_bundle_path()).expect("read Pebble CA");
    let port: u16 = pebble
        .directory_url()
        .trim_start_matches("https://localhost:")
        .trim_end_matches("/dir")
        .parse()
        .expect("port in directory URL");
    let dir = net::https_get("localhost", port, "/dir", &ca).expect("GET /dir");
    let json: serde_json::Value = serde_json::from_slice(&dir.body).expect("directory JSON");
    assert!(json["renewalInfo"].is_string(), "no renewalInfo: {json}");
    assert!(json["meta"]["profiles"]["shortlived"].is_string(), "{json}");
    assert!(json["meta"]["profiles"]["default"].is_string(), "{json}");
    assert!(net::port_answers(pebble.management_port()));
}

/// certwright issues from sid's Pebble with the pinned `shortlived` profile: a 6-day leaf.
#[test]
fn pebble_sid_issues_a_shortlived_certificate() {
    let rig = Rig::with(PebbleOpts::default().sid());
    rig.certonly_cli(
        &rig.env,
        &[
            "-d",
            "short.example.test",
            "--preferred-profile",
            "shortlived",
        ],
    )
    .run()
    .assert_success();
    let leaf = Lineage::at(rig.env.live("short.example.test")).leaf();
    let left = leaf.not_after() - ::time::OffsetDateTime::now_utc();
    let want = ::time::Duration::seconds(PROFILE_SHORTLIVED_SECS as i64);
    assert!(
        (left - want).abs() < ::time::Duration::hours(1),
        "{left} left, not about 6 days"
    );
}

/// The CA moves a fresh 6-day certificate's ARI window into the past (as Let's Encrypt's
/// 2026-03-19 drill): `renew` renews it at once with `replaces`, which Pebble accepts.
/// (A `renew` before the move would cache the old answer for its 6 h Retry-After.)
#[test]
fn ari_window_in_the_past_renews_at_once_with_replaces() {
    let rig = Rig::with(PebbleOpts::default().sid());
    let name = "drill.example.test";
    let lineage = shortlived_lineage(&rig, name);
    let old = lineage.leaf();
    let renew = || {
        rig.env
            .cli()
            .arg("renew")
            .args(rig.env.dir_flags())
            .arg("--no-random-sleep-on-renew")
            .run()
    };
    rig.pebble
        .set_renewal_info(&lineage.cert_pem(), &window_in_the_past());
    renew().assert_success();
    let new = lineage.leaf();
    assert_ne!(new.serial_hex, old.serial_hex, "not renewed");
    let logs = rig.pebble.logs();
    assert!(
        logs.contains("is a replacement of"),
        "Pebble logged no replacement order:\n{logs}"
    );
}

/// A running daemon asks ARI on its own, not only at `--schedule` (here once a year): after
/// its first pass cached the answer, the CA moves the window into the past and the daemon
/// renews within about a minute, with `replaces`, sending an `ari_window_in_past` alert.
/// `plan` says when the answer was fetched and when the CA is asked again.
/// `CERTWRIGHT_ARI_RECHECK_SECS` (test-only) stands in for the CA's 6 h Retry-After.
#[test]
fn daemon_polls_ari_and_renews_a_window_moved_into_the_past() {
    let rig = Rig::with(PebbleOpts::default().sid());
    let name = "watch.example.test";
    let lineage = shortlived_lineage(&rig, name);
    let old = lineage.leaf();
    let hook = Receiver::start(Behaviour::Status(200));
    let status = rig.env.root().join("status.json");
    let daemon = rig
        .env
        .cli()
        .env("CERTWRIGHT_ARI_RECHECK_SECS", "2")
        .args(["daemon", "--schedule", "0 0 1 1 *", "--status-file"])
        .arg(&status)
        .args(["--notify-webhook", &hook.url("/ari")])
        .args(rig.env.dir_flags())
        .spawn();
    let fetched = support::wait_for(Duration::from_secs(60), || {
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&status).ok()?).ok()?;
        let entry = &json["certificates"][0];
        entry["ari_fetched"].as_str()?;
        Some((entry.clone(), json["next_ari_check"].clone()))
    });
    let Some((entry, next_ari)) = fetched else {
        panic!("no ARI answer cached:\n{}", daemon.wait_or_kill().stderr);
    };
    assert!(
        entry["ari_next_check"].is_string() && next_ari.is_string(),
        "{entry}"
    );
    let plan = rig.env.cli().arg("plan").args(rig.env.dir_flags()).run();
    plan.assert_success();
    assert!(
        plan.stdout.contains("ARI:            fetched 20"),
        "{}",
        plan.stdout
    );

    rig.pebble
        .set_renewal_info(&lineage.cert_pem(), &window_in_the_past());
    let kinds = || alert_kinds(&hook);
    let alerted = support::wait_for(Duration::from_secs(150), || {
        kinds()
            .contains(&"ari_window_in_past".to_string())
            .then_some(())
    });
    // The alert goes out after the pass's renewal attempt; the new files are what count.
    let renewed = support::wait_for(Duration::from_secs(60), || {
        (lineage.leaf().serial_hex != old.serial_hex).then_some(())
    });
    let out = daemon.wait_or_kill();
    assert!(alerted.is_some(), "no alert: {:?}\n{}", kinds(), out.stderr);
    assert!(renewed.is_some(), "not renewed\n{}", out.stderr);
    assert!(
        rig.pebble.logs().contains("is a replacement of"),
        "Pebble logged no replacement order"
    );
}

/// A renewal naming a certificate the CA already saw replaced gets `alreadyReplaced`; the
/// order is sent again without `replaces` and the lineage still renews.
#[test]
fn already_replaced_falls_back_to_a_plain_order() {
    let rig = Rig::with(PebbleOpts::default().sid());
    let name = "replaced.example.test";
    let lineage = shortlived_lineage(&rig, name);
    let first = lineage.leaf();
    let renew = || {
        rig.env
            .cli()
            .arg("renew")
            .args(rig.env.dir_flags())
            .args(["--no-random-sleep-on-renew", "--force-renewal"])
            .run()
    };
    renew().assert_success();
    let second = lineage.leaf();
    assert_ne!(second.serial_hex, first.serial_hex, "not renewed");
    let replacements = |logs: &str| logs.matches("is a replacement of").count();
    assert_eq!(replacements(&rig.pebble.logs()), 1, "{}", rig.pebble.logs());

    // The lineage's live link back at version 1: its next renewal names the first
    // certificate, which the CA has already seen replaced.
    let link = rig.env.live(name);
    let tmp = link.with_file_name(format!(".{name}.test-link"));
    std::os::unix::fs::symlink(format!("../archive/{name}/1"), &tmp).expect("symlink");
    std::fs::rename(&tmp, &link).expect("swap live link");
    assert_eq!(lineage.leaf().serial_hex, first.serial_hex);
    let out = renew();
    out.assert_success();
    let third = lineage.leaf();
    assert!(
        third.serial_hex != first.serial_hex && third.serial_hex != second.serial_hex,
        "not renewed again"
    );
    let log = support::read_lossy(&rig.env.logs_dir().join("certwright.log"));
    assert!(
        log.contains("urn:ietf:params:acme:error:alreadyReplaced")
            && log.contains("ordering again without it"),
        "no fallback in the log:\n{log}"
    );
    assert_eq!(
        replacements(&rig.pebble.logs()),
        1,
        "the retry still named the replaced certificate"
    );
}

/// A fresh 6-day (`shortlived`) lineage from sid's Pebble.
fn shortlived_lineage(rig: &Rig, name: &str) -> Lineage {
    rig.certonly_cli(&rig.env, &["-d", name, "--preferred-profile", "shortlived"])
        .run()
        .assert_success();
    Lineage::at(rig.env.live(name))
}

/// An ARI answer whose window ended an hour ago (for Pebble's `/set-renewal-info/`).
fn window_in_the_past() -> String {
    let past = |h: i64| {
        (::time::OffsetDateTime::now_utc() - ::time::Duration::hours(h))
            .format(&::time::format_description::well_known::Rfc3339)
            .expect("format time")
    };
    serde_json::json!({"suggestedWindow": {"start": past(2), "end": past(1)}}).to_string()
}

/// The `event.kind` of every alert the receiver got, in order.
fn alert_kinds(hook: &Receiver) -> Vec<String> {
    hook.received()
        .iter()
        .map(|r| r.json()["event"]["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

const EXPIRY_METRIC: &str = "certwright_certificate_not_after_timestamp_seconds";
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
    event
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
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

/// A self-signed leaf for `name`: (cert PEM, key PEM, cert DER).
fn leaf_for(name: &str) -> (String, String, Vec<u8>) {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec![name.to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("self-sign");
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

const TWO_SITES: &str = "
server {
    listen 127.0.0.1:@PORT0@ ssl;
    server_name a.example.test;
    ssl_certificate @PREFIX@/a.pem;
    ssl_certificate_key @PREFIX@/a.key;
    return 200 'a';
}
server {
    listen 127.0.0.1:@PORT0@ ssl;
    server_name b.example.test;
    ssl_certificate @PREFIX@/b.pem;
    ssl_certificate_key @PREFIX@/b.key;
    return 200 'b';
}
";

/// nginx serving a.pem/b.pem (+ keys) from the returned temp dir (drop it after nginx).
fn nginx_with_two_sites() -> (Nginx, tempfile::TempDir, Vec<u8>, Vec<u8>) {
    let prefix = tempfile::Builder::new()
        .prefix("certwright-verify-")
        .tempdir()
        .expect("temp dir");
    let (a, b) = (leaf_for("a.example.test"), leaf_for("b.example.test"));
    for (stem, (pem, key, _)) in [("a", &a), ("b", &b)] {
        std::fs::write(prefix.path().join(format!("{stem}.pem")), pem).expect("write cert");
        std::fs::write(prefix.path().join(format!("{stem}.key")), key).expect("write key");
    }
    let site = TWO_SITES.replace("@PREFIX@", &prefix.path().display().to_string());
    (Nginx::start(&site), prefix, a.2, b.2)
}

fn probe(port: u16, name: &str) -> Probe {
    Probe {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        name: name.to_string(),
    }
}

const QUICK: RetryOpts = RetryOpts {
    deadline: Duration::from_millis(800),
    interval: Duration::from_millis(200),
    connect_timeout: Duration::from_secs(2),
};

/// Real nginx serving two certificates by SNI: each name's served leaf matches its own and
/// not the other's; a dead port is unreachable, not a match.
#[test]
fn verify_compares_the_served_leaf_per_sni_name() {
    let (nginx, _certs, a_der, b_der) = nginx_with_two_sites();
    let port = nginx.port(0);
    let probes = [probe(port, "a.example.test"), probe(port, "b.example.test")];
    let results = block_on(verify(&probes, &a_der, QUICK));
    assert_eq!(results[0].outcome, Outcome::Match, "{results:?}");
    assert_eq!(results[0].attempts, 1);
    assert_eq!(
        results[1].outcome,
        Outcome::Mismatch {
            served_sha256: sha256_hex(&b_der)
        },
        "{results:?}"
    );
    assert!(results[1].attempts > 1, "a mismatch is retried");
    let dead = block_on(verify(
        &[probe(free_port(), "a.example.test")],
        &a_der,
        QUICK,
    ));
    assert!(
        matches!(dead[0].outcome, Outcome::Unreachable { .. }),
        "{dead:?}"
    );
}

/// A certificate swapped in and nginx reloaded while verification runs: the retries see the
/// new leaf once nginx serves it.
#[test]
fn verify_waits_for_a_reload_to_take_effect() {
    let (nginx, _certs, _, _) = nginx_with_two_sites();
    let (new_pem, new_key, new_der) = leaf_for("a.example.test");
    let site = std::fs::read_to_string(nginx.site_path()).expect("read site");
    let a_pem_path = site
        .split_whitespace()
        .find(|w| w.ends_with("/a.pem;"))
        .map(|w| PathBuf::from(w.trim_end_matches(';')))
        .expect("a.pem path in site");
    let conf = nginx.conf_path();
    // verify reaches nginx through a relay that sees each attempt: the swap comes once the
    // second attempt arrived, so the first one surely saw the old leaf.
    let relay = GatedProxy::start_any(nginx.port(0)).expect("relay to nginx");
    relay.open();
    let relay_port = relay.port();
    let swapper = std::thread::spawn(move || {
        for attempt in 1..=2 {
            assert!(
                relay.wait_for_connection(Duration::from_secs(10)),
                "verify's attempt {attempt} did not come"
            );
        }
        std::fs::write(a_pem_path.with_extension("key"), new_key).expect("write key");
        std::fs::write(&a_pem_path, new_pem).expect("write cert");
        let status = std::process::Command::new(support::nginx::NGINX)
            .arg("-c")
            .arg(&conf)
            .args(["-s", "reload"])
            .status()
            .expect("nginx -s reload");
        assert!(status.success());
        relay
    });
    let opts = RetryOpts {
        deadline: Duration::from_secs(10),
        ..QUICK
    };
    let results = block_on(verify(
        &[probe(relay_port, "a.example.test")],
        &new_der,
        opts,
    ));
    swapper.join().expect("swapper thread");
    assert_eq!(results[0].outcome, Outcome::Match, "{results:?}");
    assert!(results[0].attempts > 1, "{results:?}");
}

fn metrics_snapshot() -> Snapshot {
    let not_after = ::time::OffsetDateTime::from_unix_timestamp(1_798_761_600).expect("time");
    let mut counters = RenewalCounters::default();
    counters.record("shop.example.test", true);
    counters.record("odd \"name\\", false);
    Snapshot {
        lineages: vec![
            LineageMetrics {
                lineage: "shop.example.test".into(),
                not_after: Some(not_after),
                next_renewal: Some(not_after - ::time::Duration::days(30)),
                ari_window_start: Some(not_after - ::time::Duration::days(31)),
                ari_window_end: Some(not_after - ::time::Duration::days(29)),
                last_success: Some(not_after - ::time::Duration::days(60)),
                consecutive_failures: 0,
                served_match: Some(true),
            },
            LineageMetrics {
                lineage: "odd \"name\\".into(),
                consecutive_failures: 3,
                served_match: Some(false),
                ..Default::default()
            },
        ],
        counters,
        taken_at: Some(::time::OffsetDateTime::now_utc()),
    }
}

/// `promtool check metrics` (Debian's prometheus package) accepts the textfile, written
/// atomically; a lint failure would fail here.
#[test]
fn metrics_textfile_passes_promtool() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("certwright.prom");
    write_textfile(&path, &render(&metrics_snapshot())).expect("write textfile");
    let text = std::fs::read_to_string(&path).expect("read textfile");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
    assert_eq!(leftovers.len(), 1, "temp file left behind");
    assert_promtool_accepts(&text);
}

/// `promtool check metrics` (Debian's prometheus package) finds nothing to complain about.
fn assert_promtool_accepts(text: &str) {
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool missing: apt-get install prometheus");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool: {:?}\n{}{}\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real Prometheus scrapes the `/metrics` listener and its query API returns the lineage's
/// expiry.
#[test]
fn prometheus_scrapes_the_metrics_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind metrics");
    let metrics_port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            let text = render(&metrics_snapshot());
            metrics::serve(listener, move || text.clone(), std::future::pending()).await;
        })
    });
    let not_found = net::http_get(metrics_port, "localhost", "/other").expect("GET /other");
    assert_eq!(not_found.status, 404);

    let prom = Prometheus::start(metrics_port);
    let value = prom.wait_for_value(EXPIRY_METRIC, "shop.example.test");
    assert_eq!(
        value.as_deref(),
        Some("1798761600"),
        "Prometheus never scraped the expiry:\n{}",
        prom.log()
    );
}

/// Every flag of the real CLI works: the file's args parse with clap as typed ones would.
#[test]
fn cli_ini_takes_every_flag_of_the_real_cli() {
    use clap::{CommandFactory, Parser};
    let text = "config-dir = /tmp/cw\nno-random-sleep-on-renew\nquiet = true\n\
                preferred-profile = shortlived\n";
    let entries = cli_ini::parse(text).unwrap();
    let root = certwright::cli::Cli::command();
    let extra = cli_ini::to_args(&entries, &root, Some("renew"), &[], &|_| None).unwrap();
    assert!(
        !extra.iter().any(|a| a == "--preferred-profile=shortlived"),
        "{extra:?}"
    );
    let mut argv: Vec<std::ffi::OsString> = vec!["certwright".into(), "renew".into()];
    argv.extend(extra);
    let cli = certwright::cli::Cli::try_parse_from(&argv).unwrap();
    assert_eq!(cli.global.config_dir, std::path::PathBuf::from("/tmp/cw"));
    assert!(cli.global.quiet);
    let extra = cli_ini::to_args(&entries, &root, Some("certonly"), &[], &|_| None).unwrap();
    assert!(
        extra.iter().any(|a| a == "--preferred-profile=shortlived"),
        "{extra:?}"
    );
}

/// `<config-dir>/cli.ini` gives `renew` and `notify` their alert targets and textfile; a flag
/// on the command line replaces the file's (repeatable ones too); a bad line is exit 2
/// naming file:line; `-c FILE` reads another file instead.
#[test]
fn cli_ini_supplies_alert_flags_and_the_command_line_wins() {
    let rig = Rig::new();
    let name = "ini.example.test";
    rig.certonly_cli(&rig.env, &["-d", name])
        .run()
        .assert_success();
    let hook = Receiver::start(Behaviour::Status(200));
    let other = Receiver::start(Behaviour::Status(200));
    let from_ini = rig.env.root().join("ini.prom");
    let from_cli = rig.env.root().join("cli.prom");
    let ini = rig.env.config_dir().join("cli.ini");
    let text = format!(
        "# defaults for every certwright run\nnotify-webhook = {}\nmetrics-textfile: {}\n\
         no-random-sleep-on-renew\n",
        hook.url("/from-ini"),
        from_ini.display()
    );
    std::fs::write(&ini, &text).expect("write cli.ini");
    let run = |args: &[&str]| rig.env.cli().args(args).args(rig.env.dir_flags()).run();
    rig.pebble.resolve_to(name, "127.0.0.2");
    rig.pebble.forget_authorizations(&rig.env.config_dir());
    let failed = run(&["renew", "--force-renewal"]);
    failed.assert_code(1);
    let paths: Vec<String> = hook.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/from-ini"], "{}", failed.stderr);
    assert!(from_ini.exists(), "no textfile from cli.ini");

    std::fs::remove_file(&from_ini).expect("remove textfile");
    let flag = from_cli.display().to_string();
    run(&["renew", "--metrics-textfile", &flag]);
    assert!(
        from_cli.exists() && !from_ini.exists(),
        "the flag did not win"
    );
    run(&["notify", "--test", "--notify-webhook", &other.url("/flag")]).assert_success();
    assert_eq!(other.received().len(), 1);
    assert_eq!(hook.received().len(), 1, "the file's webhook was used too");

    let elsewhere = rig.env.root().join("other.ini");
    std::fs::write(
        &elsewhere,
        format!("notify-webhook = {}\n", other.url("/c")),
    )
    .unwrap();
    run(&["notify", "--test", "-c", &elsewhere.display().to_string()]).assert_success();
    assert_eq!((other.received().len(), hook.received().len()), (2, 1));

    std::fs::write(&ini, format!("{text}notfy-webhook = https://x.test/\n")).unwrap();
    let bad = run(&["renew"]);
    bad.assert_code(2);
    let at = format!("{}:5", ini.display());
    assert!(
        bad.stderr.contains(&at) && bad.stderr.contains("--notfy-webhook"),
        "{}",
        bad.stderr
    );
    run(&["renew", "--help"]).assert_success();
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
            .cli()
            .arg("renew")
            .args(rig.env.dir_flags())
            .args(["--no-random-sleep-on-renew", "--force-renewal"])
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

/// A real Prometheus scrapes a running daemon's `--metrics-listen` and its query API returns
/// the lineage's expiry.
#[test]
fn prometheus_scrapes_the_daemon() {
    let rig = Rig::new();
    let name = "scraped.example.test";
    rig.certonly_cli(&rig.env, &["-d", name])
        .run()
        .assert_success();
    let not_after = Lineage::at(rig.env.live(name)).leaf().not_after_unix;
    let port = free_port();
    let daemon = rig
        .env
        .cli()
        .args(["daemon", "--schedule", "0 0 1 1 *", "--status-file"])
        .arg(rig.env.root().join("status.json"))
        .args(["--metrics-listen", &format!("127.0.0.1:{port}")])
        .args(rig.env.dir_flags())
        .spawn();
    let prom = Prometheus::start(port);
    let value = prom.wait_for_value(EXPIRY_METRIC, name);
    let out = daemon.wait_or_kill();
    assert_eq!(
        value,
        Some(not_after.to_string()),
        "Prometheus never got the expiry:\n{}\n{}",
        out.stderr,
        prom.log()
    );
}

/// An `--nginx-ctl` wrapper, and the file that arms it: once that file holds a copy of the
/// live certificate, every reload after the live certificate changed "succeeds" without
/// reloading (challenge reloads before the swap still work).
fn reload_skipping_ctl(env: &support::Env, name: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let skip = env.root().join("skip-reload");
    let ctl = env.root().join("nginx-ctl");
    std::fs::write(
        &ctl,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do\n  if [ \"$a\" = reload ] && [ -e {skip} ] && ! cmp -s {skip} {live}; then exit 0; fi\ndone\nexec {nginx_bin} \"$@\"\n",
            skip = skip.display(),
            live = env.live(name).join("cert.pem").display(),
            nginx_bin = support::nginx::NGINX
        ),
    )
    .expect("write ctl wrapper");
    std::fs::set_permissions(&ctl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (ctl, skip)
}

/// `run --nginx` and `install` check what nginx serves once they are done: a reload that
/// silently did nothing is exit 1 and one `served_mismatch` alert (the throttle in
/// `alerts.json` is shared with `renew`); once nginx serves the live certificate, exit 0.
#[test]
fn run_and_install_catch_a_reload_that_did_nothing() {
    let name = "installed.example.test";
    let site = format!(
        "server {{\n    listen 127.0.0.1:@PORT0@;\n    server_name {name};\n    root @PREFIX@;\n}}\n"
    );
    let nginx = Nginx::start(&site);
    let pebble = Pebble::start(PebbleOpts::default().http_port(nginx.port(0)));
    let env = support::Env::new();
    let (ctl, skip) = reload_skipping_ctl(&env, name);
    let hook = Receiver::start(Behaviour::Status(200));
    let https_port = free_port().to_string();
    let run = |extra: &[&str]| {
        env.cli()
            .args(["run", "--nginx", "-d", name, "--http-01-port"])
            .arg(nginx.port(0).to_string())
            .arg("--nginx-server-root")
            .arg(nginx.server_root())
            .arg("--nginx-ctl")
            .arg(&ctl)
            .args(["--https-port", &https_port])
            .args(["--notify-webhook", &hook.url("/run")])
            .args(extra)
            .args(env.flags(&pebble))
            .run()
    };
    let install = || {
        env.cli()
            .args([
                "install",
                "--nginx",
                "--cert-name",
                name,
                "--nginx-server-root",
            ])
            .arg(nginx.server_root())
            .arg("--nginx-ctl")
            .arg(&ctl)
            .args(["--https-port", &https_port])
            .args(["--notify-webhook", &hook.url("/install")])
            .args(env.dir_flags())
            .run()
    };
    run(&[]).assert_success();
    install().assert_success();
    assert!(hook.received().is_empty());

    std::fs::copy(env.live(name).join("cert.pem"), &skip).expect("copy live cert");
    let stale = run(&["--force-renewal"]);
    stale.assert_code(1);
    assert!(
        stale.stderr.contains("does not serve the live certificate"),
        "{}",
        stale.stderr
    );
    let paths: Vec<String> = hook.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/run"]);
    assert_eq!(
        hook.received()[0].json()["event"]["kind"],
        "served_mismatch"
    );
    install().assert_code(1);
    assert_eq!(hook.received().len(), 1, "alerted twice the same day");

    let pid = nginx.read_pid().expect("nginx pid");
    std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill -HUP nginx");
    install().assert_success();
}

/// `verify` after `run --nginx` finds the live certificate served; after a renewal whose
/// reload silently did nothing (an `--nginx-ctl` wrapper that skips it), `verify` exits 1
/// naming the mismatch, and `renew` with a webhook sends a `served_mismatch` alert and
/// exits 1 (issue 23: a renewal nginx does not serve is not done).
#[test]
fn verify_catches_a_reload_that_did_nothing() {
    let name = "served.example.test";
    let site = format!(
        "server {{\n    listen 127.0.0.1:@PORT0@;\n    server_name {name};\n    root @PREFIX@;\n}}\n"
    );
    let nginx = Nginx::start(&site);
    let pebble = Pebble::start(PebbleOpts::default().http_port(nginx.port(0)));
    let env = support::Env::new();
    let (ctl, skip) = reload_skipping_ctl(&env, name);
    let https_port = free_port();
    env.cli()
        .args(["run", "--nginx", "-d", name, "--http-01-port"])
        .arg(nginx.port(0).to_string())
        .arg("--nginx-server-root")
        .arg(nginx.server_root())
        .arg("--nginx-ctl")
        .arg(&ctl)
        .args(["--https-port", &https_port.to_string()])
        .args(env.flags(&pebble))
        .run()
        .assert_success();
    let verify = || {
        env.cli()
            .args(["verify", "--json"])
            .args(env.dir_flags())
            .run()
    };
    let ok = verify();
    ok.assert_success();
    let json = ok.json();
    let probe = &json["certificates"][0]["probes"][0];
    assert_eq!(probe["result"], "match", "{json}");
    assert_eq!(probe["name"], name);
    assert_eq!(probe["addr"], format!("127.0.0.1:{https_port}"));

    std::fs::copy(env.live(name).join("cert.pem"), &skip).expect("copy live cert");
    let hook = Receiver::start(Behaviour::Status(200));
    env.cli()
        .args([
            "renew",
            "--no-random-sleep-on-renew",
            "--force-renewal",
            "--notify-webhook",
        ])
        .arg(hook.url("/hook"))
        .args(env.dir_flags())
        .run()
        .assert_code(1);
    assert_eq!(alert_kinds(&hook), ["served_mismatch"]);
    let bad = verify();
    bad.assert_code(1);
    let json = bad.json();
    assert_eq!(
        json["certificates"][0]["probes"][0]["result"], "mismatch",
        "{json}"
    );
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
        .cli()
        .args(["renew", "--no-random-sleep-on-renew", "--notify-webhook"])
        .arg(hook.url("/hook"))
        .arg("--failure-hook")
        .arg(format!("echo $CERTWRIGHT_EVENT >> {}", seen.display()))
        .args(rig.env.dir_flags())
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
