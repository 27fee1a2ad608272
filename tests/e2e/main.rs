//! The one integration-test binary (each extra binary would re-link the AWS SDK).
//! Every module shares one emulator; each test uses its own emulated account.

mod faults;
mod fixtures;
mod pagination;
mod reference;
mod scan;
mod util;
