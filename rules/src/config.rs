//! The user's configuration (`govmedia.toml`, or `--config FILE`): rule selection, parameter
//! overrides and lexicon files to add or replace. Unknown rule codes, parameters or lexicons
//! are errors naming them.
//!
//! ```toml
//! select = ["UPD", "CNT", "INT"]
//! ignore = ["CNT005"]
//!
//! [params]
//! "UPD001.min_per_period" = 2       # 贵州 市州: at least twice a week
//! "INT.sla_working_days" = 5
//!
//! [lexicons]
//! ads = { add = ["local_ads.txt"] }
//! perfunctory = { replace = "our_phrases.txt" }
//!
//! calendar = "holidays.toml"        # replaces the official calendar (same format)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;
use crate::calendar::Calendar;
use crate::context::ParamValue;
use crate::engine::ParamSpec;
use crate::engine::Selection;
use crate::lexicon::Lexicons;
use crate::registry::registry;

#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub selection: Selection,
    pub params: BTreeMap<String, ParamValue>,
    pub lexicons: Lexicons,
    pub calendar: Calendar,
    /// Where the configuration came from, for messages.
    pub source: Option<PathBuf>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            selection: Selection::default(),
            params: BTreeMap::new(),
            lexicons: Lexicons::default(),
            calendar: Calendar::official(),
            source: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    select: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    lexicons: BTreeMap<String, LexiconChange>,
    calendar: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconChange {
    #[serde(default)]
    add: Vec<String>,
    replace: Option<String>,
}

/// Every parameter a rule declares, with its default.
pub fn known_params() -> BTreeMap<&'static str, &'static ParamSpec> {
    registry()
        .iter()
        .flat_map(|r| r.info().params.iter())
        .map(|p| (p.key, p))
        .collect()
}

impl AuditConfig {
    /// Reads a configuration file; relative lexicon and calendar paths are relative to it.
    pub fn load(path: &Path) -> Result<AuditConfig, Error> {
        let source = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::Config(format!("{source}: {e}")))?;
        let file: ConfigFile =
            toml::from_str(&text).map_err(|e| Error::Config(format!("{source}: {e}")))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let read = |rel: &str| -> Result<(String, String), Error> {
            let p = base.join(rel);
            let text = std::fs::read_to_string(&p).map_err(|e| {
                Error::Config(format!(
                    "{source}: lexicon or calendar file {}: {e}",
                    p.display()
                ))
            })?;
            Ok((text, p.display().to_string()))
        };

        let selection = Selection {
            select: file.select,
            ignore: file.ignore,
        };
        selection
            .validate()
            .map_err(|e| Error::Config(format!("{source}: {e}")))?;

        let known = known_params();
        let mut params = BTreeMap::new();
        for (key, value) in file.params {
            let Some(spec) = known.get(key.as_str()) else {
                return Err(Error::Config(format!(
                    "{source}: unknown parameter {key:?}; `govmedia rule CODE` lists each rule's parameters"
                )));
            };
            let parsed = match (&spec.default, value) {
                (ParamValue::Int(_), toml::Value::Integer(i)) => {
                    let (lo, hi) = spec.range;
                    if !(lo..=hi).contains(&i) {
                        return Err(Error::Config(format!(
                            "{source}: parameter {key:?} = {i} is out of range: it must be from {lo} to {hi} ({})",
                            spec.help
                        )));
                    }
                    ParamValue::Int(i)
                }
                (ParamValue::Bool(_), toml::Value::Boolean(b)) => ParamValue::Bool(b),
                (ParamValue::Int(_), other) => {
                    return Err(Error::Config(format!(
                        "{source}: parameter {key:?} must be an integer, got {other:?}"
                    )));
                }
                (ParamValue::Bool(_), other) => {
                    return Err(Error::Config(format!(
                        "{source}: parameter {key:?} must be true or false, got {other:?}"
                    )));
                }
            };
            params.insert(key, parsed);
        }

