//! Loading what a walk over many alerts will read next while it works on
//! the current one.
//!
//! A listing writes alerts that sit all over the heap, in an order (by
//! fingerprint, by group) unrelated to where they were allocated: the first
//! read of an alert's labels (the silence check) missed the cache on the
//! alert and again on its text, a fifth of the group list's time. Asking
//! for the next alerts' lines ahead lets those loads overlap the current
//! alert's JSON.

use std::sync::Arc;

use crate::alert::Alert;

/// How many alerts ahead of the one being written its record is asked
/// for; its label texts are asked for one alert ahead, once the record
/// (which points at them) has arrived. Writing an alert takes about a
/// microsecond; 4 ahead measured no better than 2.
const DISTANCE: usize = 2;

/// Asks the CPU to bring the cache line holding `p` close. A hint: it never
/// faults, whatever `p` points at, and is nothing on other architectures.
#[inline(always)]
fn line<T: ?Sized>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch reads nothing the program sees and cannot
        // fault, even on an address that is not mapped.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Before alert `i` of `alerts` is written: starts loading alert
/// `i + DISTANCE` and the label texts of alert `i + DISTANCE / 2`.
#[inline]
pub fn ahead(alerts: &[Arc<Alert>], i: usize) {
    if let Some(a) = alerts.get(i + DISTANCE) {
        line(Arc::as_ptr(a));
    }
    if let Some(a) = alerts.get(i + DISTANCE / 2) {
        line(a.labels.as_ptr());
        line(a.annotations.as_ptr());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any index, up to and past the end, is a hint at most: nothing is
    /// read that is not there.
    #[test]
    fn asking_ahead_of_any_alert_is_harmless() {
        let alert = |name: &str| {
            Arc::new(Alert {
                labels: [("alertname", name)].into_iter().collect(),
                annotations: [("summary", name)].into_iter().collect(),
                starts_at: chrono::Utc::now(),
                ends_at: crate::alert::go_zero_time(),
                generator_url: "".into(),
                updated_at: chrono::Utc::now(),
                timeout: false,
                fingerprint_cache: Default::default(),
            })
        };
        for n in 0..4 {
            let alerts: Vec<_> = (0..n).map(|i| alert(&format!("A{i}"))).collect();
            for i in 0..n + 3 {
                ahead(&alerts, i);
            }
        }
    }
}
