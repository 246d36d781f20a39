//! The app sources' JSON: App Store lookup responses and the pages of an app's own endpoint.

use super::{emit, for_each_json_record, head_text, is_json, modified_ms, read_document};
use crate::Error;
use crate::import::{Format, RecordSink, SourceFile};
use crate::transform::{app_endpoint, appstore};

/// Pages of an app's own JSON endpoint, saved by `govmedia collect app` beside the field
/// mapping (`app-endpoint.json`) that says how their elements become rows.
pub struct AppEndpointJson;

impl AppEndpointJson {
    fn mapping_path(file: &SourceFile) -> Option<std::path::PathBuf> {
        let path = file.path.parent()?.join(app_endpoint::MAPPING_FILE);
        path.is_file().then_some(path)
    }
}

impl Format for AppEndpointJson {
    fn name(&self) -> &'static str {
        "app-endpoint-json"
    }
    fn description(&self) -> &'static str {
        "pages of an app's own JSON endpoint, in a folder with its field mapping (app-endpoint.json)"
    }
    fn detect(&self, file: &SourceFile, _head: &[u8]) -> bool {
        is_json(file) && Self::mapping_path(file).is_some()
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        if file.file_name() == app_endpoint::MAPPING_FILE {
            sink.note("the field mapping of the pages beside it".into());
            return Ok(());
        }
        let mapping_path = Self::mapping_path(file).ok_or_else(|| {
            Error::Input(format!(
                "{}: no {} beside it",
                file.display(),
                app_endpoint::MAPPING_FILE
            ))
        })?;
        let text =
            std::fs::read_to_string(&mapping_path).map_err(|e| Error::io(&mapping_path, e))?;
        let mapping: app_endpoint::Mapping = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{}: {e}", mapping_path.display())))?;
        let spec = mapping
            .check()
            .map_err(|e| Error::Input(format!("{}: {e}", mapping_path.display())))?;
        let (_, doc) = read_document(file, sink)?;
        let Some(list) = mapping.list(&doc) else {
            return Err(Error::Input(format!(
                "{}: no list at {:?} (the mapping's `list`)",
                file.display(),
                mapping.list
            )));
        };
        let collected = modified_ms(file);
        if spec.name == "menus" {
            sink.note("menu snapshot time taken from the file's modification time".into());
        }
        for (i, element) in list.iter().enumerate() {
            let raw = element.to_string();
            let out = app_endpoint::element(&mapping, spec, element, collected);
            emit(sink, vec![out], i as u64 + 1, &raw);
        }
        Ok(())
    }
}

/// App Store lookup responses (`{resultCount, results:[…]}`).
pub struct AppStoreLookup;

impl Format for AppStoreLookup {
    fn name(&self) -> &'static str {
        "appstore-lookup"
    }
    fn description(&self) -> &'static str {
        "App Store lookup response ({resultCount, results:[{trackId, trackName, sellerName…}]})"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        is_json(file) && h.contains("\"resultCount\"")
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        for_each_json_record(file, sink, Some("results"), |sink, app, _, n, raw| {
            emit(sink, appstore::lookup_result(app), n, raw);
        })
    }
}
