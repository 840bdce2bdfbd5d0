//! Detection: which rules match which events.
//!
//! [`WindowsDetector`] routes each event by channel and EventID to the rules
//! whose logsource selects it, searches the values of the fields the
//! route's rules name for their literals (see `vigil_sigma::needles` and
//! `grams`), and evaluates only the rules whose literals occur, with
//! Vigil's compiled evaluator (rsigma's for the forms it does not cover).
//! [`scan`] runs a detector over files in parallel; [`correlate`] runs
//! Sigma correlation rules over the hits in time order.
//!
//! Pure: no clock, no storage, no printing. Results are pushed to the
//! caller.

mod adapter;
pub mod compiled;
pub mod correlate;
mod grams;
mod index;
mod literals;
mod memo;
mod route;
pub mod scan;
pub mod stream;
mod windows;

pub use adapter::Doc;
pub use windows::{Hit, Scratch, WindowsDetector, WindowsOptions};

use vigil_formats::FlatEvent;

/// Something that finds rule matches in one event.
pub trait Detector: Send + Sync {
    /// Push every match of `event` to `out`, in rule order. `scratch` is
    /// per-thread working memory, reused across events.
    fn detect(&self, event: &FlatEvent, scratch: &mut Scratch, out: &mut Vec<Hit>);

    /// [`Detector::detect`] over a batch, in order: `each` gets each
    /// event's index and matches. While one event is evaluated the memory
    /// of the next is being loaded ([`FlatEvent::prefetch`]), so over a
    /// batch no longer in the CPU's caches (decoded a while before) this
    /// is faster than a loop of `detect`.
    fn detect_each(
        &self,
        events: &[FlatEvent],
        scratch: &mut Scratch,
        out: &mut Vec<Hit>,
        mut each: impl FnMut(usize, &[Hit]),
    ) where
        Self: Sized,
    {
        for (i, event) in events.iter().enumerate() {
            if let Some(next) = events.get(i + PREFETCH_AHEAD) {
                next.prefetch();
            }
            self.detect(event, scratch, out);
            each(i, out);
        }
    }
}

/// How many events ahead [`Detector::detect_each`] prefetches.
const PREFETCH_AHEAD: usize = 1;
