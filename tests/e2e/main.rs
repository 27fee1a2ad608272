//! The one integration-test binary (each extra binary would re-link the AWS SDK).
//! Every module shares one emulator; each test uses its own emulated account.

mod fixtures;
mod reference;
mod scan;
mod util;
