//! Which format a file is in: the registry of [`Format`]s, detection by name, header row or
//! JSON keys (or `--format`), and saved API error answers named as what they are.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use super::*;
use crate::Error;
use crate::schema::{TABLES, TableSpec};

/// A file to import.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// How to name the file in reports when it came out of an archive (`a.zip!/posts.csv`).
    pub label: Option<String>,
    /// Why the file cannot be imported at all (e.g. a refused archive), reported per file.
    pub problem: Option<String>,
}

impl SourceFile {
    pub fn display(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| self.path.display().to_string())
    }

    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    }

    pub fn open(&self) -> Result<Box<dyn BufRead>, Error> {
        let file = fs::File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
    }

    /// The first bytes of the file, for detection by header row or JSON keys.
    pub fn head(&self) -> Result<Vec<u8>, Error> {
        use std::io::Read;
        let mut buf = Vec::with_capacity(4096);
        fs::File::open(&self.path)
            .and_then(|f| f.take(4096).read_to_end(&mut buf))
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(buf)
    }
}

/// A file format the importer understands.
pub trait Format: Sync {
    /// The name used by `--format` and in reports.
    fn name(&self) -> &'static str;
    /// One line for `govmedia import --list-formats`.
    fn description(&self) -> &'static str;
    /// Whether this format reads the file, from its name and first bytes.
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool;
    /// Reads every record of the file into the sink. An `Err` means the file as a whole could not
    /// be read (e.g. a required column is missing); record-level problems go to quarantine.
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error>;
}

/// Every format, in detection order.
pub fn formats() -> &'static [&'static dyn Format] {
    static FORMATS: [&dyn Format; 23] = [
        &CanonicalJsonl,
        &CanonicalCsv,
        &DemoManifest,
        &json::AppEndpointJson,
        &WeiboCrawlerPosts,
        &WeiboCrawlerUsers,
        &WeiboCrawlerComments,
        &weibo_spider::WeiboSpiderCsv,
        &weibo_search::WeiboSearchCsv,
        &json::WechatArticlesJson,
        &json::WechatHistoryJson,
        &json::WeiboCrawlerJson,
        &json::WeiboTimeline,
        &json::WeiboComments,
        &json::WeiboUser,
        &json::AppStoreLookup,
        &json::WechatAuthorizerInfo,
        &json::WechatPublished,
        &json::WechatComments,
        &json::WechatMenu,
        &json::WechatDatacube,
        &wechat_csv::WechatArticlesSpiderCsv,
        &wechat_xlsx::WechatArticleExporterXlsx,
    ];
    &FORMATS
}

pub fn format_by_name(name: &str) -> Option<&'static dyn Format> {
    formats().iter().copied().find(|f| f.name() == name)
}

/// The canonical table a file name designates: `posts.jsonl`, `posts-2024.csv`, `posts_1.jsonl`.
pub fn canonical_table_for(file_name: &str, extension: &str) -> Option<&'static TableSpec> {
    let lower = file_name.to_ascii_lowercase();
    let stem = lower.strip_suffix(&format!(".{extension}"))?;
    TABLES.iter().copied().find(|t| {
        stem == t.name
            || stem
                .strip_prefix(t.name)
                .is_some_and(|rest| rest.starts_with(['-', '_', '.']))
    })
}

pub(super) fn detect(
    file: &SourceFile,
    opts: &ImportOptions,
) -> Result<&'static dyn Format, Error> {
    if let Some(name) = &opts.format {
        return format_by_name(name).ok_or_else(|| {
            Error::Input(format!(
                "unknown format {name:?}; `govmedia import --list-formats` lists them"
            ))
        });
    }
    let head = file.head()?;
    formats()
        .iter()
        .copied()
        .find(|f| f.detect(file, &head))
        .ok_or_else(|| {
            if let Some(answer) = saved_error_answer(&head) {
                return Error::Input(format!(
                    "{}: a saved API error answer, not data: {answer}; collect that page again",
                    file.display()
                ));
            }
            let tables: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
            Error::Input(format!(
                "{}: format not recognised; expected a canonical table file named after its \
                 table ({}) with extension .jsonl or .csv, or use --format \
                 (see `govmedia import --list-formats`)",
                file.display(),
                tables.join(", ")
            ))
        })
}

/// What a saved platform error answer says (`WeChat errcode 48001: api unauthorized`), when the
/// file is one: WeChat and WeCom answer `errcode`/`errmsg`, Weibo `error_code`/`error`, others
/// `code`/`msg` with a non-zero code and no data.
pub(super) fn saved_error_answer(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    let value: serde_json::Value =
        serde_json::from_str(text.trim().trim_start_matches('\u{feff}')).ok()?;
    let object = value.as_object()?;
    let code = |key: &str| {
        object
            .get(key)
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
    };
    let text_of = |key: &str| {
        object
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("(no message)")
    };
    if let Some(c) = code("errcode").filter(|c| *c != 0) {
        return Some(format!("WeChat errcode {c}: {}", text_of("errmsg")));
    }
    if let Some(c) = code("error_code").filter(|c| *c != 0) {
        return Some(format!("Weibo error_code {c}: {}", text_of("error")));
    }
    if let Some(c) = code("code").filter(|c| *c != 0)
        && !object.contains_key("data")
    {
        return Some(format!("code {c}: {}", text_of("msg")));
    }
    None
}

#[cfg(test)]
mod saved_error_tests {
    use super::saved_error_answer;

    #[test]
    pub(super) fn saved_api_error_answers_are_named_as_what_they_are() {
        assert_eq!(
            saved_error_answer(br#"{"errcode":48001,"errmsg":"api unauthorized rid: 1"}"#)
                .as_deref(),
            Some("WeChat errcode 48001: api unauthorized rid: 1")
        );
        assert_eq!(
            saved_error_answer(
                br#"{"error":"expired_token","error_code":21327,"request":"/2/statuses/user_timeline.json"}"#
            )
            .as_deref(),
            Some("Weibo error_code 21327: expired_token")
        );
        assert_eq!(
            saved_error_answer(br#"{"errcode":0,"errmsg":"ok","item":[]}"#),
            None
        );
        assert_eq!(
            saved_error_answer(br#"{"code":0,"data":{"list":[]}}"#),
            None
        );
        assert_eq!(saved_error_answer(b"not json"), None);
    }
}
