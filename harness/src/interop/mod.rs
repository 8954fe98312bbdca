//! Interop sessions between two real implementations, dicetest on the path as a relay that
//! impairs the datagrams and watches with the shared PSK (ETSI plugtest monitoring).

pub mod coap_seen;
pub mod judge;
pub mod model;
pub mod plan;
pub mod relay;
pub mod session;
pub mod suite_seen;

pub use judge::{Check, Judgement};
pub use model::{load_interop_dir, load_interop_str, AbleToFail, InteropCase};
pub use session::{run_session, run_session_judged};
