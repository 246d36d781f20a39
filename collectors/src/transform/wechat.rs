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

/// The query parameters of an article link that identify it: `__biz` (the account), `mid` (the
/// mass-send message) and `idx` (1-based position).
pub fn link_ids(link: &str) -> (Option<String>, Option<String>, Option<i64>) {
    let Ok(url) = url::Url::parse(&link.replace("&amp;", "&")) else {
        return (None, None, None);
    };
    let get = |k: &str| {
        url.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.to_string())
            .filter(|v| !v.is_empty())
    };
    (
        get("__biz"),
        get("mid").or_else(|| get("appmsgid")),
        get("idx").and_then(|v| v.parse().ok()),
    )
}

/// The account id of an article when the archive has no gh_ id: `wechat:biz_<__biz>` (the
/// account's stable id in every article link).
pub fn biz_account_id(biz: &str) -> String {
    format!("wechat:biz_{}", biz.trim_end_matches('='))
}

/// One article of wechat-article-exporter's JSON (also wechat_articles_spider's dicts, which
/// use `read_num`, `like_num` (在看) and `old_like_num` (点赞)): the post, the account as a
/// derived row, and each comment with the account's first public reply.
pub fn exported_article(a: &Json, ctx: &super::Context) -> Vec<Out> {
    use super::{opt_bool, opt_int};
    use crate::schema::{COMMENTS, POSTS};
    let link = a
        .text("link")
        .or_else(|| a.text("url"))
        .or_else(|| a.text("content_url"));
    let (biz, mid, idx) = link.as_deref().map(link_ids).unwrap_or((None, None, None));
    let Some(biz) = biz.or_else(|| a.text("__biz")).or_else(|| a.text("biz")) else {
        return vec![Out::Bad(
            Some(&POSTS),
            FieldError::new(
                "account_id",
                "no `__biz` in the article link: cannot tell the account",
            ),
        )];
    };
    let account_id = biz_account_id(&biz);
    let msg = a.text("appmsgid").or(mid);
    let position = a.int("itemidx").or(idx).unwrap_or(1);
    let Some(msg) = msg.or_else(|| a.text("aid")) else {
        return vec![Out::Bad(
            Some(&POSTS),
            FieldError::new("post_id", "missing `appmsgid`/`aid`"),
        )];
    };
    let post_id = format!("{msg}_{position}");
    let published = a
        .int("create_time")
        .or_else(|| a.int("update_time"))
        .and_then(crate::time::unix_seconds_to_ms)
        .or_else(|| {
            a.text("date")
                .and_then(|d| crate::import::quirks::parse_export_time(&d).ok())
        });
    let Some(published) = published else {
        return vec![Out::Bad(
            Some(&POSTS),
            FieldError::new("published_at", "missing `create_time`/`update_time`"),
        )];
    };
    let content = a.text("content");
    let mut out = vec![Out::Row(
        &POSTS,
        row(
            &POSTS,
            vec![
                ("account_id", Value::Str(account_id.clone())),
                ("post_id", Value::Str(post_id.clone())),
                ("published_at", Value::Time(published)),
                ("title", opt_str(a.text("title"))),
                ("text", opt_str(a.text("digest"))),
                ("content_html", opt_str(content)),
                ("url", opt_str(link.clone())),
                ("position", Value::Int(position - 1)),
                ("is_deleted", opt_bool(a.flag("is_deleted"))),
                (
                    "read_count",
                    opt_int(a.int("readNum").or_else(|| a.int("read_num"))),
                ),
                (
                    "like_count",
                    opt_int(a.int("oldLikeNum").or_else(|| a.int("old_like_num"))),
                ),
                (
                    "watch_count",
                    opt_int(a.int("likeNum").or_else(|| a.int("like_num"))),
                ),
                ("share_count", opt_int(a.int("shareNum"))),
                ("comment_count", opt_int(a.int("commentNum"))),
            ],
        ),
    )];
    if let Some(name) = a.text("_accountName").or_else(|| a.text("nickname")) {
        out.push(Out::Derived(
            &ACCOUNTS,
            row(
                &ACCOUNTS,
                vec![
                    ("account_id", Value::Str(account_id.clone())),
                    ("platform", Value::Str("wechat".into())),
                    ("name", Value::Str(name)),
                ],
            ),
        ));
    }
    for c in a
        .get("comments")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let built = (|| -> Result<Vec<Value>, FieldError> {
            let id = c
                .text("content_id")
                .or_else(|| c.text("id"))
                .ok_or_else(|| FieldError::new("comment_id", "missing `content_id`"))?;
            let at = c
                .int("create_time")
                .and_then(crate::time::unix_seconds_to_ms)
                .ok_or_else(|| FieldError::new("created_at", "missing `create_time`"))?;
            let reply = c
                .get("reply_new")
                .and_then(|r| r.get("reply_list"))
                .and_then(Json::as_array)
                .and_then(|l| l.first());
            Ok(row(
                &COMMENTS,
                vec![
                    ("account_id", Value::Str(account_id.clone())),
                    ("post_id", Value::Str(post_id.clone())),
                    ("comment_id", Value::Str(id)),
                    ("created_at", Value::Time(at)),
                    ("content", opt_str(c.text("content"))),
                    ("author", (ctx.pseudonym)(c.text("nick_name").as_deref())),
                    ("is_elected", opt_bool(c.flag("is_elected"))),
                    (
                        "reply_content",
                        opt_str(reply.and_then(|r| r.text("content"))),
                    ),
                    (
                        "reply_at",
                        reply
                            .and_then(|r| r.int("create_time"))
                            .and_then(crate::time::unix_seconds_to_ms)
                            .map_or(Value::Null, Value::Time),
                    ),
                ],
            ))
        })();
        out.push(match built {
            Ok(values) => Out::Row(&COMMENTS, values),
            Err(e) => Out::Bad(Some(&COMMENTS), e),
        });
    }
    out
}

