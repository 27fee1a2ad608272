//! The one integration-test binary (each extra binary would re-link the AWS SDK).
//! Every module shares one emulator; each test uses its own emulated account.

// Test support code: a failed fixture step should stop the test right there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod attribution;
mod browser;
mod cli;
mod contracts;
mod corpus;
mod crash;
mod daemon;
mod deploy;
mod diff;
mod endpoint;
mod faults;
mod fidelity;
mod findings;
mod fixtures;
mod pagination;
mod pressure;
mod proxy;
mod reference;
mod report;
mod s3_export;
mod scan;
mod security_hub;
mod teardown;
mod util;
