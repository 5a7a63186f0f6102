//! Email target: one plain-text mail per event through an SMTP relay (lettre, rustls with
//! aws-lc-rs). Only encrypted sessions: STARTTLS (required, not opportunistic) or implicit TLS
//! (port 465 or `smtps://`). Credentials come from a file only its owner may read.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Event, Secret};

/// lettre's own bound on each SMTP command; `send_all` bounds the whole send as well.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How the session is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connect, then STARTTLS; a server that does not offer it is an error.
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Implicit,
}

/// `--smtp-server`: `HOST:PORT`, `smtp://HOST[:PORT]` (STARTTLS, default 587) or
/// `smtps://HOST[:PORT]` (implicit TLS, default 465). A bare `HOST:465` means implicit TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
}

impl SmtpServer {
    pub fn parse(text: &str) -> Result<SmtpServer, String> {
        let (rest, forced) = if let Some(rest) = text.strip_prefix("smtps://") {
            (rest, Some(SmtpSecurity::Implicit))
        } else if let Some(rest) = text.strip_prefix("smtp://") {
            (rest, Some(SmtpSecurity::StartTls))
        } else {
            (text, None)
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => {
                let port: u16 = port
                    .parse()
                    .map_err(|_| format!("SMTP server {text:?}: port {port:?} is not a number"))?;
                (host, port)
            }
            None if forced == Some(SmtpSecurity::Implicit) => (rest, 465),
            None if forced.is_some() => (rest, 587),
            None => return Err(format!("SMTP server {text:?}: give HOST:PORT")),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['/', '@', ' ']) || port == 0 {
            return Err(format!("SMTP server {text:?}: give HOST:PORT"));
        }
        let security = forced.unwrap_or(if port == 465 {
            SmtpSecurity::Implicit
        } else {
            SmtpSecurity::StartTls
        });
        Ok(SmtpServer {
            host: host.to_string(),
            port,
            security,
        })
    }
}

/// SMTP login; `Debug` hides the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: Secret,
}

impl SmtpCredentials {
    /// Reads `username = ...` and `password = ...` lines (`#` comments). The file must not be
    /// readable or writable by group or others (mode 0600 or stricter), as certbot's
    /// credentials files; the error says so without showing the contents.
    pub fn from_file(path: &Path) -> Result<SmtpCredentials, String> {
        use crate::safe::file::{read_required, Policy};
        let shown = path.display();
        let text = read_required(path, Policy::SECRET)
            .map_err(|e| format!("SMTP credentials {shown}: {e}"))?;
        let (mut username, mut password) = (None, None);
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
                Some(("username", v)) => username = Some(v.to_string()),
                Some(("password", v)) => password = Some(Secret::new(v)),
                _ => {
                    return Err(format!(
                        "SMTP credentials {shown} line {}: expected `username = ...` or \
                         `password = ...`",
                        n + 1
                    ))
                }
            }
        }
        match (username, password) {
            (Some(username), Some(password)) => Ok(SmtpCredentials { username, password }),
            _ => Err(format!(
                "SMTP credentials {shown}: needs username and password lines"
            )),
        }
    }
}

/// `--notify-email` recipients and how to reach the relay.
#[derive(Debug, Clone)]
pub struct EmailTarget {
    pub to: Vec<Mailbox>,
    pub from: Mailbox,
    pub server: SmtpServer,
    pub credentials: Option<SmtpCredentials>,
    /// Extra PEM roots trusted for the relay (a private CA); the system roots always count.
    pub extra_roots_pem: Option<Vec<u8>>,
}

impl EmailTarget {
    /// Parses the addresses; `from` defaults to `certwright@<host>`.
    pub fn new(
        to: &[String],
        from: Option<&str>,
        host: &str,
        server: SmtpServer,
    ) -> Result<EmailTarget, String> {
        let parse = |a: &str| {
            a.parse::<Mailbox>()
                .map_err(|e| format!("invalid email address {a:?}: {e}"))
        };
        let to = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err("no email recipient".into());
        }
        let from = match from {
            Some(from) => parse(from)?,
            None => parse(&format!("certwright@{host}"))?,
        };
        Ok(EmailTarget {
            to,
            from,
            server,
            credentials: None,
            extra_roots_pem: None,
        })
    }

    /// Sends one mail; the error is scrubbed of the password.
    pub async fn send(&self, event: &Event) -> Result<(), String> {
        let scrub = |e: String| match &self.credentials {
            Some(c) => c.password.scrub(&e),
            None => e,
        };
        self.send_inner(event).await.map_err(scrub)
    }

    async fn send_inner(&self, event: &Event) -> Result<(), String> {
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(event.summary().chars().take(200).collect::<String>())
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            message = message.to(to.clone());
        }
        let message = message
            .body(event.details())
            .map_err(|e| format!("cannot build the mail: {e}"))?;
        let mut tls = TlsParameters::builder(self.server.host.clone());
        if let Some(pem) = &self.extra_roots_pem {
            let cert = Certificate::from_pem(pem).map_err(|e| format!("extra SMTP CA: {e}"))?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls.build_rustls().map_err(|e| format!("TLS setup: {e}"))?;
        let tls = match self.server.security {
            SmtpSecurity::StartTls => Tls::Required(tls),
            SmtpSecurity::Implicit => Tls::Wrapper(tls),
        };
        let mut transport =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.server.host.as_str())
                .port(self.server.port)
                .tls(tls)
                .timeout(Some(SMTP_TIMEOUT));
        if let Some(c) = &self.credentials {
            let creds = Credentials::new(c.username.clone(), c.password.expose().to_string());
            transport = transport.credentials(creds);
        }
        transport
            .build()
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP {}:{}: {e}", self.server.host, self.server.port))
    }
}

impl fmt::Display for EmailTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let to: Vec<String> = self.to.iter().map(|m| m.email.to_string()).collect();
        write!(
            f,
            "{} via {}:{}",
            to.join(", "),
            self.server.host,
            self.server.port
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_server_forms() {
        let s = SmtpServer::parse("mail.example.com:587").unwrap();
        assert_eq!((s.port, s.security), (587, SmtpSecurity::StartTls));
        let s = SmtpServer::parse("mail.example.com:465").unwrap();
        assert_eq!(s.security, SmtpSecurity::Implicit);
        let s = SmtpServer::parse("smtps://mail.example.com").unwrap();
        assert_eq!((s.port, s.security), (465, SmtpSecurity::Implicit));
        let s = SmtpServer::parse("smtp://mail.example.com:2525").unwrap();
        assert_eq!((s.port, s.security), (2525, SmtpSecurity::StartTls));
        let s = SmtpServer::parse("[::1]:25").unwrap();
        assert_eq!(s.host, "::1");
        for bad in ["mail.example.com", "h:x", "h:0", ":25", "u@h:25"] {
            assert!(SmtpServer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smtp.ini");
        std::fs::write(&path, "# relay\nusername = alerts\npassword = pa=ss word\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SmtpCredentials::from_file(&path).unwrap_err();
        assert!(err.contains("chmod 600") && !err.contains("pa=ss"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let creds = SmtpCredentials::from_file(&path).unwrap();
        assert_eq!(creds.username, "alerts");
        assert_eq!(creds.password.expose(), "pa=ss word");
        assert!(!format!("{creds:?}").contains("pa=ss"));
        std::fs::write(&path, "user: x\n").unwrap();
        assert!(SmtpCredentials::from_file(&path)
            .unwrap_err()
            .contains("line 1"));
    }
}
