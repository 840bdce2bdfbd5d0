//! The story: every record the demo sends, generated from a seed and a
//! "now". Four chapters over the last eight hours (the inventory comes
//! first): ordinary work, an administrator's routine, an identity attack,
//! and a phishing mail that ends in ransomware. Pure: no clock, no IO.

mod admin;
mod background;
mod identity;
mod intrusion;
mod writer;

use jiff::Timestamp;

use crate::estate::Estate;
use crate::rng::Rng;

pub(crate) use writer::Writer;

/// Which part of the story a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Chapter {
    /// Device and identity inventory and posture snapshots.
    Inventory,
    /// People's everyday work on their devices, mail, files and cloud.
    Background,
    /// The IT team's routine administration: must raise nothing.
    Admin,
    /// Password spray, a stolen sign-in and a mailbox rule.
    Identity,
    /// Phishing mail to ransomware across several hosts.
    Intrusion,
}

impl Chapter {
    pub const ALL: [Chapter; 5] = [
        Chapter::Inventory,
        Chapter::Background,
        Chapter::Admin,
        Chapter::Identity,
        Chapter::Intrusion,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Chapter::Inventory => "inventory",
            Chapter::Background => "background",
            Chapter::Admin => "admin",
            Chapter::Identity => "identity",
            Chapter::Intrusion => "intrusion",
        }
    }
}

/// One record of the story: a JSON object as its source would send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryEvent {
    /// The record's own time.
    pub at: Timestamp,
    pub chapter: Chapter,
    /// The record, serialised (one line).
    pub json: String,
}

/// Every record of the story, in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub seed: u64,
    /// The instant the story ends just before (whole seconds).
    pub now: Timestamp,
    pub events: Vec<StoryEvent>,
}

impl Story {
    /// The records of these chapters, in time order.
    pub fn of<'a>(&'a self, chapters: &'a [Chapter]) -> impl Iterator<Item = &'a StoryEvent> {
        self.events
            .iter()
            .filter(move |e| chapters.contains(&e.chapter))
    }

    /// How many records a chapter has.
    pub fn count(&self, chapter: Chapter) -> usize {
        self.events.iter().filter(|e| e.chapter == chapter).count()
    }
}

/// The story for `seed`, ending just before `now`. The same seed and `now`
/// give the same records, byte for byte.
pub fn generate(seed: u64, now: Timestamp) -> Story {
    let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let estate = Estate::new();
    let root = Rng::new(seed);
    let mut events = Vec::new();
    for chapter in Chapter::ALL {
        let mut w = Writer::new(&estate, root.fork(chapter.as_str()), chapter, now);
        match chapter {
            Chapter::Inventory => background::inventory(&mut w),
            Chapter::Background => background::everyday(&mut w),
            Chapter::Admin => admin::routine(&mut w),
            Chapter::Identity => identity::spray_and_mailbox_rule(&mut w),
            Chapter::Intrusion => intrusion::phishing_to_ransomware(&mut w),
        }
        events.extend(w.finish());
    }
    // Time order, as a shipper forwards; the sort is stable, so records of
    // the same instant keep the order they were written in.
    events.sort_by_key(|e| e.at);
    Story { seed, now, events }
}
