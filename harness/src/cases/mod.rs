//! Test descriptions: the YAML case format (`model.rs`) and its strict loader (`load.rs`).

pub mod claims;
pub mod duration;
pub mod extensions;
pub mod fields;
pub mod load;
pub mod model;
pub mod needs;
pub mod schema;

pub use duration::DurationSpec;
pub use load::{load_case_file, load_suite_dir, parse_duration, LoadError, LoadedCase};
pub use model::{Case, DutRole, Expect, Level, Step};
