//! `--dns-route53`'s writer: the four Route53 API calls it needs (ListHostedZonesByName,
//! ListResourceRecordSets, ChangeResourceRecordSets, GetChange), signed with `aws-sigv4`.
//!
//! Not `dns-update`'s Route53 provider: it drops the change id ChangeResourceRecordSets
//! answers, and without it nobody can ask GetChange whether the change is INSYNC, which is
//! how certbot's plugin (and AWS's documentation) know a change reached every Route53
//! nameserver. The values are added to and removed from the TXT set one by one, as
//! [`TxtWriter`] requires: other values at the name are kept.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// A Route53 answer (a page of at most 300 record sets) is well under this.
const BODY_LIMIT: usize = 8 << 20;
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use quick_xml::escape::escape;
use serde::Deserialize;

use super::aws::AwsCredentials;
use super::propagation::Wait;
use super::writer::{TxtWriter, TXT_TTL};
use crate::error::DnsError;

const API: &str = "2013-04-01";
/// Route53 is a global service signed for us-east-1.
const SIGNING_REGION: &str = "us-east-1";
/// Bound on one API call.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Throttling and PriorRequestNotComplete are retried this often, backing off from 250 ms.
const RETRIES: u32 = 4;
/// Longest error text kept from an API answer.
const SNIPPET: usize = 300;

/// A Route53 [`TxtWriter`] whose [`wait_applied`](TxtWriter::wait_applied) polls GetChange.
pub struct Route53Writer {
    client: reqwest::Client,
    endpoint: String,
    credentials: AwsCredentials,
    label: String,
    hint: String,
    /// Hosted zone ids by zone name (`example.com`).
    zones: Mutex<HashMap<String, String>>,
    /// Ids of changes made through this writer and not yet seen INSYNC.
    pending: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Route53Writer {
    // The credentials are secret: show only the label.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route53Writer")
            .field("label", &self.label)
            .finish()
    }
}

