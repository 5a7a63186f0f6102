//! The reader for every HTTP body from outside (ACME servers, webhook receivers, DNS and
//! cloud APIs): at most `limit` bytes are kept, and reading stops there, so an endless
//! body costs a bounded amount of memory; a body that keeps trickling is cut by a deadline.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

/// Why a body was not read whole.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("the response body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("timed out reading the response body")]
    Timeout,
    #[error("reading the response body: {0}")]
    Read(String),
}

/// The whole body, refused past `limit` bytes or `deadline`.
pub(crate) async fn read<B>(body: B, limit: usize, deadline: Duration) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    match tokio::time::timeout(deadline, collect(body, limit, false)).await {
        Ok(result) => result,
        Err(_) => Err(BodyError::Timeout),
    }
}

/// At most `limit` bytes of the body (the rest is not read): for error answers, of which
/// only the start is shown.
pub(crate) async fn read_prefix<B>(body: B, limit: usize, deadline: Duration) -> Bytes
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    match tokio::time::timeout(deadline, collect(body, limit, true)).await {
        Ok(Ok(bytes)) => bytes,
        _ => Bytes::new(),
    }
}

async fn collect<B>(mut body: B, limit: usize, truncate: bool) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut out = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if out.len() + data.len() > limit {
            if !truncate {
                return Err(BodyError::TooLarge(limit));
            }
            out.extend_from_slice(&data[..limit - out.len()]);
            break;
        }
        out.extend_from_slice(&data);
    }
    Ok(out.freeze())
}

/// `read` for a reqwest response (the DNS and cloud APIs).
pub(crate) async fn read_reqwest(
    mut response: reqwest::Response,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, BodyError> {
    let collect = async {
        let mut out = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| BodyError::Read(e.to_string()))?
        {
            if out.len() + chunk.len() > limit {
                return Err(BodyError::TooLarge(limit));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    };
    tokio::time::timeout(deadline, collect)
        .await
        .map_err(|_| BodyError::Timeout)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    fn endless() -> impl hyper::body::Body<Data = Bytes, Error = std::convert::Infallible> + Unpin {
        let chunks = futures_util::stream::repeat_with(|| {
            Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(Bytes::from(vec![
                b'x';
                64 << 10
            ])))
        });
        StreamBody::new(chunks)
    }

    #[tokio::test]
    async fn an_endless_body_is_refused_or_cut() {
        let err = read(endless(), 1 << 20, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(err, BodyError::TooLarge(_)), "{err}");
        let prefix = read_prefix(endless(), 200, Duration::from_secs(5)).await;
        assert_eq!(prefix.len(), 200);
        let whole = read(Full::new(Bytes::from("ok")), 10, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(&whole[..], b"ok");
    }
}
