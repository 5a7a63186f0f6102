//! Alerts: an [`Event`] about a lineage, sent to webhooks, email and a failure hook.
//!
//! Delivery never fails the caller: [`send_all`] gives each target a bounded time and
//! returns one [`Delivery`] per target to log. Secrets (webhook URL paths and queries, the
//! SMTP password) are [`Secret`]s: every `Display`/`Debug` and every error text here is
//! redacted. Whether an event is due (first failure, then once a day per lineage while it
//! keeps failing) is [`throttle::AlertState`], a serde struct the caller persists.
//!
//! Public API:
//! - [`Event`] (`Event::new(kind, host, lineage, names, now)` + `pub` fields), [`EventKind`],
//!   `Event::summary()` (one line for chat and subjects), `Event::to_json()` (the webhook
//!   body, documented on [`webhook`]), `Event::env()` (the hook's variables).
//! - [`Target`]: `Webhook(WebhookUrl)`, `Email(email::EmailTarget)`, `Hook(hook::HookCommand)`.
//! - [`send_all(&[Target], &Event, timeout) -> Vec<Delivery>`](send_all).
//! - [`throttle::AlertState`]: `record_failure`, `record_success`, `due`, `mark_sent`.

pub mod email;
pub mod hook;
pub mod secret;
pub mod throttle;
pub mod webhook;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Problem;

pub use secret::{Secret, WebhookUrl};

/// How long one target may take before it counts as failed (each target runs in parallel).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What happened to a lineage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    RenewalFailed,
    NearExpiry,
    Recovered,
    AriWindowInPast,
    ServedMismatch,
    /// `certwright notify --test`.
    Test,
}

impl EventKind {
    /// The stable name in JSON bodies and `CERTWRIGHT_EVENT`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RenewalFailed => "renewal_failed",
            EventKind::NearExpiry => "near_expiry",
            EventKind::Recovered => "recovered",
            EventKind::AriWindowInPast => "ari_window_in_past",
            EventKind::ServedMismatch => "served_mismatch",
            EventKind::Test => "test",
        }
    }

    fn headline(self) -> &'static str {
        match self {
            EventKind::RenewalFailed => "renewal failed",
            EventKind::NearExpiry => "certificate near expiry and not renewed",
            EventKind::Recovered => "renewal recovered",
            EventKind::AriWindowInPast => "CA moved the renewal window into the past",
            EventKind::ServedMismatch => "server does not serve the deployed certificate",
            EventKind::Test => "test alert",
        }
    }
}

/// One alert about one lineage. Fields that do not apply stay `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub kind: EventKind,
    /// This machine's host name (which node of a fleet speaks).
    pub host: String,
    pub lineage: String,
    pub names: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whole days until notAfter (negative once expired).
    pub days_left: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
    /// The error chain as shown to the user (never holds a secret: callers pass rendered
    /// errors, which this crate keeps free of secrets).
    pub error: Option<String>,
    /// The CA's problem document, when the failure carried one.
    pub problem: Option<Problem>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_retry: Option<OffsetDateTime>,
    /// For a rate-limit pause: the CA's self-service unpause URL.
    pub unpause_url: Option<String>,
    /// For `ServedMismatch`: `ADDR:PORT name` pairs that served another certificate.
    pub mismatches: Vec<String>,
    /// The ACME directory of the CA concerned: the lineage's, or the fallback CA that issued
    /// the renewal its own CA failed (so an operator sees which CA their certificate is from).
    pub ca: Option<String>,
}

impl Event {
    pub fn new(
        kind: EventKind,
        host: &str,
        lineage: &str,
        names: &[String],
        now: OffsetDateTime,
    ) -> Event {
        Event {
            kind,
            host: host.to_string(),
            lineage: lineage.to_string(),
            names: names.to_vec(),
            at: now,
            days_left: None,
            not_after: None,
            error: None,
            problem: None,
            next_retry: None,
            unpause_url: None,
            mismatches: Vec::new(),
            ca: None,
        }
    }

    /// Sets `not_after` and the `days_left` derived from it at `self.at`.
    pub fn with_not_after(mut self, not_after: OffsetDateTime) -> Event {
        self.not_after = Some(not_after);
        self.days_left = Some((not_after - self.at).whole_days());
        self
    }

