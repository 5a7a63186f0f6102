//! Values that must never reach a log: shown as `<redacted>` by `Display` and `Debug`.

use std::fmt;

pub use crate::types::Secret;

/// A webhook URL. Incoming-webhook services put the token in the path or query (Slack:
/// `/services/T../B../TOKEN`, Discord: `/api/webhooks/ID/TOKEN`), so both are secret: shown
/// as `https://hooks.slack.com/<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: Secret,
    /// `scheme://host[:port]`, safe to show.
    origin: String,
}

impl WebhookUrl {
    /// Accepts `http://` and `https://` URLs with a host; the error never quotes the URL.
    pub fn parse(url: &str) -> Result<WebhookUrl, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| "webhook URL is not a valid URL (value not shown: it may hold a token)")?;
        let scheme = uri.scheme_str().unwrap_or_default();
        if scheme != "http" && scheme != "https" {
            return Err("webhook URL must start with http:// or https://".into());
        }
        let authority = uri
            .authority()
            .ok_or("webhook URL has no host")?
            .as_str()
            .to_string();
        if authority.contains('@') {
            return Err(
                "webhook URL must not carry user:password@ (use a token in the path)".into(),
            );
        }
        Ok(WebhookUrl {
            url: Secret::new(url),
            origin: format!("{scheme}://{authority}"),
        })
    }

    pub fn expose(&self) -> &str {
        self.url.expose()
    }

    /// `text` with the full URL and its path+query (the secret parts) redacted.
    pub fn scrub(&self, text: &str) -> String {
        let text = self.url.scrub(text);
        let secret_part = &self.url.expose()[self.origin.len()..];
        if secret_part.len() > 1 {
            text.replace(secret_part, "/<redacted>")
        } else {
            text
        }
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/<redacted>", self.origin)
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLACK: &str = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX";

    #[test]
    fn webhook_url_hides_path_and_query() {
        let url = WebhookUrl::parse(SLACK).unwrap();
        assert_eq!(url.to_string(), "https://hooks.slack.com/<redacted>");
        assert!(!format!("{url:?}").contains("secret"));
        assert_eq!(url.expose(), SLACK);
        let q = WebhookUrl::parse("http://127.0.0.1:9/hook?token=abc123").unwrap();
        assert!(!q.to_string().contains("abc123"));
        assert_eq!(
            q.scrub("error for /hook?token=abc123"),
            "error for /<redacted>"
        );
    }

    #[test]
    fn bad_webhook_urls_are_refused_without_quoting_them() {
        for bad in [
            "ftp://x/secret1",
            "not a url secret1",
            "https://u:secret1@h/x",
            "/secret1",
        ] {
            let err = WebhookUrl::parse(bad).unwrap_err();
            assert!(!err.contains("secret1"), "{err}");
        }
    }

    #[test]
    fn secret_is_redacted_and_scrubbed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
        assert_eq!(s.scrub("auth hunter2 failed"), "auth <redacted> failed");
    }
}
