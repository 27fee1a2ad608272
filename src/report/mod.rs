//! What a scan prints: the findings report (JSON, OCSF, ASFF or a terminal table) or the
//! snapshot's inventory.

pub mod asff;
pub mod changes;
pub mod compliance;
pub mod files;
pub mod findings;
pub mod history;
pub mod inventory;
pub mod ocsf;
pub mod table;
#[cfg(test)]
pub(crate) mod test_fixtures;

pub use findings::{Finding, Report, Status};
