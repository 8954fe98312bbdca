//! Devices under test: their profiles (data), the path to them (a [`link::Link`]), and the
//! processes dicetest starts for them.

pub mod engine_device;
pub mod flood;
pub mod link;
pub mod open;
pub mod process;
pub mod profile;
pub mod reference_board;
pub mod secret_file;

pub use link::{Link, SimDevice, SimLink, UdpLink, UdpServerLink};
pub use profile::{find_profile, load_all_profiles, Profile};
