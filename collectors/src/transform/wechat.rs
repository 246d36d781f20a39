//! WeChat Official Account API responses. Account identity and certification come from
//! `component/api_get_authorizer_info`; ids are open enums (an unknown service or verify type is
//! kept as its number).

use serde_json::Value as Json;

use super::{JsonExt, Out, opt_str, row};
use crate::record::{FieldError, Value};
use crate::schema::ACCOUNTS;

/// `api_get_authorizer_info` → the account: `user_name` (gh_…) as the id, `nick_name`,
/// `principal_name` (主体) as the certification, subscription or service by
/// `service_type_info.id` (2 = 服务号), verified when `verify_type_info.id` ≥ 0.
pub fn authorizer_info(doc: &Json) -> Vec<Out> {
    let Some(info) = doc.get("authorizer_info").filter(|v| v.is_object()) else {
        return vec![Out::Bad(
            Some(&ACCOUNTS),
            FieldError::new("account_id", "missing `authorizer_info`"),
        )];
    };
    let Some(user_name) = info.text("user_name") else {
        return vec![Out::Bad(
            Some(&ACCOUNTS),
            FieldError::new("account_id", "missing `user_name`"),
        )];
    };
    let Some(nick_name) = info.text("nick_name") else {
        return vec![Out::Bad(
            Some(&ACCOUNTS),
            FieldError::new("name", "missing `nick_name`"),
        )];
    };
    let service_type = info.get("service_type_info").and_then(|v| v.int("id"));
    let verify_type = info.get("verify_type_info").and_then(|v| v.int("id"));
    vec![Out::Row(
        &ACCOUNTS,
        row(
            &ACCOUNTS,
            vec![
                ("account_id", Value::Str(format!("wechat:{user_name}"))),
                ("platform", Value::Str("wechat".into())),
                ("name", Value::Str(nick_name)),
                (
                    "account_kind",
                    match service_type {
                        Some(2) => Value::Str("service".into()),
                        Some(_) => Value::Str("subscription".into()),
                        None => Value::Null,
                    },
                ),
                ("certification", opt_str(info.text("principal_name"))),
                (
                    "verified",
                    verify_type.map_or(Value::Null, |t| Value::Bool(t >= 0)),
                ),
                ("verified_type", verify_type.map_or(Value::Null, Value::Int)),
            ],
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn authorizer_info_gives_kind_certification_and_verification() {
        let outs = authorizer_info(
            &json!({"authorizer_info": {"nick_name": "某市发布", "user_name": "gh_abc123",
            "principal_name": "某市人民政府办公室", "service_type_info": {"id": 2}, "verify_type_info": {"id": 0}}}),
        );
        let Out::Row(_, a) = &outs[0] else { panic!() };
        let col = |n| ACCOUNTS.index_of(n).unwrap();
        assert_eq!(a[col("account_id")], Value::Str("wechat:gh_abc123".into()));
        assert_eq!(a[col("account_kind")], Value::Str("service".into()));
        assert_eq!(a[col("verified")], Value::Bool(true));
        let outs = authorizer_info(
            &json!({"authorizer_info": {"nick_name": "x", "user_name": "gh_1",
            "verify_type_info": {"id": -1}}}),
        );
        let Out::Row(_, a) = &outs[0] else { panic!() };
        assert_eq!(a[col("verified")], Value::Bool(false));
        assert_eq!(a[col("account_kind")], Value::Null, "unknown, not guessed");
    }
}
