//! Metrics: the textfile passes promtool, and a real Prometheus scrapes the `/metrics`
//! listener and a running daemon's `--metrics-listen`.

use certwright::metrics::{
    self, render, write_textfile, LineageMetrics, RenewalCounters, Snapshot,
};

use crate::support::certs::Lineage;
use crate::support::prometheus::Prometheus;
use crate::support::rig::Rig;
use crate::support::{block_on, free_port, net};

const EXPIRY_METRIC: &str = "certwright_certificate_not_after_timestamp_seconds";

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
pub(crate) fn assert_promtool_accepts(text: &str) {
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
