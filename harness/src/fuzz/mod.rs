//! `dicetest fuzz`: a campaign of structure-aware mutations of valid exchanges against a DUT.
//!
//! The campaign does not craft bytes of its own: it writes test descriptions. Each batch is
//! an ordinary [`Case`](crate::cases::Case) built from correct exchanges ([`exchange`]) with
//! a few mutations applied ([`mutate`]), followed by the expectations the RFC sets for what
//! was sent ([`oracle`]) and a liveness probe; the runner plays it exactly as it plays the
//! suite. A batch that fails is a finding: it is shrunk to the fewest exchanges and
//! mutations that still fail the same way ([`shrink`]) and written as a ready-to-run case
//! with its capture ([`reproducer`]). Everything is drawn from the seed, and against the
//! simulated board (virtual clock) the same seed gives the same findings.

pub mod campaign;
pub mod exchange;
pub mod mutate;
pub mod oracle;
pub mod reproducer;
pub mod rng;
pub mod shrink;

pub use campaign::{run_campaign, Budget, CampaignOptions, CampaignReport, Finding};
