//! `--dns-route53`: AWS credentials found as the AWS SDKs find them (environment, then the
//! shared credentials and config files for `AWS_PROFILE`, then the EC2 instance role over
//! IMDSv2) and the Route53 endpoint (`AWS_ENDPOINT_URL_ROUTE_53`, `AWS_ENDPOINT_URL`); the
//! writer is in `route53`.
//! Not supported from the SDK chain: `role_arn`/`source_profile`, SSO, `credential_process`,
//! ECS/EKS container credentials.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::secret::Secret;
use crate::error::DnsError;

const IMDS_DEFAULT: &str = "http://169.254.169.254";
/// IMDS answers in milliseconds on EC2; off EC2 nothing answers, so wait briefly.
const IMDS_TIMEOUT: Duration = Duration::from_secs(2);
const ROUTE53_DEFAULT: &str = "https://route53.amazonaws.com";

/// One set of AWS credentials and where it came from (for messages; never the secret).
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub source: String,
}

/// The first credentials of the chain; `env` reads an environment variable.
pub async fn aws_credentials(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<AwsCredentials, DnsError> {
    if let Some(c) = from_env(env)? {
        return Ok(c);
    }
    if let Some(c) = from_shared_files(env)? {
        return Ok(c);
    }
    from_imds(env).await
}

/// The Route53 API endpoint the SDKs would use (a service-specific override first).
pub fn route53_endpoint(env: &dyn Fn(&str) -> Option<String>) -> String {
    ["AWS_ENDPOINT_URL_ROUTE_53", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|k| env(k).filter(|v| !v.is_empty()))
        .unwrap_or_else(|| ROUTE53_DEFAULT.to_string())
        .trim_end_matches('/')
        .to_string()
}

fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<AwsCredentials>, DnsError> {
    let id = env("AWS_ACCESS_KEY_ID").filter(|v| !v.is_empty());
    let secret = env("AWS_SECRET_ACCESS_KEY").filter(|v| !v.is_empty());
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Some(AwsCredentials {
            access_key_id: id,
            secret_access_key: Secret::new(secret),
            session_token: env("AWS_SESSION_TOKEN")
                .filter(|v| !v.is_empty())
                .map(Secret::new),
            source: "the environment (AWS_ACCESS_KEY_ID)".into(),
        })),
        (None, None) => Ok(None),
        _ => Err(DnsError::Other(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together".into(),
        )),
    }
}

/// `[PROFILE]` of the credentials file, else `[profile PROFILE]` (`[default]`) of the config
/// file, each only if it holds both keys.
fn from_shared_files(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<AwsCredentials>, DnsError> {
    let profile = env("AWS_PROFILE")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "default".into());
    let home = env("HOME").unwrap_or_default();
    let path = |var: &str, file: &str| {
        env(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(&home).join(".aws").join(file))
    };
    let config_section = if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    };
    let files = [
        (
            path("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            profile.clone(),
        ),
        (path("AWS_CONFIG_FILE", "config"), config_section),
    ];
    for (file, section) in files {
        // Holds keys: refused when another user could have written it (a symlinked
        // ~/.aws is followed, as the SDKs do).
        let policy = crate::safe::file::Policy::CONFIG
            .followed()
            .limited(1 << 20);
        let text = match crate::safe::file::read_text(&file, policy) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => {
                return Err(DnsError::Other(format!("{}: {e}", file.display())));
            }
        };
        let sections = parse_sections(&text);
        let Some(keys) = sections.get(&section) else {
            continue;
        };
        let get = |k: &str| keys.get(k).filter(|v| !v.is_empty()).cloned();
        if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
            return Ok(Some(AwsCredentials {
                access_key_id: id,
                secret_access_key: Secret::new(secret),
                session_token: get("aws_session_token").map(Secret::new),
                source: format!("{} [{section}]", file.display()),
            }));
        }
    }
    Ok(None)
}

/// `[section]` headers and `key = value` lines (lower-cased keys; comments skipped).
fn parse_sections(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            out.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some((k, v))) = (&current, line.split_once('=')) {
            if let Some(keys) = out.get_mut(section) {
                keys.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
    }
    out
}

/// The instance role's credentials over IMDSv2 (a session token first, as IMDSv2 requires).
async fn from_imds(env: &dyn Fn(&str) -> Option<String>) -> Result<AwsCredentials, DnsError> {
    let none = |reason: String| {
        DnsError::Other(format!(
            "no AWS credentials for --dns-route53: none in the environment (AWS_ACCESS_KEY_ID, \
             AWS_SECRET_ACCESS_KEY) or the shared files (AWS_PROFILE, ~/.aws/credentials), and \
             the EC2 instance role is unavailable: {reason}"
        ))
    };
    if env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(none("AWS_EC2_METADATA_DISABLED=true".into()));
    }
    let base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| IMDS_DEFAULT.to_string());
    let base = base.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(IMDS_TIMEOUT)
        .no_proxy()
        .build()
        .map_err(|e| none(e.to_string()))?;
    let fail = |what: &str, e: ImdsError| none(format!("IMDSv2 {what} at {base}: {e}"));
    let token = imds_text(
        client
            .put(format!("{base}/latest/api/token"))
            .header("X-aws-ec2-metadata-token-ttl-seconds", "300"),
    )
    .await
    .map_err(|e| fail("token", e))?;
    let get = |path: &str| {
        imds_text(
            client
                .get(format!(
                    "{base}/latest/meta-data/iam/security-credentials/{path}"
                ))
                .header("X-aws-ec2-metadata-token", token.trim()),
        )
    };
    let roles = get("").await.map_err(|e| fail("role", e))?;
    let role = roles
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or_else(|| fail("role", ImdsError::NoRole))?
        .to_string();
    let body = get(&role).await.map_err(|e| fail("credentials", e))?;
    imds_credentials(&body, &role).map_err(|e| fail("credentials", e))
}

