//! The crate's one HTTPS client setup, shared by the ACME client and the webhook target:
//! hyper over rustls with aws-lc-rs only (ring next to it makes rustls panic choosing a
//! provider), TCP_NODELAY (Nagle costs ~44 ms per POST on loopback) and a connect timeout.
//! Request timeouts stay with the callers: each knows how long its peer may take.

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Body;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;

/// A hyper client over rustls, for request bodies of type `B`.
pub(crate) type HttpsClient<B> = Client<HttpsConnector<HttpConnector>, B>;

/// The system's trust roots; a malformed one is skipped, as every TLS client does.
pub(crate) fn native_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    roots
}

/// A client trusting `roots`; `https_only` refuses plain `http://` URLs (ACME requires TLS,
/// a webhook receiver on a private network may not offer it).
pub(crate) fn client<B>(
    roots: RootCertStore,
    https_only: bool,
    connect_timeout: Duration,
) -> Result<HttpsClient<B>, rustls::Error>
where
    B: Body + Send,
    B::Data: Send,
{
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    http.enforce_http(false);
    let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls);
    let connector = if https_only {
        builder.https_only().enable_http1().wrap_connector(http)
    } else {
        builder.https_or_http().enable_http1().wrap_connector(http)
    };
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
