//! What a failed AWS call means, for the media, chat-room, stage and asset adapters: one
//! classification by error code, which each adapter turns into its port's own error. (The
//! DynamoDB store keeps its own rules in `dynamodb::error`.)
//!
//! Every service crate re-exports the same smithy `SdkError` and `HttpResponse`, so one
//! function serves them all.

use aws_sdk_ivs::{
    config::http::HttpResponse,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
};

/// A failed call, as the ports care about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The resource does not exist (any more).
    NotFound,
    /// IVS: the channel has no live stream right now.
    NotBroadcasting,
    /// The resource is in a state that forbids the call (e.g. deleting a live channel).
    Conflict(String),
    /// The service asked us to slow down; worth retrying later.
    Throttled,
    /// No answer, or the service's own trouble; worth retrying later.
    Unavailable(String),
    /// The request itself was refused (validation, permissions, quota): retrying will not help.
    Rejected(String),
}

const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
];

const SERVICE_TROUBLE: &[&str] = &[
    "InternalServerException",
    "InternalServerError",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
];

const NOT_FOUND: &[&str] = &["ResourceNotFoundException", "NotFound", "NoSuchKey"];

/// Classifies a failed `operation` (named in the messages, e.g. `"ivs:PutMetadata"`).
pub(crate) fn classify<E>(operation: &str, error: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let context = || format!("{operation}: {}", DisplayErrorContext(error));
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure::Unavailable(context())
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            match service.err().code() {
                Some(code) if THROTTLING.contains(&code) => Failure::Throttled,
                Some(code) if SERVICE_TROUBLE.contains(&code) => Failure::Unavailable(context()),
                Some(code) if NOT_FOUND.contains(&code) => Failure::NotFound,
                Some("ChannelNotBroadcasting") => Failure::NotBroadcasting,
                Some("ConflictException") => Failure::Conflict(context()),
                Some(_) => Failure::Rejected(context()),
                // No modelled code: judge by the status alone.
                None if status == 429 => Failure::Throttled,
                None if status >= 500 => Failure::Unavailable(context()),
                None => Failure::Rejected(context()),
            }
        }
        _ => Failure::Rejected(context()),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ivs::{error::ErrorMetadata, operation::put_metadata::PutMetadataError};

    use super::*;

    fn answered(status: u16, code: Option<&str>) -> Failure {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let error = PutMetadataError::generic(meta.build());
        let response = HttpResponse::new(status.try_into().unwrap(), "{}".into());
        classify("ivs:PutMetadata", &SdkError::service_error(error, response))
    }

    #[test]
    fn throttling_codes_and_a_bare_429_are_throttled() {
        for code in [
            "ThrottlingException",
            "TooManyRequestsException",
            "SlowDown",
        ] {
            assert_eq!(answered(400, Some(code)), Failure::Throttled, "{code}");
        }
        assert_eq!(answered(429, None), Failure::Throttled);
    }

    #[test]
    fn service_trouble_and_no_answer_are_unavailable() {
        assert!(matches!(
            answered(500, Some("InternalServerException")),
            Failure::Unavailable(_)
        ));
        assert!(matches!(answered(503, None), Failure::Unavailable(_)));
        let timeout: SdkError<PutMetadataError, HttpResponse> = SdkError::timeout_error("slow");
        assert!(matches!(
            classify("ivs:PutMetadata", &timeout),
            Failure::Unavailable(m) if m.contains("ivs:PutMetadata")
        ));
    }

    #[test]
    fn missing_resources_idle_channels_conflicts_and_refusals_are_told_apart() {
        assert_eq!(
            answered(404, Some("ResourceNotFoundException")),
            Failure::NotFound
        );
        assert_eq!(
            answered(404, Some("ChannelNotBroadcasting")),
            Failure::NotBroadcasting
        );
        assert!(matches!(
            answered(409, Some("ConflictException")),
            Failure::Conflict(_)
        ));
        for code in [
            "ValidationException",
            "AccessDeniedException",
            "ServiceQuotaExceededException",
        ] {
            assert!(
                matches!(answered(400, Some(code)), Failure::Rejected(_)),
                "{code}"
            );
        }
        // A 404 without a code (an endpoint that does not know the operation) is a refusal,
        // not a missing resource.
        assert!(matches!(answered(404, None), Failure::Rejected(_)));
    }
}
