//! Vigil's demo: a realistic story told as real telemetry.
//!
//! [`generate`] writes, from a seed and a "now", every record of a day at
//! Brightwater Logistics (a fictional customer) in the shapes real sources
//! send: Sysmon and Security events as `evtx_dump` writes them, Defender
//! events, Entra ID sign-in logs, the Microsoft 365 unified audit log,
//! CloudTrail, and Vigil's inventory snapshots. The story has ordinary
//! work, an administrator's routine that must not alarm, a password spray
//! that breaks into a mailbox, and a phishing mail that ends in
//! ransomware on six hosts (a major incident).
//!
//! [`seed`] sends it through a [`vigil_service::Service`] the way a shipper
//! would (an ingest key, the intake use case), with the built-in rule pack
//! and a few demo Sigma rules of our own for the endpoint stages
//! (`rules/`), runs detection and correlation, and returns the logins and
//! incidents. `vigil demo` serves the result; the portal's tests reuse it.
//! docs/demo.md tells the story and which rules fire.

pub mod estate;
pub mod records;
mod rng;
mod seed;
pub mod story;

pub use seed::{
    DEFAULT_SEED, DEMO_PACK, DemoError, DemoOptions, DemoWorld, Login, demo_rules, seed,
};
pub use story::{Chapter, Story, StoryEvent, generate};