#[cfg(test)]
mod article_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_exported_article_gives_its_post_account_and_comments_with_replies() {
        let ctx = super::super::Context {
            pseudonym: &|n: Option<&str>| n.map_or(Value::Null, |_| Value::Str("u_x".into())),
            collected_at: None,
        };
        let outs = exported_article(
            &json!({"aid": "2650000001_2", "appmsgid": 2650000001u64, "itemidx": 2, "title": "政策解读",
                "link": "https://mp.weixin.qq.com/s?__biz=MzA5NjAwMDAwMQ==&mid=2650000001&idx=2&sn=abc",
                "create_time": 1709256600, "_accountName": "某市发布", "readNum": 100001, "oldLikeNum": 5,
                "likeNum": 2, "shareNum": 7, "comments": [
                    {"content_id": "c1", "content": "请问？", "create_time": 1709260000, "nick_name": "张三",
                     "is_elected": 1, "reply_new": {"reply_list": [{"content": "您好", "create_time": 1709263600}]}},
                    {"content_id": "c2", "content": "无时间"}]}),
            &ctx,
        );
        let Out::Row(_, post) = &outs[0] else {
            panic!()
        };
        let p = |n| crate::schema::POSTS.index_of(n).unwrap();
        assert_eq!(
            post[p("account_id")],
            Value::Str("wechat:biz_MzA5NjAwMDAwMQ".into())
        );
        assert_eq!(post[p("post_id")], Value::Str("2650000001_2".into()));
        assert_eq!(post[p("position")], Value::Int(1));
        assert_eq!(post[p("watch_count")], Value::Int(2));
        assert!(matches!(&outs[1], Out::Derived(t, _) if t.name == "accounts"));
        let Out::Row(_, c) = &outs[2] else { panic!() };
        let k = |n| crate::schema::COMMENTS.index_of(n).unwrap();
        assert_eq!(c[k("reply_content")], Value::Str("您好".into()));
        assert_eq!(c[k("author")], Value::Str("u_x".into()));
        assert!(matches!(&outs[3], Out::Bad(_, e) if e.field == "created_at"));
    }
}
