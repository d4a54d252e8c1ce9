//! Waiting exactly as long as a device asked (bwPollTimeout), not longer.
//!
//! A system sleep wakes late: by tens of microseconds on a quiet Linux machine, by
//! 0.2-0.4 ms in the USB lab's emulated guest. A 2 KiB write on an STM32F407 asks for
//! 9 ms, so the 135 polls of a 256 KiB flash lost 50 ms there (docs/PERFORMANCE.md).
//! [`Waiter`] learns how late the system wakes, sleeps the part it can trust and yields
//! the processor for the rest. It never returns early.

use std::time::{Duration, Instant};

/// How late a sleep is assumed to wake before any has been measured.
const FIRST_GUESS: Duration = Duration::from_micros(500);
/// The most a wait may yield instead of sleeping: a system whose timer is coarser than
/// this (a 15.6 ms timer tick) wakes late rather than keeping a processor busy for long.
const MOST_YIELDED: Duration = Duration::from_millis(2);
/// Added to the lateness learned, for wake-ups a little later than usual.
const HEADROOM: Duration = Duration::from_micros(50);

/// Sleeps precisely, learning the system's wake-up lateness as it goes.
#[derive(Debug)]
pub struct Waiter {
    /// How late the system's sleep has been waking: rises at once, falls slowly.
    lateness: Duration,
}

impl Default for Waiter {
    fn default() -> Waiter {
        Waiter {
            lateness: FIRST_GUESS,
        }
    }
}

impl Waiter {
    /// Returns once `duration` has passed, and as soon after as the system allows.
    pub fn wait(&mut self, duration: Duration) {
        let start = Instant::now();
        let deadline = start + duration;
        let asleep = duration.saturating_sub(self.margin());
        if !asleep.is_zero() {
            std::thread::sleep(asleep);
            self.learn(start.elapsed().saturating_sub(asleep));
        }
        while Instant::now() < deadline {
            std::thread::yield_now();
        }
    }

    /// How long before the deadline the sleep ends and yielding begins.
    pub fn margin(&self) -> Duration {
        (self.lateness + HEADROOM).min(MOST_YIELDED)
    }

    /// Takes in how late one sleep woke: a later wake-up is believed at once, an earlier one
    /// moves the estimate an eighth of the way (one quick wake-up must not cause late ones).
    pub fn learn(&mut self, late: Duration) {
        self.lateness = if late >= self.lateness {
            late
        } else {
            self.lateness - (self.lateness - late) / 8
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_returns_before_the_time_asked() {
        let mut waiter = Waiter::default();
        for micros in [0, 50, 400, 900, 3_000, 9_000] {
            let asked = Duration::from_micros(micros);
            let start = Instant::now();
            waiter.wait(asked);
            assert!(
                start.elapsed() >= asked,
                "{asked:?} asked, {:?} waited",
                start.elapsed()
            );
        }
    }

    #[test]
    fn a_late_wake_up_widens_the_margin_at_once_and_early_ones_narrow_it_slowly() {
        let mut waiter = Waiter::default();
        waiter.learn(Duration::from_micros(900));
        assert_eq!(waiter.margin(), Duration::from_micros(950));
        waiter.learn(Duration::from_micros(100));
        assert_eq!(waiter.margin(), Duration::from_micros(950 - 100));
        for _ in 0..200 {
            waiter.learn(Duration::from_micros(100));
        }
        let settled = waiter.margin();
        assert!(settled >= Duration::from_micros(150) && settled < Duration::from_micros(151));
    }

    #[test]
    fn a_coarse_timer_is_not_made_up_for_by_spinning_long() {
        let mut waiter = Waiter::default();
        waiter.learn(Duration::from_micros(15_600));
        assert_eq!(waiter.margin(), MOST_YIELDED);
    }
}