    /// One human line: chat messages, mail subjects, logs.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "certwright on {}: {}: {} ({})",
            self.host,
            self.kind.headline(),
            self.lineage,
            self.names.join(", ")
        );
        if let Some(days) = self.days_left {
            line.push_str(&format!("; {days} days left"));
        }
        if let Some(problem) = &self.problem {
            line.push_str(&format!("; CA: {problem}"));
        } else if let Some(error) = &self.error {
            line.push_str(&format!("; {error}"));
        }
        if let Some(next) = self.next_retry {
            line.push_str(&format!("; next try {}", rfc3339(next)));
        }
        if let Some(url) = &self.unpause_url {
            line.push_str(&format!("; unpause: {url}"));
        }
        if let Some(ca) = &self.ca {
            line.push_str(&format!("; ACME server {ca}"));
        }
        if !self.mismatches.is_empty() {
            line.push_str(&format!(
                "; served elsewhere: {}",
                self.mismatches.join(", ")
            ));
        }
        line
    }

    /// The mail body: the summary, then one `field: value` line per field that is set.
    pub fn details(&self) -> String {
        let mut out = format!("{}\n\n", self.summary());
        for (key, value) in self.env() {
            if key != "CERTWRIGHT_EVENT_JSON" {
                let key = key.trim_start_matches("CERTWRIGHT_").to_ascii_lowercase();
                out.push_str(&format!("{key}: {value}\n"));
            }
        }
        out
    }

    /// The failure hook's environment: `CERTWRIGHT_EVENT`, `_HOST`, `_LINEAGE`, `_NAMES`
    /// (space-separated), `_AT`, and when set `_DAYS_LEFT`, `_NOT_AFTER`, `_ERROR`,
    /// `_PROBLEM_TYPE`, `_PROBLEM_DETAIL`, `_NEXT_RETRY`, `_UNPAUSE_URL`, `_MISMATCHES`, `_CA`;
    /// `CERTWRIGHT_EVENT_JSON` holds the webhook body's `event` object.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("CERTWRIGHT_EVENT", self.kind.as_str().to_string()),
            ("CERTWRIGHT_HOST", self.host.clone()),
            ("CERTWRIGHT_LINEAGE", self.lineage.clone()),
            ("CERTWRIGHT_NAMES", self.names.join(" ")),
            ("CERTWRIGHT_AT", rfc3339(self.at)),
        ];
        let optional = [
            (
                "CERTWRIGHT_DAYS_LEFT",
                self.days_left.map(|d| d.to_string()),
            ),
            ("CERTWRIGHT_NOT_AFTER", self.not_after.map(rfc3339)),
            ("CERTWRIGHT_ERROR", self.error.clone()),
            (
                "CERTWRIGHT_PROBLEM_TYPE",
                self.problem.as_ref().and_then(|p| p.kind.clone()),
            ),
            (
                "CERTWRIGHT_PROBLEM_DETAIL",
                self.problem.as_ref().and_then(|p| p.detail.clone()),
            ),
            ("CERTWRIGHT_NEXT_RETRY", self.next_retry.map(rfc3339)),
            ("CERTWRIGHT_UNPAUSE_URL", self.unpause_url.clone()),
            (
                "CERTWRIGHT_MISMATCHES",
                (!self.mismatches.is_empty()).then(|| self.mismatches.join(" ")),
            ),
            ("CERTWRIGHT_CA", self.ca.clone()),
        ];
        env.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        env.push(("CERTWRIGHT_EVENT_JSON", self.to_json()["event"].to_string()));
        env
    }

    /// The webhook body (see [`webhook`] for the documented shape).
    pub fn to_json(&self) -> serde_json::Value {
        let text = self.summary();
        serde_json::json!({
            "text": text,
            // Discord refuses `content` over 2000 characters.
            "content": truncate_chars(&text, 2000),
            "event": self,
        })
    }
}

/// Where alerts go.
#[derive(Debug, Clone)]
pub enum Target {
    Webhook(WebhookUrl),
    Email(email::EmailTarget),
    Hook(hook::HookCommand),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Webhook(url) => write!(f, "webhook {url}"),
            Target::Email(email) => write!(f, "email {email}"),
            Target::Hook(hook) => write!(f, "failure hook {hook}"),
        }
    }
}

/// What happened when sending to one target: `target` and `error` are redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub target: String,
    /// `None` when delivered.
    pub error: Option<String>,
}

impl Delivery {
    pub fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

/// Sends `event` to every target at once, each bounded by `timeout`; never fails.
pub async fn send_all(targets: &[Target], event: &Event, timeout: Duration) -> Vec<Delivery> {
    let sends = targets.iter().map(|target| async move {
        let result = tokio::time::timeout(timeout, send_one(target, event, timeout)).await;
        let error = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(format!("no answer within {}s", timeout.as_secs_f32())),
        };
        Delivery {
            target: target.to_string(),
            error,
        }
    });
    futures_util::future::join_all(sends).await
}

async fn send_one(target: &Target, event: &Event, timeout: Duration) -> Result<(), String> {
    let result = match target {
        Target::Webhook(url) => webhook::post(url, &event.to_json()).await,
        Target::Email(email) => email.send(event).await,
        Target::Hook(hook) => hook.run(event, timeout).await,
    };
    result.map_err(|e| crate::safe::text::sanitize(&e))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text.to_string(),
    }
}
