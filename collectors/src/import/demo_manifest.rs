//! The manifest `govmedia demo` writes beside its archive: it describes the archive (seed,
//! as_of, planted cases) and holds no records, so importing a demo folder reads it as empty.

use super::{Format, RecordSink, SourceFile};
use crate::Error;
use crate::demo::MANIFEST_FILE;

pub struct DemoManifest;

impl Format for DemoManifest {
    fn name(&self) -> &'static str {
        "demo-manifest"
    }

    fn description(&self) -> &'static str {
        "demo-manifest.json written by `govmedia demo` (describes the archive; no records)"
    }

    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        file.file_name() == MANIFEST_FILE
            && String::from_utf8_lossy(head).contains("\"govmedia_demo\"")
    }

    fn read(&self, _file: &SourceFile, _sink: &mut RecordSink<'_>) -> Result<(), Error> {
        Ok(())
    }
}