        let mut lexicons = Lexicons::default();
        for (name, change) in file.lexicons {
            if let Some(rel) = &change.replace {
                let (text, from) = read(rel)?;
                lexicons.set(&name, &text, true, &from)?;
            }
            for rel in &change.add {
                let (text, from) = read(rel)?;
                lexicons.set(&name, &text, false, &from)?;
            }
            if change.replace.is_none() && change.add.is_empty() {
                // Validates the name even when nothing is changed.
                lexicons.set(&name, "", false, &source)?;
            }
        }
        let calendar = match &file.calendar {
            Some(rel) => {
                let (text, from) = read(rel)?;
                Calendar::from_toml(&text, &from)?
            }
            None => Calendar::official(),
        };
        Ok(AuditConfig {
            selection,
            params,
            lexicons,
            calendar,
            source: Some(path.to_path_buf()),
        })
    }

    /// The value a parameter has under this configuration.
    pub fn param_value(&self, key: &str, default: &ParamValue) -> ParamValue {
        self.params
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_full_config_loads() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ads.txt", "# local\n本地特卖\n");
        write(dir.path(), "phrases.txt", "已阅\n");
        write(
            dir.path(),
            "labels.toml",
            "[[pattern]]\nlabel = \"政策解读\"\nname = \"local\"\ntitle = 3\nregex = '^政策一点通'\n",
        );
        let cfg = write(
            dir.path(),
            "govmedia.toml",
            r#"
select = ["UPD", "CNT"]
ignore = ["CNT005"]
[params]
"UPD001.min_per_period" = 2
"INT.sla_working_days" = 5
"UPD.count_reposts" = false
[lexicons]
ads = { add = ["ads.txt"] }
perfunctory = { replace = "phrases.txt" }
post_labels = { add = ["labels.toml"] }
"#,
        );
        let c = AuditConfig::load(&cfg).unwrap();
        let patterns = &c.lexicons.post_labels.patterns;
        assert_eq!(patterns.last().unwrap().name, "local");
        assert!(patterns.len() > 20, "the built-in patterns stay");
        assert_eq!(c.selection.select, ["UPD", "CNT"]);
        assert_eq!(c.params["UPD001.min_per_period"], ParamValue::Int(2));
        assert_eq!(c.params["UPD.count_reposts"], ParamValue::Bool(false));
        assert!(
            c.lexicons.ads.contains(&"本地特卖".to_string())
                && c.lexicons.ads.contains(&"限时抢购".to_string())
        );
        assert_eq!(c.lexicons.perfunctory, ["已阅"]);
    }

    #[test]
    fn every_parameter_default_is_inside_its_range() {
        for (key, spec) in known_params() {
            let (lo, hi) = spec.range;
            assert!(lo <= hi, "{key}");
            if let ParamValue::Int(d) = spec.default {
                assert!(
                    (lo..=hi).contains(&d),
                    "{key}: default {d} outside {lo}..={hi}"
                );
            }
        }
    }

    #[test]
    fn unknown_codes_parameters_and_lexicons_are_errors_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "bad.toml",
            "[[pattern]]\nlabel = \"ad\"\nname = \"broken\"\nbody = 2\nregex = '('\n",
        );
        for (text, needle) in [
            ("select = [\"XYZ\"]", "XYZ"),
            ("[params]\n\"UPD001.nope\" = 1", "UPD001.nope"),
            (
                "[params]\n\"UPD001.min_per_period\" = \"two\"",
                "must be an integer",
            ),
            (
                "[params]\n\"UPD002.days\" = 0",
                "parameter \"UPD002.days\" = 0 is out of range: it must be from 1 to 365",
            ),
            (
                "[params]\n\"UPD002.days\" = -5",
                "parameter \"UPD002.days\" = -5 is out of range",
            ),
            (
                "[params]\n\"INT.sla_working_days\" = 0",
                "\"INT.sla_working_days\" = 0 is out of range",
            ),
            ("[lexicons]\nmystery = { add = [] }", "mystery"),
            (
                "[lexicons]\npost_labels = { add = [\"bad.toml\"] }",
                "bad.toml: pattern 1 (\"broken\"): invalid regex",
            ),
            ("colour = \"red\"", "colour"),
        ] {
            let cfg = write(dir.path(), "govmedia.toml", text);
            let err = AuditConfig::load(&cfg).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
