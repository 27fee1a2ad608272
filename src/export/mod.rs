//! Where findings go besides the report files (the Prometheus side is [`crate::exporter`]):
//! [`security_hub`], each account's findings in its own Security Hub; [`s3`], each scan's
//! findings as objects in a bucket.

pub mod s3;
pub mod security_hub;
