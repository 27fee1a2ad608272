//! What a scan prints: the findings report (JSON, OCSF, ASFF or a terminal table) or the
//! snapshot's inventory.

pub mod asff;
pub mod changes;
pub mod compliance;
pub mod files;
pub mod findings;
pub mod graph;
pub mod history;
pub mod html;
pub mod inventory;
pub mod ocsf;
pub mod parquet;
pub mod table;
pub mod tally;
#[cfg(test)]
pub(crate) mod test_fixtures;

pub use findings::{Finding, Outcome, Report, Status};

/// The region a finding is reported in where a format needs a real one (ASFF's `Region`,
/// OCSF's `cloud.region`): its own, or for global resources (IAM, whose findings say
/// `global`) the first region the scan covered.
pub(crate) fn home_region<'a>(report: &'a Report, finding: &'a Finding) -> &'a str {
    if finding.region != crate::vocab::GLOBAL {
        return &finding.region;
    }
    report
        .scan
        .regions
        .first()
        .map_or("us-east-1", String::as_str)
}

/// The one writer of a findings report, in any format; `color` styles the table for a
/// terminal. JSON, the largest, is serialised straight to `w`. `graph`, the domain graph of the judged snapshot, fills the HTML page's domain view.
pub fn write(
    report: &Report,
    format: crate::vocab::ReportFormat,
    color: bool,
    graph: Option<&graph::Graph>,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use crate::vocab::ReportFormat;
    let text = match format {
        ReportFormat::Json => return report.write_json(w),
        ReportFormat::Ocsf => ocsf::render(report),
        ReportFormat::Asff => asff::render(report),
        ReportFormat::Table => table::render(report, color),
        ReportFormat::Html => html::render(
            report,
            html::Page {
                graph,
                ..Default::default()
            },
        ),
    };
    w.write_all(text.as_bytes())
}
