//! When to refresh next: pure, the randomness passed in.

use std::time::Duration;

/// The first wait after a failure; it doubles with each failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// The longest wait a `Retry-After` may impose (a server asking for more
/// is asked again after this).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The wait before the next refresh: the interval, ±10 % (`jitter` in
/// `0.0..1.0` picks where), so that watchers started together do not ask
/// the API together. After `failures` failed refreshes in a row, a backoff
/// from 5 s doubling up to the interval (never below 5 s, even at interval
/// 0: a failing API is not hammered), jittered the same way, and never
/// less than the API's `Retry-After` (at most an hour).
pub(crate) fn next_wait(interval: Duration, failures: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let base = if failures == 0 {
        interval
    } else {
        let doubled = FIRST_BACKOFF.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)));
        doubled.min(interval.max(FIRST_BACKOFF))
    };
    let factor = 0.9 + 0.2 * jitter.clamp(0.0, 1.0);
    // No overflow panic whatever the interval: the builder caps it, and
    // this falls back to the unjittered wait regardless.
    let jittered = Duration::try_from_secs_f64(base.as_secs_f64() * factor).unwrap_or(base);
    match retry_after {
        Some(wait) => jittered.max(wait.min(MAX_RETRY_AFTER)),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn table() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        #[rustfmt::skip]
        let rows: &[(Duration, u32, Option<Duration>, f64, Duration)] = &[
            // interval, failures, retry-after, jitter -> wait
            (MIN, 0, None, 0.5, s(60)),
            (MIN, 0, None, 0.0, s(54)),
            (MIN, 0, None, 1.0, s(66)),
            (MIN, 0, None, 7.0, s(66)),             // out-of-range jitter is clamped
            (MIN, 1, None, 0.5, s(5)),
            (MIN, 2, None, 0.5, s(10)),
            (MIN, 4, None, 0.5, s(40)),
            (MIN, 5, None, 0.5, s(60)),             // capped at the interval
            (MIN, u32::MAX, None, 0.5, s(60)),      // no overflow
            (MIN, 1, Some(s(30)), 0.0, s(30)),      // Retry-After wins over a shorter backoff
            (MIN, 5, Some(s(30)), 0.5, s(60)),      // but never shortens the wait
            (MIN, 1, Some(s(7200)), 0.5, s(3600)),  // an hour at most
            (Duration::ZERO, 0, None, 0.5, Duration::ZERO),
            (Duration::ZERO, 3, None, 0.5, s(5)),          // a failure is never retried at once
            (Duration::MAX, 0, None, 1.0, Duration::MAX),  // no overflow
            (s(10), 3, None, 0.0, s(9)),
            (ms(1000), 1, None, 0.5, s(5)),
        ];
        for (i, &(interval, failures, retry_after, jitter, want)) in rows.iter().enumerate() {
            let got = next_wait(interval, failures, retry_after, jitter);
            assert!(got.abs_diff(want) < ms(1), "row {i}: got {got:?}, want {want:?}");
        }
    }
}
