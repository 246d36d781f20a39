//! App Store lookup results (`https://itunes.apple.com/cn/lookup?id=…`): the app is an account of
//! platform `app` (seller as its certification), and its current version's release an update.

use serde_json::Value as Json;

use super::{JsonExt, Out, opt_str, row};
use crate::import::quirks::parse_export_time;
use crate::record::{FieldError, Value};
use crate::schema::{ACCOUNTS, POSTS};

/// One element of `results`: the account row, and the current version as a post (so the
/// update cadence sees app releases).
pub fn lookup_result(app: &Json) -> Vec<Out> {
    let Some(track_id) = app.text("trackId") else {
        return vec![Out::Bad(
            Some(&ACCOUNTS),
            FieldError::new("account_id", "missing `trackId`"),
        )];
    };
    let Some(name) = app.text("trackName") else {
        return vec![Out::Bad(
            Some(&ACCOUNTS),
            FieldError::new("name", "missing `trackName`"),
        )];
    };
    let account_id = format!("app:{track_id}");
    let mut out = vec![Out::Row(
        &ACCOUNTS,
        row(
            &ACCOUNTS,
            vec![
                ("account_id", Value::Str(account_id.clone())),
                ("platform", Value::Str("app".into())),
                ("name", Value::Str(name)),
                ("account_kind", Value::Str("app".into())),
                (
                    "certification",
                    opt_str(app.text("sellerName").or_else(|| app.text("artistName"))),
                ),
                ("url", opt_str(app.text("trackViewUrl"))),
            ],
        ),
    )];
    if let (Some(version), Some(released)) =
        (app.text("version"), app.text("currentVersionReleaseDate"))
    {
        match parse_export_time(&released) {
            Ok(at) => out.push(Out::Derived(
                &POSTS,
                row(
                    &POSTS,
                    vec![
                        ("account_id", Value::Str(account_id)),
                        ("post_id", Value::Str(format!("version-{version}"))),
                        ("published_at", Value::Time(at)),
                        ("title", Value::Str(format!("版本 {version}"))),
                        ("text", opt_str(app.text("releaseNotes"))),
                        ("url", opt_str(app.text("trackViewUrl"))),
                        ("position", Value::Int(0)),
                    ],
                ),
            )),
            Err(e) => out.push(Out::Bad(Some(&POSTS), FieldError::new("published_at", e))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_app_becomes_an_account_and_its_release_an_update() {
        let outs = lookup_result(&json!({"trackId": 1400000026, "trackName": "某市政务服务",
            "sellerName": "某市大数据管理局", "version": "3.2.1",
            "currentVersionReleaseDate": "2025-11-02T07:00:00Z", "releaseNotes": "修复已知问题",
            "trackViewUrl": "https://apps.apple.com/cn/app/id1400000026"}));
        assert_eq!(outs.len(), 2);
        let Out::Row(_, account) = &outs[0] else {
            panic!()
        };
        assert_eq!(
            account[ACCOUNTS.index_of("certification").unwrap()],
            Value::Str("某市大数据管理局".into())
        );
        let Out::Derived(_, post) = &outs[1] else {
            panic!()
        };
        assert_eq!(
            post[POSTS.index_of("post_id").unwrap()],
            Value::Str("version-3.2.1".into())
        );
        assert!(matches!(
            &lookup_result(&json!({"trackName": "x"}))[0],
            Out::Bad(..)
        ));
    }
}
