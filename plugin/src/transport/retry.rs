//! When and how long to wait before trying a request again: the AWS SDKs' "standard" retry mode.
//!
//! Pure functions, so that the decisions are table-tested natively; the loop that applies them
//! is [`crate::transport::client::S3::send`], the sleep [`crate::transport::pause`].

use std::time::Duration;

/// Attempts per request when the host's setting is 0 (unset): the SDKs' standard mode.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// The first backoff's upper bound; it doubles with every attempt.
pub const BASE_BACKOFF: Duration = Duration::from_millis(100);
/// No backoff is longer than this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// How a request attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// A response with a failure: its status and the S3 error code of its body, if any (a
    /// 200 whose body is an `<Error>`, as CopyObject and CompleteMultipartUpload can send, has
    /// status 200 and that code).
    Response {
        /// The HTTP status.
        status: u16,
        /// The `<Code>` of the error body.
        code: Option<&'a str>,
    },
    /// No response at all.
    Transport(Transport),
}

/// Why there was no response, from the `wasi:http` error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The connection broke (reset, closed early, a garbled or incomplete response).
    Broken,
    /// A connect, read, write or response timeout.
    TimedOut,
    /// Nothing listens there, or the name does not resolve: retrying will not help soon.
    Unreachable,
    /// The host's policy refused the request: final.
    Denied,
    /// Anything else (bad request, local input failures): final.
    Other,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A transient failure: try again after a backoff.
    Retry,
    /// The signing time is too far from the server's: learn the server's clock from the
    /// response's `Date`, then try again.
    Skewed,
    /// Final: report it.
    Stop,
}

/// Classifies a failed attempt.
pub fn classify(outcome: Outcome<'_>) -> Verdict {
    match outcome {
        Outcome::Response { code: Some("RequestTimeTooSkewed"), .. } => Verdict::Skewed,
        Outcome::Response { status, code } if s3_connector_rules::is_transient(status, code) => {
            Verdict::Retry
        }
        Outcome::Response { .. } => Verdict::Stop,
        Outcome::Transport(Transport::Broken | Transport::TimedOut) => Verdict::Retry,
        Outcome::Transport(Transport::Unreachable | Transport::Denied | Transport::Other) => Verdict::Stop,
    }
}

/// The wait before attempt `next` (2 for the first retry): full jitter, a uniformly random
/// time in `[0, min(MAX_BACKOFF, BASE_BACKOFF * 2^(next - 2))]`, with `unit` in `[0, 1)`.
pub fn backoff(next: u32, unit: f64) -> Duration {
    let exponent = next.saturating_sub(2).min(30);
    let ceiling = BASE_BACKOFF.saturating_mul(1 << exponent).min(MAX_BACKOFF);
    // `mul_f64` panics on NaN or negatives: anything but a finite unit waits nothing.
    let unit = if unit.is_finite() { unit.clamp(0.0, 1.0) } else { 0.0 };
    ceiling.mul_f64(unit)
}

/// Whether another attempt may follow attempt `attempt` (counted from 1).
pub fn may_retry(verdict: Verdict, attempt: u32, max_attempts: u32, replayable: bool) -> bool {
    verdict != Verdict::Stop && replayable && attempt < max_attempts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_as_the_sdks_standard_mode_does() {
        let response = |status, code| Outcome::Response { status, code };
        let table: &[(Outcome<'_>, Verdict)] = &[
            (response(503, Some("SlowDown")), Verdict::Retry),
            (response(503, None), Verdict::Retry),
            (response(500, Some("InternalError")), Verdict::Retry),
            (response(502, None), Verdict::Retry),
            (response(504, None), Verdict::Retry),
            (response(429, None), Verdict::Retry),
            (response(400, Some("RequestTimeout")), Verdict::Retry),
            (response(503, Some("ServiceUnavailable")), Verdict::Retry),
            // A 200 whose body is an error (CopyObject, CompleteMultipartUpload).
            (response(200, Some("InternalError")), Verdict::Retry),
            (response(200, Some("NoSuchUpload")), Verdict::Stop),
            (response(403, Some("RequestTimeTooSkewed")), Verdict::Skewed),
            (response(403, Some("AccessDenied")), Verdict::Stop),
            (response(403, Some("SignatureDoesNotMatch")), Verdict::Stop),
            (response(404, Some("NoSuchKey")), Verdict::Stop),
            (response(404, None), Verdict::Stop),
            (response(412, Some("PreconditionFailed")), Verdict::Stop),
            (response(409, Some("BucketNotEmpty")), Verdict::Stop),
            (response(501, Some("NotImplemented")), Verdict::Stop),
            (Outcome::Transport(Transport::Broken), Verdict::Retry),
            (Outcome::Transport(Transport::TimedOut), Verdict::Retry),
            (Outcome::Transport(Transport::Unreachable), Verdict::Stop),
            (Outcome::Transport(Transport::Denied), Verdict::Stop),
            (Outcome::Transport(Transport::Other), Verdict::Stop),
        ];
        for (outcome, verdict) in table {
            assert_eq!(classify(*outcome), *verdict, "{outcome:?}");
        }
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_cap() {
        assert_eq!(backoff(2, 0.0), Duration::ZERO);
        assert_eq!(backoff(2, 0.5), Duration::from_millis(50));
        assert_eq!(backoff(3, 0.5), Duration::from_millis(100));
        assert_eq!(backoff(4, 0.999_999), Duration::from_millis(400).mul_f64(0.999_999));
        // The cap: 20 s, however many attempts.
        assert_eq!(backoff(12, 0.5), Duration::from_secs(10));
        assert_eq!(backoff(u32::MAX, 0.5), Duration::from_secs(10));
        assert_eq!(backoff(2, 7.0), Duration::from_millis(100), "unit is clamped");
        assert_eq!(backoff(2, -1.0), Duration::ZERO);
        assert_eq!(backoff(2, f64::NAN), Duration::ZERO);
    }

    #[test]
    fn retries_stop_at_the_limit_and_for_bodies_that_cannot_be_replayed() {
        assert!(may_retry(Verdict::Retry, 1, 3, true));
        assert!(may_retry(Verdict::Skewed, 2, 3, true));
        assert!(!may_retry(Verdict::Retry, 3, 3, true));
        assert!(!may_retry(Verdict::Retry, 1, 3, false));
        assert!(!may_retry(Verdict::Stop, 1, 3, true));
        assert!(!may_retry(Verdict::Retry, 1, 1, true));
    }
}
