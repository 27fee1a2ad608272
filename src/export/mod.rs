//! Where findings go besides the report files (the Prometheus side is [`crate::exporter`]):
//! [`security_hub`], each account's findings in its own Security Hub.

pub mod security_hub;
