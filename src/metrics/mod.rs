//! Prometheus metrics: per-lineage gauges and renewal counters in the text exposition format
//! (0.0.4), written atomically as a node_exporter textfile or served on `/metrics`.
//!
//! Rendered by hand rather than with `prometheus-client`: the values are a snapshot the
//! caller already holds (lineage state read each pass), so a registry of live metric
//! objects would only be filled and drained again; the format is a few lines per family,
//! and `promtool check metrics` plus a real Prometheus scrape test it.
//!
//! Labels carry only lineage names and results, never a URL, key or token.
//!
//! Public API: [`LineageMetrics`], [`RenewalCounters`] (serde, `record`), [`Snapshot`],
//! [`render(&Snapshot) -> String`](render), [`write_textfile`], [`serve`].

mod listener;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use listener::serve;

/// What is known about one lineage; `None` values are left out of the output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineageMetrics {
    pub lineage: String,
    pub not_after: Option<OffsetDateTime>,
    pub next_renewal: Option<OffsetDateTime>,
    pub ari_window_start: Option<OffsetDateTime>,
    pub ari_window_end: Option<OffsetDateTime>,
    pub last_success: Option<OffsetDateTime>,
    pub consecutive_failures: u32,
    /// Whether every probed endpoint served the deployed leaf; `None` when not checked.
    pub served_match: Option<bool>,
}

/// Renewal attempts by lineage and result, kept by the caller across runs (a counter must
/// never go down, so cron runs persist it next to the textfile).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RenewalCounters {
    /// lineage -> result (`success`, `failure`) -> count.
    #[serde(default)]
    pub counts: BTreeMap<String, BTreeMap<String, u64>>,
}

impl RenewalCounters {
    pub fn record(&mut self, lineage: &str, success: bool) {
        let result = if success { "success" } else { "failure" };
        *self
            .counts
            .entry(lineage.to_string())
            .or_default()
            .entry(result.to_string())
            .or_default() += 1;
    }
}

/// Everything one rendering shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub lineages: Vec<LineageMetrics>,
    pub counters: RenewalCounters,
    /// When the snapshot was taken (`certwright_last_run_timestamp_seconds`).
    pub taken_at: Option<OffsetDateTime>,
}

type Getter = fn(&LineageMetrics) -> Option<f64>;

/// (name, help, value) for each per-lineage gauge.
const GAUGES: [(&str, &str, Getter); 7] = [
    (
        "certwright_certificate_not_after_timestamp_seconds",
        "When the live certificate expires (notAfter), Unix seconds.",
        |l| l.not_after.map(unix),
    ),
    (
        "certwright_next_renewal_timestamp_seconds",
        "When certwright will next try to renew the lineage, Unix seconds.",
        |l| l.next_renewal.map(unix),
    ),
    (
        "certwright_ari_window_start_timestamp_seconds",
        "Start of the CA's suggested renewal window (ARI), Unix seconds.",
        |l| l.ari_window_start.map(unix),
    ),
    (
        "certwright_ari_window_end_timestamp_seconds",
        "End of the CA's suggested renewal window (ARI), Unix seconds.",
        |l| l.ari_window_end.map(unix),
    ),
    (
        "certwright_last_success_timestamp_seconds",
        "Last successful issuance or renewal of the lineage, Unix seconds.",
        |l| l.last_success.map(unix),
    ),
    (
        "certwright_consecutive_failures",
        "Renewal attempts in a row that failed (0 after a success).",
        |l| Some(f64::from(l.consecutive_failures)),
    ),
    (
        "certwright_served_certificate_match",
        "1 if every endpoint the lineage is installed on serves its live certificate, else 0.",
        |l| l.served_match.map(|m| if m { 1.0 } else { 0.0 }),
    ),
];

/// The text exposition of `snapshot`, families in a fixed order, lineages sorted.
pub fn render(snapshot: &Snapshot) -> String {
    let mut lineages: Vec<&LineageMetrics> = snapshot.lineages.iter().collect();
    lineages.sort_by(|a, b| a.lineage.cmp(&b.lineage));
    let mut out = String::with_capacity(256 + lineages.len() * 600);
    for (name, help, get) in GAUGES {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for l in &lineages {
            if let Some(value) = get(l) {
                let _ = writeln!(out, "{name}{{lineage=\"{}\"}} {value}", escape(&l.lineage));
            }
        }
    }
    let name = "certwright_renewals_total";
    let _ = writeln!(
        out,
        "# HELP {name} Renewal attempts by lineage and result.\n# TYPE {name} counter"
    );
    for (lineage, results) in &snapshot.counters.counts {
        for (result, count) in results {
            let _ = writeln!(
                out,
                "{name}{{lineage=\"{}\",result=\"{}\"}} {count}",
                escape(lineage),
                escape(result)
            );
        }
    }
    if let Some(at) = snapshot.taken_at {
        let name = "certwright_last_run_timestamp_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} When these metrics were computed, Unix seconds.\n# TYPE {name} gauge\n{name} {}",
            unix(at)
        );
    }
    out
}

/// Writes `text` to `path` atomically (temp file in the same directory, fsync, rename), mode
/// 0644: node_exporter never reads a half-written file. Name it `*.prom`.
pub fn write_textfile(path: &Path, text: &str) -> std::io::Result<()> {
    crate::fsutil::write_atomic(path, text.as_bytes(), 0o644)
}

fn unix(t: OffsetDateTime) -> f64 {
    // Whole seconds: exact in an f64 for any date Prometheus handles.
    t.unix_timestamp() as f64
}

/// Label value escaping of the text format: backslash, double quote, newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn renders_gauges_counters_and_leaves_out_unknowns() {
        let mut counters = RenewalCounters::default();
        counters.record("b.example", true);
        counters.record("b.example", false);
        counters.record("b.example", false);
        let snapshot = Snapshot {
            lineages: vec![
                LineageMetrics {
                    lineage: "b.example".into(),
                    not_after: Some(datetime!(2027-01-01 00:00 UTC)),
                    consecutive_failures: 2,
                    served_match: Some(false),
                    ..Default::default()
                },
                LineageMetrics {
                    lineage: "a.example".into(),
                    served_match: Some(true),
                    ..Default::default()
                },
            ],
            counters,
            taken_at: Some(datetime!(2026-12-01 00:00 UTC)),
        };
        let text = render(&snapshot);
        assert!(text.contains(
            "certwright_certificate_not_after_timestamp_seconds{lineage=\"b.example\"} 1798761600\n"
        ));
        assert!(!text.contains("not_after_timestamp_seconds{lineage=\"a.example\"}"));
        assert!(text.contains("certwright_consecutive_failures{lineage=\"b.example\"} 2\n"));
        assert!(text.contains("certwright_served_certificate_match{lineage=\"a.example\"} 1\n"));
        assert!(text.contains("certwright_served_certificate_match{lineage=\"b.example\"} 0\n"));
        assert!(text
            .contains("certwright_renewals_total{lineage=\"b.example\",result=\"failure\"} 2\n"));
        assert!(text.contains("certwright_last_run_timestamp_seconds 1796083200\n"));
        let a = text.find("match{lineage=\"a.example\"}").unwrap();
        let b = text.find("match{lineage=\"b.example\"}").unwrap();
        assert!(a < b, "lineages sorted");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
