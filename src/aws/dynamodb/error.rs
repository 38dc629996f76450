//! SDK errors into [`StoreError`]: the one place that decides what a DynamoDB failure means for
//! the store's callers. Conditions that failed are not handled here: each call knows what its
//! condition meant (`NotFound`, `Conflict`, or simply `false`).

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::DynamoStore;
use crate::store::StoreError;

/// Error codes that say "try again later": throttling, capacity, and DynamoDB's own trouble.
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "TransactionConflictException",
];

impl DynamoStore {
    /// What a failed request of `operation` means for the caller.
    pub(super) fn fail<E, R>(&self, operation: &'static str, error: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let context = DisplayErrorContext(&error).to_string();
        match &error {
            // No answer, or no usable one: the network, a timeout, DynamoDB's edge.
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => {
                StoreError::Unavailable(format!("DynamoDB {operation}: {context}"))
            }
            SdkError::ServiceError(service) => match service.err().code() {
                Some(code) if TRANSIENT_CODES.contains(&code) => {
                    StoreError::Unavailable(format!("DynamoDB {operation}: {context}"))
                }
                Some("ResourceNotFoundException") => StoreError::Backend(
                    format!(
                        "DynamoDB table `{}` does not exist or is not active (create it with \
                         `showrunner aws init`): {context}",
                        self.table
                    )
                    .into(),
                ),
                _ => StoreError::Backend(Box::new(error)),
            },
            _ => StoreError::Backend(Box::new(error)),
        }
    }
}

/// Whether a transaction cancellation reason is worth retrying the transaction for: a collision
/// with another transaction or with throttling, not a failed condition or a bad request.
pub(super) fn transient_reason(reason: &str) -> bool {
    matches!(
        reason,
        "None" | "TransactionConflict" | "ProvisionedThroughputExceeded" | "ThrottlingError"
    )
}

/// Whether the request failed only because its condition did not hold.
pub(super) fn condition_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error
        .as_service_error()
        .is_some_and(|e| e.code() == Some("ConditionalCheckFailedException"))
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::error::{ConnectorError, ErrorMetadata, SdkError};
    use aws_sdk_dynamodb::operation::get_item::GetItemError;

    use super::*;

    fn store() -> DynamoStore {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-1"))
            .build();
        DynamoStore::new(&sdk, "the-table")
    }

    /// What DynamoDB answering `code` becomes.
    fn answered(code: &str) -> StoreError {
        let error = GetItemError::generic(ErrorMetadata::builder().code(code).build());
        let response = HttpResponse::new(400.try_into().unwrap(), "{}".into());
        store().fail("GetItem", SdkError::service_error(error, response))
    }

    #[test]
    fn throttling_and_dynamodb_trouble_are_unavailable() {
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "InternalServerError",
        ] {
            assert!(
                matches!(answered(code), StoreError::Unavailable(_)),
                "{code}"
            );
        }
    }

    #[test]
    fn no_answer_is_unavailable() {
        let timeout: SdkError<GetItemError, HttpResponse> =
            SdkError::timeout_error("took too long");
        let refused: SdkError<GetItemError, HttpResponse> = SdkError::dispatch_failure(
            ConnectorError::io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into()),
        );

        for error in [timeout, refused] {
            let mapped = store().fail("GetItem", error);
            assert!(matches!(mapped, StoreError::Unavailable(_)), "{mapped:?}");
        }
    }

    #[test]
    fn a_missing_table_says_how_to_create_it_and_other_errors_are_faults() {
        let missing = answered("ResourceNotFoundException").to_string();
        assert!(missing.contains("the-table"), "{missing}");
        assert!(missing.contains("showrunner aws init"), "{missing}");
        assert!(matches!(
            answered("ValidationException"),
            StoreError::Backend(_)
        ));
        assert!(matches!(
            answered("AccessDeniedException"),
            StoreError::Backend(_)
        ));
    }

    #[test]
    fn only_a_failed_condition_is_a_failed_condition() {
        let failed = SdkError::service_error(
            GetItemError::generic(
                ErrorMetadata::builder()
                    .code("ConditionalCheckFailedException")
                    .build(),
            ),
            HttpResponse::new(400.try_into().unwrap(), "{}".into()),
        );
        let throttled = SdkError::service_error(
            GetItemError::generic(ErrorMetadata::builder().code("ThrottlingException").build()),
            HttpResponse::new(400.try_into().unwrap(), "{}".into()),
        );

        assert!(condition_failed(&failed));
        assert!(!condition_failed(&throttled));
    }
}