/// IMDS answers are a few hundred bytes (a role name, one credentials document).
const IMDS_BODY_LIMIT: usize = 64 << 10;
const IMDS_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why the instance metadata service gave no credentials (never quoting them).
#[derive(Debug, thiserror::Error)]
enum ImdsError {
    /// The request failed, or its answer was not 2xx or not read (reqwest's words).
    #[error("{0}")]
    Request(String),
    #[error("the instance has no IAM role")]
    NoRole,
    // The body is not echoed: it holds the secret.
    #[error("unexpected answer (not the credentials JSON)")]
    NotCredentials,
}

impl ImdsError {
    fn request(e: impl std::fmt::Display) -> ImdsError {
        ImdsError::Request(e.to_string())
    }
}

/// One IMDS request: the body of a 2xx answer.
async fn imds_text(request: reqwest::RequestBuilder) -> Result<String, ImdsError> {
    let response = request.send().await.map_err(ImdsError::request)?;
    let response = response.error_for_status().map_err(ImdsError::request)?;
    let body = crate::safe::body::read_reqwest(response, IMDS_BODY_LIMIT, IMDS_BODY_TIMEOUT)
        .await
        .map_err(ImdsError::request)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImdsCredentials {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
}

fn imds_credentials(body: &str, role: &str) -> Result<AwsCredentials, ImdsError> {
    let c: ImdsCredentials = serde_json::from_str(body).map_err(|_| ImdsError::NotCredentials)?;
    Ok(AwsCredentials {
        access_key_id: c.access_key_id,
        secret_access_key: Secret::new(c.secret_access_key),
        session_token: c.token.map(Secret::new),
        source: format!("the EC2 instance role {role} (IMDSv2)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn environment_wins_and_must_be_complete() {
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKIDENV".into()),
            ("AWS_SECRET_ACCESS_KEY", "envsecret".into()),
            ("AWS_SESSION_TOKEN", "envtoken".into()),
        ]);
        let c = from_env(&env).expect("ok").expect("found");
        assert_eq!(c.access_key_id, "AKIDENV");
        assert_eq!(c.session_token.expect("token").expose(), "envtoken");
        assert!(!format!("{:?}", from_env(&env)).contains("envsecret"));
        let half = env_of(&[("AWS_ACCESS_KEY_ID", "AKID".into())]);
        assert!(from_env(&half).is_err());
        assert!(from_env(&env_of(&[])).expect("ok").is_none());
    }

    #[test]
    fn shared_files_follow_aws_profile_credentials_before_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let creds = dir.path().join("credentials");
        let config = dir.path().join("config");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = s1\n\
             [ops]\naws_access_key_id=AKIDOPS\naws_secret_access_key=s2\naws_session_token=t2\n",
        )
        .expect("write");
        std::fs::write(
            &config,
            "[default]\nregion = eu-west-1\n[profile cfg]\naws_access_key_id = AKIDCFG\n\
             aws_secret_access_key = s3\n",
        )
        .expect("write");
        let with = |profile: Option<&str>| {
            let mut pairs = vec![
                ("AWS_SHARED_CREDENTIALS_FILE", creds.display().to_string()),
                ("AWS_CONFIG_FILE", config.display().to_string()),
            ];
            if let Some(p) = profile {
                pairs.push(("AWS_PROFILE", p.to_string()));
            }
            from_shared_files(&env_of(&pairs)).expect("read")
        };
        assert_eq!(with(None).expect("default").access_key_id, "AKIDDEF");
        let ops = with(Some("ops")).expect("ops");
        assert_eq!(ops.access_key_id, "AKIDOPS");
        assert_eq!(ops.session_token.expect("token").expose(), "t2");
        let cfg = with(Some("cfg")).expect("cfg");
        assert_eq!(cfg.access_key_id, "AKIDCFG");
        assert!(cfg.source.contains("[profile cfg]"), "{}", cfg.source);
        assert!(with(Some("missing")).is_none());
    }

    #[test]
    fn endpoint_override_and_imds_answer() {
        let env = env_of(&[
            ("AWS_ENDPOINT_URL", "http://a:1/".into()),
            ("AWS_ENDPOINT_URL_ROUTE_53", "http://b:2".into()),
        ]);
        assert_eq!(route53_endpoint(&env), "http://b:2");
        let env = env_of(&[("AWS_ENDPOINT_URL", "http://a:1/".into())]);
        assert_eq!(route53_endpoint(&env), "http://a:1");
        assert_eq!(route53_endpoint(&env_of(&[])), ROUTE53_DEFAULT);
        let c = imds_credentials(
            r#"{"Code":"Success","AccessKeyId":"ASIA1","SecretAccessKey":"sk","Token":"tok","Expiration":"2030-01-01T00:00:00Z"}"#,
            "web",
        )
        .expect("parse");
        assert_eq!(c.access_key_id, "ASIA1");
        assert!(c.source.contains("web"));
        let err = imds_credentials("{\"SecretAccessKey\":\"sk-secret\"}", "web")
            .expect_err("bad")
            .to_string();
        assert!(!err.contains("sk-secret"), "{err}");
    }
}
