//! Invocations that SIGTERM waits for (`LambdaRuntime.Shutdown`).
//!
//! The poller takes a `Mark` before it runs an invocation and gives it back
//! once the outcome is reported. The combined `/response` + `/next` call
//! gives it back early, as soon as Lambda accepted the response, because
//! its `/next` may then wait for minutes with nothing running. A mark is
//! counted once however often it is given back, and is given back when
//! dropped, so no path can count it twice or leak it.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

static IN_FLIGHT: AtomicI64 = AtomicI64::new(0);

/// One running invocation, counted until released.
pub struct Mark {
    released: AtomicBool,
}

impl Mark {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Mark {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        Mark {
            released: AtomicBool::new(false),
        }
    }

    /// Stops counting this invocation; later calls do nothing.
    pub fn release(&self) {
        if !self.released.swap(true, Ordering::SeqCst) {
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        self.release();
    }
}

/// Invocations marked and not yet released.
pub fn count() -> i64 {
    IN_FLIGHT.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The count is process-wide: this is the only test that takes marks.
    #[test]
    fn a_mark_counts_once_until_released_or_dropped() {
        let before = count();
        let a = Mark::new();
        let b = Mark::new();
        assert_eq!(count(), before + 2);
        a.release();
        a.release();
        assert_eq!(count(), before + 1);
        drop(a);
        assert_eq!(count(), before + 1);
        drop(b);
        assert_eq!(count(), before);
    }
}
