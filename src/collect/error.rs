//! Turning an SDK error into a `CollectionError`: a bounded kind for metrics and checks, the
//! AWS code and message for the reader.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::snapshot::ErrorKind;

pub(crate) struct Classified {
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
}

pub(crate) fn classify<E, R>(err: &SdkError<E, R>) -> Classified
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let message = DisplayErrorContext(err).to_string();
    match err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().map(str::to_string);
            let kind = code
                .as_deref()
                .map_or(ErrorKind::ServiceError, kind_of_code);
            let message = service
                .err()
                .message()
                .map(str::to_string)
                .unwrap_or(message);
            Classified {
                kind,
                code,
                message,
            }
        }
        SdkError::TimeoutError(_) => Classified {
            kind: ErrorKind::Timeout,
            code: None,
            message,
        },
        SdkError::DispatchFailure(failure) => Classified {
            kind: if failure.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Connection
            },
            code: None,
            message,
        },
        SdkError::ResponseError(_) => Classified {
            kind: ErrorKind::InvalidResponse,
            code: None,
            message,
        },
        _ => Classified {
            kind: ErrorKind::ServiceError,
            code: None,
            message,
        },
    }
}

/// AWS services spell the same condition many ways.
pub(crate) fn kind_of_code(code: &str) -> ErrorKind {
    match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnauthorizedAccess"
        | "AuthorizationError"
        | "NotAuthorized"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "AuthFailure" => ErrorKind::AccessDenied,
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestLimitExceeded"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "SlowDown"
        | "PriorRequestNotComplete"
        | "ProvisionedThroughputExceededException"
        | "LimitExceededException" => ErrorKind::Throttling,
        "NoSuchEntity" | "ResourceNotFound" | "ResourceNotFoundException" | "NotFound" => {
            ErrorKind::NotFound
        }
        c if c.ends_with(".NotFound") || c.ends_with("NotFoundException") => ErrorKind::NotFound,
        _ => ErrorKind::ServiceError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_bounded_kinds() {
        assert_eq!(
            kind_of_code("AccessDeniedException"),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            kind_of_code("UnauthorizedOperation"),
            ErrorKind::AccessDenied
        );
        assert_eq!(kind_of_code("ThrottlingException"), ErrorKind::Throttling);
        assert_eq!(kind_of_code("RequestLimitExceeded"), ErrorKind::Throttling);
        assert_eq!(kind_of_code("InvalidVpcID.NotFound"), ErrorKind::NotFound);
        assert_eq!(kind_of_code("FileSystemNotFound"), ErrorKind::ServiceError);
        assert_eq!(kind_of_code("ValidationException"), ErrorKind::ServiceError);
    }
}
