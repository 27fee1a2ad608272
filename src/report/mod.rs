//! What a scan prints. Until the policy engine judges the snapshot, that is an inventory.

pub mod inventory;
