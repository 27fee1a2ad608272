//! OCSF Compliance Finding events as Parquet, the format an Amazon Security Lake custom source
//! takes: one OCSF class per object (2003 here), records sorted by time, zstd compression
//! (what Security Lake prefers), one row group per object (a scan's findings of one account
//! and region stay far below the 256 MB limit).
//! <https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html>
//!
//! The events are [`crate::report::ocsf::event`]'s, written column by column under a fixed
//! schema ([`SCHEMA`]): each leaf column's values with their definition and repetition
//! levels (the Dremel encoding: <https://parquet.apache.org/docs/file-format/nested-encoding/>).
//! OCSF's free-form attributes (`resource.data`, `unmapped.waiver`, `unmapped.attribution`)
//! are JSON text in `JSON`-annotated columns, as Security Lake's own tables keep `json_t`.

use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, DataType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::types::{ColumnDescriptor, Type, TypePtr};
use serde_json::Value;

use crate::report::{Finding, Report};

/// The schema of OCSF 1.1.0's Compliance Finding (class 2003) as this program fills it.
pub const SCHEMA: &str = "
message compliance_finding {
  required int32 class_uid;
  required binary class_name (STRING);
  required int32 category_uid;
  required binary category_name (STRING);
  required int32 activity_id;
  required binary activity_name (STRING);
  required int64 type_uid;
  required binary type_name (STRING);
  required int64 time (TIMESTAMP(MILLIS,true));
  required int32 severity_id;
  required binary severity (STRING);
  required int32 status_id;
  required binary status (STRING);
  optional binary message (STRING);
  required group metadata {
    required binary version (STRING);
    optional group profiles (LIST) {
      repeated group list {
        optional binary element (STRING);
      }
    }
    required binary uid (STRING);
    optional binary event_code (STRING);
    required group product {
      required binary name (STRING);
      required binary vendor_name (STRING);
      optional binary version (STRING);
    }
  }
  required group finding_info {
    required binary uid (STRING);
    required binary title (STRING);
    optional binary desc (STRING);
    optional group types (LIST) {
      repeated group list {
        optional binary element (STRING);
      }
    }
    optional int64 first_seen_time (TIMESTAMP(MILLIS,true));
    optional int64 last_seen_time (TIMESTAMP(MILLIS,true));
  }
  required group compliance {
    optional binary control (STRING);
    optional int32 status_id;
    optional binary status (STRING);
    optional binary status_detail (STRING);
    optional group standards (LIST) {
      repeated group list {
        optional binary element (STRING);
      }
    }
    optional group requirements (LIST) {
      repeated group list {
        optional binary element (STRING);
      }
    }
  }
  required group cloud {
    required binary provider (STRING);
    optional binary region (STRING);
    optional group account {
      optional binary uid (STRING);
      optional binary type (STRING);
      optional int32 type_id;
    }
  }
  required group resource {
    optional binary uid (STRING);
    optional binary type (STRING);
    optional binary region (STRING);
    optional binary data (JSON);
  }
  optional group remediation {
    optional binary desc (STRING);
  }
  optional group unmapped {
    optional binary domain_id (STRING);
    optional binary waiver (JSON);
    optional binary attribution (JSON);
    optional binary scan_id (STRING);
  }
}
";

/// [`SCHEMA`], parsed (a unit test parses it, so the error is never seen in practice).
fn schema() -> Result<TypePtr, String> {
    parquet::schema::parser::parse_message_type(SCHEMA)
        .map(Arc::new)
        .map_err(|e| format!("the OCSF Parquet schema: {e}"))
}

/// One leaf column: its non-null values (borrowed from the events) and every entry's levels.
#[derive(Default)]
struct Shredded<'e> {
    values: Vec<&'e Value>,
    def: Vec<i16>,
    rep: Vec<i16>,
}

/// The path of a leaf column from the root: each node with the JSON key it reads (`None`
/// for a LIST's `list` and `element`, which read the array and its items).
fn nodes_of<'a>(
    root: &'a Type,
    column: &ColumnDescriptor,
) -> Result<Vec<(&'a Type, Option<&'a str>)>, String> {
    let mut out = Vec::new();
    let mut node = root;
    let mut in_list = 0;
    for part in column.path().parts() {
        let child = node
            .get_fields()
            .iter()
            .find(|f| f.name() == part)
            .ok_or_else(|| format!("{}: not in the schema", column.path()))?;
        let key = if in_list > 0 {
            in_list -= 1;
            None
        } else {
            Some(child.name())
        };
        if matches!(
            child.get_basic_info().logical_type_ref(),
            Some(LogicalType::List)
        ) {
            // `list` reads the array itself, `element` each item.
            in_list = 2;
        }
        out.push((child.as_ref(), key));
        node = child;
    }
    Ok(out)
}

