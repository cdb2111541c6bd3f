//! An error report as it crosses the NIF boundary and goes on the wire.
//!
//! Elixir shapes the report (`LambdaRuntime.ErrorReport.to_wire/1`: the
//! error-type header's `Category.Reason` value, the X-Ray cause) and hands
//! it over as a map with atom keys; this module turns it into what every
//! path sends: the JSON body of `/error` and `/init/error`, and the same
//! JSON, base64, as a failed stream's trailer.

use base64::Engine as _;
use serde::Serialize;

/// `%{header_type, error_type, error_message, stack_trace, xray_cause}`.
/// Serializes (as the JSON body) to `errorMessage`, `errorType` and
/// `stackTrace` only.
#[derive(Debug, Serialize)]
#[cfg_attr(not(test), derive(rustler::NifMap))]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    /// The `Lambda-Runtime-Function-Error-Type` value, already in its
    /// final form (Elixir's `ErrorReport.header_type/1` is its one rule).
    #[serde(skip)]
    pub header_type: String,
    pub error_message: String,
    pub error_type: String,
    pub stack_trace: Vec<String>,
    /// The `Lambda-Runtime-Function-XRay-Error-Cause` value (ASCII JSON).
    #[serde(skip)]
    pub xray_cause: Option<String>,
}

impl ErrorReport {
    /// The JSON body: `{"errorMessage":..,"errorType":..,"stackTrace":[..]}`.
    pub fn body(&self) -> Vec<u8> {
        // Strings and a list of strings: serializing cannot fail.
        serde_json::to_vec(self).expect("an error report serializes")
    }

    /// The body as the `Lambda-Runtime-Function-Error-Body` trailer carries it.
    pub fn body_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> ErrorReport {
        ErrorReport {
            header_type: "Function.RuntimeError".into(),
            error_message: "boom".into(),
            error_type: "RuntimeError".into(),
            stack_trace: vec!["a.ex:1".into()],
            xray_cause: Some("{}".into()),
        }
    }

    #[test]
    fn the_body_is_the_error_json_without_the_header_values() {
        assert_eq!(
            String::from_utf8(report().body()).unwrap(),
            r#"{"errorMessage":"boom","errorType":"RuntimeError","stackTrace":["a.ex:1"]}"#
        );
    }

    #[test]
    fn the_trailer_body_is_the_same_json_in_base64() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(report().body_base64())
            .unwrap();
        assert_eq!(decoded, report().body());
    }
}