/// The Route53 writer; its label names the endpoint (journal entries stay per endpoint).
pub fn route53_writer(
    credentials: &AwsCredentials,
    endpoint: &str,
) -> Result<Route53Writer, DnsError> {
    let client = reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .build()
        .map_err(|e| DnsError::Other(format!("Route53 setup: {e}")))?;
    Ok(Route53Writer {
        client,
        endpoint: endpoint.trim_end_matches('/').to_string(),
        credentials: credentials.clone(),
        label: format!("route53 {endpoint}"),
        hint: format!(
            " (AWS credentials from {}: may they call route53:ListHostedZonesByName, \
             route53:ListResourceRecordSets, route53:ChangeResourceRecordSets and \
             route53:GetChange for this zone?)",
            credentials.source
        ),
        zones: Mutex::new(HashMap::new()),
        pending: Mutex::new(Vec::new()),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HostedZonesAnswer {
    hosted_zones: HostedZones,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HostedZones {
    #[serde(default)]
    hosted_zone: Vec<HostedZone>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HostedZone {
    id: String,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordSetsAnswer {
    #[serde(default)]
    resource_record_sets: RecordSets,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordSets {
    #[serde(default)]
    resource_record_set: Vec<RecordSet>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordSet {
    name: String,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "TTL")]
    ttl: Option<u32>,
    #[serde(default)]
    resource_records: ResourceRecords,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceRecords {
    #[serde(default)]
    resource_record: Vec<ResourceRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceRecord {
    value: String,
}

/// The answer of ChangeResourceRecordSets and of GetChange.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangeAnswer {
    change_info: ChangeInfo,
}

/// Why a Route53 call failed, in the API's or the transport's words.
#[derive(Debug, thiserror::Error)]
enum Route53Error {
    #[error("SigV4: {0}")]
    Signing(String),
    /// The request could not be made or its answer read.
    #[error("{0}")]
    Request(String),
    /// The API's refusal; Throttling and PriorRequestNotComplete are worth retrying.
    #[error("HTTP {status}: {message}")]
    Api {
        status: reqwest::StatusCode,
        message: String,
        retry: bool,
    },
    #[error("unexpected {call} answer: {error}")]
    Unexpected {
        call: &'static str,
        error: quick_xml::DeError,
    },
    #[error("no hosted zone {0} in this account")]
    NoZone(String),
}

impl Route53Error {
    fn request(e: impl std::fmt::Display) -> Route53Error {
        Route53Error::Request(e.to_string())
    }

    fn signing(e: impl std::fmt::Display) -> Route53Error {
        Route53Error::Signing(e.to_string())
    }

    /// The parse error of an answer to `call`.
    fn unexpected(call: &'static str) -> impl FnOnce(quick_xml::DeError) -> Route53Error {
        move |error| Route53Error::Unexpected { call, error }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangeInfo {
    id: String,
    status: String,
}

impl Route53Writer {
    /// One signed call; Throttling and PriorRequestNotComplete are retried with backoff.
    async fn call(
        &self,
        method: &str,
        path_query: &str,
        body: &str,
    ) -> Result<String, Route53Error> {
        let mut attempt = 0;
        loop {
            match self.call_once(method, path_query, body).await {
                Err(Route53Error::Api { retry: true, .. }) if attempt < RETRIES => {
                    tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                    attempt += 1;
                }
                Err(why) => return Err(why),
                Ok(text) => return Ok(text),
            }
        }
    }

    /// The answer's text.
    async fn call_once(
        &self,
        method: &str,
        path_query: &str,
        body: &str,
    ) -> Result<String, Route53Error> {
        let url = format!("{}/{API}/{path_query}", self.endpoint);
        let headers = self.sign(method, &url, body)?;
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(Route53Error::request)?;
        let mut request = self.client.request(method, &url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request
                .header("content-type", "application/xml")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(Route53Error::request)?;
        let status = response.status();
        let body = crate::safe::body::read_reqwest(response, BODY_LIMIT, BODY_TIMEOUT)
            .await
            .map_err(Route53Error::request)?;
        let text = String::from_utf8_lossy(&body).into_owned();
        if status.is_success() {
            return Ok(text);
        }
        let retry = status.as_u16() == 429
            || status.as_u16() == 503
            || text.contains("Throttling")
            || text.contains("PriorRequestNotComplete");
        Err(Route53Error::Api {
            status,
            message: api_message(&text),
            retry,
        })
    }

    /// SigV4 headers (Authorization, X-Amz-Date, the session token) for one request.
    fn sign(
        &self,
        method: &str,
        url: &str,
        body: &str,
    ) -> Result<Vec<(String, String)>, Route53Error> {
        let c = &self.credentials;
        let identity = Credentials::new(
            &c.access_key_id,
            c.secret_access_key.expose(),
            c.session_token.as_ref().map(|t| t.expose().to_string()),
            None,
            "certwright",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(SIGNING_REGION)
            .name("route53")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(Route53Error::signing)?
            .into();
        let signable = SignableRequest::new(
            method,
            url,
            std::iter::empty(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(Route53Error::signing)?;
        let (instructions, _) = sign(signable, &params)
            .map_err(Route53Error::signing)?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// The hosted zone id of `zone` (found by SOA before), cached.
    async fn zone_id(&self, zone: &str) -> Result<String, Route53Error> {
        if let Some(id) = lock(&self.zones).get(zone) {
            return Ok(id.clone());
        }
        let text = self
            .call("GET", &format!("hostedzonesbyname?dnsname={zone}."), "")
            .await?;
        let answer: HostedZonesAnswer = quick_xml::de::from_str(&text)
            .map_err(Route53Error::unexpected("ListHostedZonesByName"))?;
        let id = answer
            .hosted_zones
            .hosted_zone
            .into_iter()
            .find(|z| same_name(&z.name, zone))
            .map(|z| z.id.trim_start_matches("/hostedzone/").to_string())
            .ok_or_else(|| Route53Error::NoZone(zone.to_string()))?;
        lock(&self.zones).insert(zone.to_string(), id.clone());
        Ok(id)
    }

    /// The TXT set at `name`: its values (quoted, as Route53 holds them) and TTL.
    async fn txt_set(&self, zone_id: &str, name: &str) -> Result<(Vec<String>, u32), Route53Error> {
        let query = format!("hostedzone/{zone_id}/rrset?name={name}.&type=TXT&maxitems=1");
        let text = self.call("GET", &query, "").await?;
        let answer: RecordSetsAnswer = quick_xml::de::from_str(&text)
            .map_err(Route53Error::unexpected("ListResourceRecordSets"))?;
        Ok(answer
            .resource_record_sets
            .resource_record_set
            .into_iter()
            .find(|s| s.kind == "TXT" && same_name(&s.name, name))
            .map(|s| {
                let values = s.resource_records.resource_record;
                let values = values.into_iter().map(|r| r.value).collect();
                (values, s.ttl.unwrap_or(TXT_TTL))
            })
            .unwrap_or((Vec::new(), TXT_TTL)))
    }

    /// One ChangeResourceRecordSets; its change id is kept for [`TxtWriter::wait_applied`].
    async fn change_set(
        &self,
        zone_id: &str,
        action: &str,
        name: &str,
        ttl: u32,
        values: &[String],
    ) -> Result<(), Route53Error> {
        let body = change_batch(action, name, ttl, values);
        let text = self
            .call("POST", &format!("hostedzone/{zone_id}/rrset"), &body)
            .await?;
        let answer: ChangeAnswer = quick_xml::de::from_str(&text)
            .map_err(Route53Error::unexpected("ChangeResourceRecordSets"))?;
        let id = answer.change_info.id.trim_start_matches("/change/");
        lock(&self.pending).push(id.to_string());
        Ok(())
    }

    /// Adds or removes one value, keeping the others at the name.
    async fn update(
        &self,
        add: bool,
        zone: &str,
        name: &str,
        value: &str,
    ) -> Result<(), Route53Error> {
        let zone_id = self.zone_id(zone).await?;
        let (mut values, ttl) = self.txt_set(&zone_id, name).await?;
        let quoted = format!("\"{value}\"");
        let had = values.contains(&quoted);
        if add == had {
            return Ok(());
        }
        if add {
            values.push(quoted);
            return self
                .change_set(&zone_id, "UPSERT", name, ttl, &values)
                .await;
        }
        let rest: Vec<String> = values.iter().filter(|v| **v != quoted).cloned().collect();
        if rest.is_empty() {
            // DELETE must name the set exactly as it is.
            return self
                .change_set(&zone_id, "DELETE", name, ttl, &values)
                .await;
        }
        self.change_set(&zone_id, "UPSERT", name, ttl, &rest).await
    }

    async fn change(&self, add: bool, zone: &str, name: &str, value: &str) -> Result<(), DnsError> {
        self.update(add, zone, name, value)
            .await
            .map_err(|reason| DnsError::Update {
                writer: self.label.clone(),
                action: if add { "add" } else { "remove" },
                name: name.to_string(),
                zone: zone.to_string(),
                reason: format!("{reason}{}", self.hint),
            })
    }

    async fn change_status(&self, id: &str) -> Result<String, DnsError> {
        let text = self
            .call("GET", &format!("change/{id}"), "")
            .await
            .map_err(|e| {
                DnsError::Other(format!("{}: GetChange {id}: {e}{}", self.label, self.hint))
            })?;
        let answer: ChangeAnswer = quick_xml::de::from_str(&text).map_err(|e| {
            DnsError::Other(format!("{}: unexpected GetChange answer: {e}", self.label))
        })?;
        Ok(answer.change_info.status)
    }
}

#[async_trait::async_trait]
impl TxtWriter for Route53Writer {
    fn label(&self) -> &str {
        &self.label
    }

    async fn add_txt(&self, zone: &str, name: &str, value: &str) -> Result<(), DnsError> {
        self.change(true, zone, name, value).await
    }

    async fn remove_txt(&self, zone: &str, name: &str, value: &str) -> Result<(), DnsError> {
        self.change(false, zone, name, value).await
    }

    /// Polls GetChange for each change made so far until it is INSYNC.
    async fn wait_applied(&self, wait: Wait) -> Result<(), DnsError> {
        let ids = std::mem::take(&mut *lock(&self.pending));
        poll_until_insync(&self.label, &ids, wait, |id| self.change_status(id)).await
    }
}

/// Asks `status` for each change id until every one is INSYNC; after `wait.timeout`, an
/// error naming the changes still pending.
pub(crate) async fn poll_until_insync<'a, F, Fut>(
    writer: &str,
    ids: &'a [String],
    wait: Wait,
    mut status: F,
) -> Result<(), DnsError>
where
    F: FnMut(&'a str) -> Fut,
    Fut: std::future::Future<Output = Result<String, DnsError>>,
{
    let start = Instant::now();
    let mut pending: Vec<&'a str> = ids.iter().map(String::as_str).collect();
    loop {
        let mut still = Vec::new();
        for id in pending {
            if status(id).await? != "INSYNC" {
                still.push(id);
            }
        }
        if still.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= wait.timeout {
            return Err(DnsError::NotApplied {
                writer: writer.to_string(),
                changes: still.join(", "),
                seconds: wait.timeout.as_secs(),
            });
        }
        pending = still;
        tokio::time::sleep(wait.interval).await;
    }
}

/// A ChangeResourceRecordSets request body for one TXT set.
fn change_batch(action: &str, name: &str, ttl: u32, values: &[String]) -> String {
    let records: String = values
        .iter()
        .map(|v| {
            format!(
                "<ResourceRecord><Value>{}</Value></ResourceRecord>",
                escape(v)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/{API}/\">\
         <ChangeBatch><Comment>certwright dns-01</Comment><Changes><Change>\
         <Action>{action}</Action><ResourceRecordSet><Name>{}.</Name><Type>TXT</Type>\
         <TTL>{ttl}</TTL><ResourceRecords>{records}</ResourceRecords></ResourceRecordSet>\
         </Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
        escape(name)
    )
}

/// Route53's `<Message>` from an error answer, else the start of the body.
fn api_message(text: &str) -> String {
    let message = text
        .split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map_or(text, |(m, _)| m);
    message.chars().take(SNIPPET).collect()
}

/// Route53 answers names fully qualified, with `\052` for a `*`.
fn same_name(answered: &str, name: &str) -> bool {
    answered
        .trim_end_matches('.')
        .replace("\\052", "*")
        .eq_ignore_ascii_case(name.trim_end_matches('.'))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding it leaves plain data behind; keep going.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_change_that_never_becomes_insync_times_out_naming_it() {
        let ids = vec!["C1".to_string(), "C2".to_string()];
        let wait = Wait {
            timeout: Duration::from_millis(30),
            interval: Duration::from_millis(5),
        };
        let asked = std::cell::Cell::new(0);
        let result = block_on(poll_until_insync("route53 x", &ids, wait, |id| {
            asked.set(asked.get() + 1);
            let status = if id == "C1" { "INSYNC" } else { "PENDING" };
            async move { Ok(status.to_string()) }
        }));
        let err = result.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("C2") && !text.contains("C1"), "{text}");
        assert!(text.contains("INSYNC"), "{text}");
        assert!(asked.get() >= 3, "C1 once, C2 until the deadline");

        let all = block_on(poll_until_insync("route53 x", &ids, wait, |_| async {
            Ok("INSYNC".to_string())
        }));
        assert!(all.is_ok());
        let failing = block_on(poll_until_insync("route53 x", &ids, wait, |_| async {
            Err(DnsError::Other("GetChange C1: HTTP 403".into()))
        }));
        assert!(failing.unwrap_err().to_string().contains("403"));
    }

    #[test]
    fn answers_are_parsed_and_requests_escaped() {
        let change: ChangeAnswer = quick_xml::de::from_str(
            "<?xml version=\"1.0\"?><ChangeResourceRecordSetsResponse xmlns=\"x\"><ChangeInfo>\
             <Id>/change/C2UX</Id><Status>PENDING</Status><SubmittedAt>t</SubmittedAt>\
             </ChangeInfo></ChangeResourceRecordSetsResponse>",
        )
        .unwrap();
        assert_eq!(change.change_info.id, "/change/C2UX");
        assert_eq!(change.change_info.status, "PENDING");
        let sets: RecordSetsAnswer = quick_xml::de::from_str(
            "<ListResourceRecordSetsResponse><ResourceRecordSets><ResourceRecordSet>\
             <Name>_acme-challenge.example.com.</Name><Type>TXT</Type><TTL>300</TTL>\
             <ResourceRecords><ResourceRecord><Value>\"a\"</Value></ResourceRecord>\
             <ResourceRecord><Value>\"b\"</Value></ResourceRecord></ResourceRecords>\
             </ResourceRecordSet></ResourceRecordSets><IsTruncated>false</IsTruncated>\
             <MaxItems>1</MaxItems></ListResourceRecordSetsResponse>",
        )
        .unwrap();
        let set = &sets.resource_record_sets.resource_record_set[0];
        assert_eq!(set.ttl, Some(300));
        assert_eq!(set.resource_records.resource_record[1].value, "\"b\"");
        let body = change_batch("UPSERT", "_acme-challenge.a.test", 60, &["\"v<\"".into()]);
        assert!(body.contains("<Value>&quot;v&lt;&quot;</Value>"), "{body}");
        assert!(
            body.contains("<Name>_acme-challenge.a.test.</Name>"),
            "{body}"
        );
        assert!(same_name("\\052.example.com.", "*.example.com"));
        assert_eq!(
            api_message("<Error><Code>X</Code><Message>no such zone</Message></Error>"),
            "no such zone"
        );
    }
}
