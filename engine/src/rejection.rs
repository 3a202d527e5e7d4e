//! Why an envelope or a request is refused: the Fabric status the client reads and the
//! `info` that says why. A leaf module: decoding, access control and admission all
//! answer with it.

use orderer_proto::common::Status;

/// Why an envelope is refused: the Fabric status and the `info` the client reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The status to answer with.
    pub status: Status,
    /// Why, for the client.
    pub info: String,
}

impl Rejection {
    /// BAD_REQUEST with `info`.
    pub fn bad_request(info: impl Into<String>) -> Self {
        Self {
            status: Status::BadRequest,
            info: info.into(),
        }
    }

    /// FORBIDDEN with `info`.
    pub fn forbidden(info: impl Into<String>) -> Self {
        Self {
            status: Status::Forbidden,
            info: info.into(),
        }
    }

    /// NOT_FOUND with `info`.
    pub fn not_found(info: impl Into<String>) -> Self {
        Self {
            status: Status::NotFound,
            info: info.into(),
        }
    }

    /// SERVICE_UNAVAILABLE with `info`.
    pub fn unavailable(info: impl Into<String>) -> Self {
        Self {
            status: Status::ServiceUnavailable,
            info: info.into(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status.as_str_name(), self.info)
    }
}