/// Appends one record's entries of a leaf column: Dremel's shredding of `value` (the value
/// at the parent of `path[0]`) along `path`.
fn shred<'e>(
    path: &[(&Type, Option<&str>)],
    value: Option<&'e Value>,
    def: i16,
    rep: i16,
    rep_depth: i16,
    out: &mut Shredded<'e>,
    column: &str,
) -> Result<(), String> {
    let Some(((node, key), rest)) = path.split_first() else {
        // The leaf's value, present: the column's maximum definition level.
        let v = value.ok_or_else(|| format!("{column}: no value at a required leaf"))?;
        out.values.push(v);
        out.def.push(def);
        out.rep.push(rep);
        return Ok(());
    };
    let here = match key {
        Some(k) => value.and_then(|v| v.get(*k)),
        None => value,
    };
    let here = here.filter(|v| !v.is_null());
    match node.get_basic_info().repetition() {
        Repetition::REQUIRED => {
            if here.is_none() {
                return Err(format!("{column}: required {} is missing", node.name()));
            }
            shred(rest, here, def, rep, rep_depth, out, column)
        }
        Repetition::OPTIONAL => match here {
            None => {
                out.def.push(def);
                out.rep.push(rep);
                Ok(())
            }
            Some(v) => shred(rest, Some(v), def + 1, rep, rep_depth, out, column),
        },
        Repetition::REPEATED => {
            let items = here
                .map(|v| {
                    v.as_array()
                        .ok_or_else(|| format!("{column}: {} is not an array", node.name()))
                })
                .transpose()?
                .map(Vec::as_slice)
                .unwrap_or_default();
            if items.is_empty() {
                out.def.push(def);
                out.rep.push(rep);
                return Ok(());
            }
            for (i, item) in items.iter().enumerate() {
                let r = if i == 0 { rep } else { rep_depth + 1 };
                shred(rest, Some(item), def + 1, r, rep_depth + 1, out, column)?;
            }
            Ok(())
        }
    }
}

/// The Parquet file of these findings' OCSF events, sorted by event time (then finding id).
pub fn ocsf_events(report: &Report, findings: &[&Finding]) -> Result<Vec<u8>, String> {
    let mut events: Vec<Value> = findings
        .iter()
        .map(|f| crate::report::ocsf::event(report, f))
        .collect();
    in_time_order(&mut events);
    write(&events)
}

/// Events by time, then finding id: the order Security Lake wants within an object.
fn in_time_order(events: &mut [Value]) {
    events.sort_by(|a, b| {
        (a["time"].as_i64(), a["metadata"]["uid"].as_str())
            .cmp(&(b["time"].as_i64(), b["metadata"]["uid"].as_str()))
    });
}

/// Writes a leaf column's values, each converted to the column's physical type (`None`:
/// the value is not of it, an error naming the column and `what` it should be).
fn write_column<T: DataType>(
    w: &mut SerializedColumnWriter<'_>,
    shredded: &Shredded<'_>,
    def: Option<&[i16]>,
    rep: Option<&[i16]>,
    name: &str,
    what: &str,
    convert: impl Fn(&Value) -> Option<T::T>,
) -> Result<(), String> {
    let values = shredded
        .values
        .iter()
        .map(|v| convert(v).ok_or_else(|| format!("{name}: {v} is not {what}")))
        .collect::<Result<Vec<_>, _>>()?;
    w.typed::<T>()
        .write_batch(&values, def, rep)
        .map_err(|e| e.to_string())
        .map(drop)
}

