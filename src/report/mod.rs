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
pub mod tally;
#[cfg(test)]
pub(crate) mod test_fixtures;

pub use findings::{Finding, Outcome, Report, Status};

/// The one writer of a findings report, in any format; `color` styles the table for a
/// terminal. JSON, the largest, is serialised straight to `w`.
pub fn write(
    report: &Report,
    format: crate::vocab::ReportFormat,
    color: bool,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use crate::vocab::ReportFormat;
    let text = match format {
        ReportFormat::Json => return report.write_json(w),
        ReportFormat::Ocsf => ocsf::render(report),
        ReportFormat::Asff => asff::render(report),
        ReportFormat::Table => table::render(report, color),
    };
    w.write_all(text.as_bytes())
}
