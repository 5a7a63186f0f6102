//! instant-acme's errors turned into ours, keeping the CA's problem document as data.

use instant_acme::Identifier;

use super::http;
use crate::error::{AcmeError, Problem};

pub(super) fn problem_from(p: instant_acme::Problem) -> Problem {
    Problem {
        retry_after: None,
        kind: p.r#type,
        detail: p.detail,
        status: p.status,
        subproblems: p
            .subproblems
            .into_iter()
            .map(|s| {
                let id = match s.identifier {
                    Some(Identifier::Dns(d)) => d,
                    Some(Identifier::Ip(ip)) => ip.to_string(),
                    _ => "?".into(),
                };
                format!(
                    "{id}: {}: {}",
                    s.r#type.as_deref().unwrap_or("unknown"),
                    s.detail.as_deref().unwrap_or("")
                )
            })
            .collect(),
    }
}

pub(super) fn convert(err: instant_acme::Error, what: &str) -> AcmeError {
    match err {
        instant_acme::Error::Api(p) => AcmeError::Problem(problem_from(p)),
        instant_acme::Error::Timeout(_) => AcmeError::Timeout {
            what: what.to_string(),
            seconds: 0,
        },
        instant_acme::Error::Other(e) => match e.downcast::<http::ProblemWithRetryAfter>() {
            Ok(lifted) => AcmeError::Problem(Problem {
                retry_after: Some(lifted.retry_after.into()),
                ..problem_from(lifted.problem)
            }),
            Err(e) => match e.downcast::<http::Unanswered>() {
                Ok(unanswered) => AcmeError::Transport {
                    url: unanswered.url,
                    message: format!("{} ({what})", unanswered.message),
                },
                // The CA answered, with something we could not use.
                Err(e) => AcmeError::Protocol(format!(
                    "{what}: the CA's answer is unusable: {}",
                    crate::error::error_chain(e.as_ref())
                )),
            },
        },
        other => AcmeError::Protocol(format!(
            "{what}: the CA's answer is unusable: {}",
            crate::error::error_chain(&other)
        )),
    }
}