/// Writes OCSF events (JSON values shaped as [`SCHEMA`] says) as one Parquet row group.
pub fn write(events: &[Value]) -> Result<Vec<u8>, String> {
    let root = schema()?;
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_created_by(format!("sagemaker-auditor {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let err = |e: parquet::errors::ParquetError| e.to_string();
    let mut writer = SerializedFileWriter::new(Vec::new(), root.clone(), props).map_err(err)?;
    let columns: Vec<_> = writer.schema_descr().columns().to_vec();
    let mut group = writer.next_row_group().map_err(err)?;
    for column in &columns {
        let name = column.path().string();
        let path = nodes_of(&root, column)?;
        let mut shredded = Shredded::default();
        for event in events {
            shred(&path, Some(event), 0, 0, 0, &mut shredded, &name)?;
        }
        let def = (column.max_def_level() > 0).then_some(shredded.def.as_slice());
        let rep = (column.max_rep_level() > 0).then_some(shredded.rep.as_slice());
        let mut w = group
            .next_column()
            .map_err(err)?
            .ok_or_else(|| format!("{name}: the writer has fewer columns than the schema"))?;
        let leaf = path
            .last()
            .ok_or_else(|| format!("{name}: an empty path"))?
            .0;
        let json = matches!(
            leaf.get_basic_info().logical_type_ref(),
            Some(LogicalType::Json)
        );
        match column.physical_type() {
            Physical::BYTE_ARRAY => write_column::<ByteArrayType>(
                &mut w,
                &shredded,
                def,
                rep,
                &name,
                "a string",
                |v| match v {
                    _ if json => Some(ByteArray::from(v.to_string().into_bytes())),
                    Value::String(s) => Some(ByteArray::from(s.as_str())),
                    _ => None,
                },
            )?,
            Physical::INT32 => write_column::<Int32Type>(
                &mut w,
                &shredded,
                def,
                rep,
                &name,
                "a 32-bit integer",
                |v| v.as_i64().and_then(|n| i32::try_from(n).ok()),
            )?,
            Physical::INT64 => write_column::<Int64Type>(
                &mut w,
                &shredded,
                def,
                rep,
                &name,
                "an integer",
                Value::as_i64,
            )?,
            other => return Err(format!("{name}: no writer for {other}")),
        }
        w.close().map_err(err)?;
    }
    group.close().map_err(err)?;
    writer.into_inner().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    /// Reads a file back as JSON rows (timestamps as the reader prints them).
    fn rows(bytes: Vec<u8>) -> Vec<Value> {
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_json_value())
            .collect()
    }

    /// What the reader gives back for an event: JSON-annotated columns as text, timestamps as
    /// the reader's UTC text, absent optional fields as null.
    fn expected(event: &Value) -> Value {
        let mut e = event.clone();
        let ts = |v: &Value| {
            Value::String(
                chrono::DateTime::from_timestamp_millis(v.as_i64().unwrap())
                    .unwrap()
                    .format("%Y-%m-%d %H:%M:%S%.3f %:z")
                    .to_string(),
            )
        };
        e["time"] = ts(&e["time"]);
        for k in ["first_seen_time", "last_seen_time"] {
            e["finding_info"][k] = ts(&e["finding_info"][k]);
        }
        e["resource"]["data"] = Value::String(e["resource"]["data"].to_string());
        if e["resource"].get("region").is_none() {
            e["resource"]["region"] = Value::Null;
        }
        for k in ["waiver", "attribution"] {
            let v = &e["unmapped"][k];
            e["unmapped"][k] = if v.is_null() {
                Value::Null
            } else {
                Value::String(v.to_string())
            };
        }
        e
    }

    #[test]
    fn the_example_reports_events_read_back_as_written() {
        let snapshot =
            crate::snapshot::Snapshot::load(std::path::Path::new("examples/snapshot.json"))
                .unwrap();
        let config = crate::config::Config::default();
        let judge = crate::pipeline::Judge::load(&config, &[]).unwrap();
        let mut report = judge.report(&snapshot, &config, chrono::Utc::now().date_naive());
        // A waiver and an attribution on one finding: the JSON columns hold objects.
        report.findings[0].waiver = Some(Box::new(crate::report::findings::AppliedWaiver {
            reason: "ticket OPS-1".into(),
            expires: "2027-01-01".parse().unwrap(),
            resource: "*".into(),
        }));
        report.findings[0].attribution =
            Some(Box::new(serde_json::json!({"event_name": "UpdateDomain"})));
        let findings: Vec<&Finding> = report.findings.iter().collect();
        let bytes = ocsf_events(&report, &findings).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        let back = rows(bytes);
        assert_eq!(back.len(), report.findings.len());
        let mut events: Vec<Value> = findings
            .iter()
            .map(|f| crate::report::ocsf::event(&report, f))
            .collect();
        in_time_order(&mut events);
        for (got, event) in back.iter().zip(&events) {
            assert_eq!(got, &expected(event));
        }
        // Every event has lists of more than one element somewhere.
        assert!(back.iter().any(|r| {
            r["compliance"]["requirements"]
                .as_array()
                .is_some_and(|a| a.len() > 1)
        }));
    }

    #[test]
    fn lists_empty_null_and_long_keep_their_shape() {
        let base = serde_json::json!({
            "class_uid": 2003, "class_name": "Compliance Finding", "category_uid": 2,
            "category_name": "Findings", "activity_id": 1, "activity_name": "Create",
            "type_uid": 200301, "type_name": "Compliance Finding: Create", "time": 0,
            "severity_id": 1, "severity": "Informational", "status_id": 1, "status": "New",
            "message": null,
            "metadata": {"version": "1.1.0", "profiles": ["cloud"], "uid": "a",
                "product": {"name": "p", "vendor_name": "v"}},
            "finding_info": {"uid": "a", "title": "t"},
            "compliance": {},
            "cloud": {"provider": "AWS"},
            "resource": {},
        });
        let mut events = Vec::new();
        for requirements in [
            serde_json::json!([]),
            Value::Null,
            serde_json::json!(["x", "y", "z"]),
        ] {
            let mut e = base.clone();
            e["compliance"]["requirements"] = requirements;
            events.push(e);
        }
        let back = rows(write(&events).unwrap());
        let got: Vec<&Value> = back
            .iter()
            .map(|r| &r["compliance"]["requirements"])
            .collect();
        // An empty list stays empty (the group defined, no element), a missing one null.
        assert_eq!(
            got,
            [
                &serde_json::json!([]),
                &Value::Null,
                &serde_json::json!(["x", "y", "z"])
            ]
        );
        // A required field missing is an error naming the column, not a corrupt file.
        let mut bad = base.clone();
        bad["metadata"].as_object_mut().unwrap().remove("uid");
        let err = write(&[bad]).unwrap_err();
        assert!(err.contains("metadata.uid"), "{err}");
    }
}
