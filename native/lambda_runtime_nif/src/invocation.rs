//! The per-invocation metadata that `/next` carries in its headers.

/// Header names, lower-case (HTTP header names are case-insensitive; the
/// `http` crate hands them to us lower-cased).
pub const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
pub const DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
pub const FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
pub const TRACE_ID: &str = "lambda-runtime-trace-id";
pub const CLIENT_CONTEXT: &str = "lambda-runtime-client-context";
pub const COGNITO_IDENTITY: &str = "lambda-runtime-cognito-identity";
pub const TENANT_ID: &str = "lambda-runtime-aws-tenant-id";
pub const INVOCATION_ID: &str = "lambda-runtime-invocation-id";

/// What `/next` told us about one invocation, besides its body.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    pub request_id: Option<String>,
    /// Milliseconds since the epoch, or whatever number an emulator sends.
    pub deadline_ms: Option<u64>,
    pub invoked_function_arn: Option<String>,
    pub trace_id: Option<String>,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub tenant_id: Option<String>,
    pub invocation_id: Option<String>,
}

impl Invocation {
    /// Builds the metadata from header pairs. Names are compared without
    /// regard to case; values that are not valid text are ignored; empty
    /// values count as absent.
    pub fn from_headers<'h>(headers: impl IntoIterator<Item = (&'h str, &'h [u8])>) -> Self {
        let mut inv = Invocation::default();
        for (name, value) in headers {
            let Ok(value) = std::str::from_utf8(value) else {
                continue;
            };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let slot = match name.to_ascii_lowercase().as_str() {
                REQUEST_ID => &mut inv.request_id,
                FUNCTION_ARN => &mut inv.invoked_function_arn,
                TRACE_ID => &mut inv.trace_id,
                CLIENT_CONTEXT => &mut inv.client_context,
                COGNITO_IDENTITY => &mut inv.cognito_identity,
                TENANT_ID => &mut inv.tenant_id,
                INVOCATION_ID => &mut inv.invocation_id,
                DEADLINE_MS => {
                    inv.deadline_ms = value.parse().ok();
                    continue;
                }
                _ => continue,
            };
            *slot = Some(value.to_string());
        }
        inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_header_in_any_case() {
        let headers: Vec<(&str, &[u8])> = vec![
            ("Lambda-Runtime-Aws-Request-Id", b"req-1"),
            ("LAMBDA-RUNTIME-DEADLINE-MS", b"1700000000123"),
            ("lambda-runtime-invoked-function-arn", b"arn:aws:lambda:x"),
            ("Lambda-Runtime-Trace-Id", b"Root=1-abc"),
            ("Lambda-Runtime-Client-Context", b"{\"custom\":{}}"),
            (
                "Lambda-Runtime-Cognito-Identity",
                b"{\"cognitoIdentityId\":\"x\"}",
            ),
            ("Lambda-Runtime-Aws-Tenant-Id", b"tenant-7"),
            ("Lambda-Runtime-Invocation-Id", b"inv-9"),
            ("Content-Type", b"application/json"),
        ];
        let inv = Invocation::from_headers(headers);
        assert_eq!(inv.request_id.as_deref(), Some("req-1"));
        assert_eq!(inv.deadline_ms, Some(1_700_000_000_123));
        assert_eq!(
            inv.invoked_function_arn.as_deref(),
            Some("arn:aws:lambda:x")
        );
        assert_eq!(inv.trace_id.as_deref(), Some("Root=1-abc"));
        assert_eq!(inv.client_context.as_deref(), Some("{\"custom\":{}}"));
        assert_eq!(
            inv.cognito_identity.as_deref(),
            Some("{\"cognitoIdentityId\":\"x\"}")
        );
        assert_eq!(inv.tenant_id.as_deref(), Some("tenant-7"));
        assert_eq!(inv.invocation_id.as_deref(), Some("inv-9"));
    }

    #[test]
    fn missing_empty_and_bad_values_are_absent() {
        let headers: Vec<(&str, &[u8])> = vec![
            ("lambda-runtime-aws-request-id", b"r"),
            ("lambda-runtime-deadline-ms", b"soon"),
            ("lambda-runtime-trace-id", b""),
            ("lambda-runtime-invoked-function-arn", b"\xff\xfe"),
        ];
        let inv = Invocation::from_headers(headers);
        assert_eq!(inv.request_id.as_deref(), Some("r"));
        assert_eq!(inv.deadline_ms, None);
        assert_eq!(inv.trace_id, None);
        assert_eq!(inv.invoked_function_arn, None);
        assert_eq!(inv.tenant_id, None);
    }

    #[test]
    fn emulator_constant_deadline_is_kept_as_sent() {
        let headers: Vec<(&str, &[u8])> = vec![("lambda-runtime-deadline-ms", b"600000")];
        assert_eq!(Invocation::from_headers(headers).deadline_ms, Some(600_000));
    }
}
