//! Weibo open API responses (`statuses/user_timeline`, `users/show`, `comments/show`) and the
//! records of exporters that keep the API's field names (dataabc/weibo-crawler JSON).

use serde_json::Value as Json;

use super::{Context, JsonExt, Out, opt_bool, opt_int, opt_str, row};
use crate::import::quirks::parse_export_time;
use crate::record::{FieldError, Value};
use crate::schema::{ACCOUNTS, COMMENTS, POSTS};

fn time(v: &Json, key: &str, field: &str) -> Result<i64, FieldError> {
    let text = v
        .text(key)
        .ok_or_else(|| FieldError::new(field, format!("missing `{key}`")))?;
    parse_export_time(&text).map_err(|e| FieldError::new(field, e))
}

/// The account row of a `users/show` object (or a status's `user`).
pub fn account(user: &Json) -> Result<Vec<Value>, FieldError> {
    let uid = user
        .text("idstr")
        .or_else(|| user.text("id"))
        .ok_or_else(|| FieldError::new("account_id", "missing user `id`"))?;
    let name = user
        .text("screen_name")
        .or_else(|| user.text("name"))
        .or_else(|| user.text("nickname"))
        .ok_or_else(|| FieldError::new("name", "missing `screen_name`"))?;
    Ok(row(
        &ACCOUNTS,
        vec![
            ("account_id", Value::Str(format!("weibo:{uid}"))),
            ("platform", Value::Str("weibo".into())),
            ("name", Value::Str(name)),
            ("account_kind", Value::Str("weibo".into())),
            ("certification", opt_str(user.text("verified_reason"))),
            ("verified", opt_bool(user.flag("verified"))),
            ("verified_type", opt_int(user.int("verified_type"))),
            (
                "followers",
                opt_int(
                    user.int("followers_count")
                        .or_else(|| user.int("followers")),
                ),
            ),
            ("url", Value::Str(format!("https://weibo.com/u/{uid}"))),
        ],
    ))
}

/// The uid most statuses of a timeline were posted by: a deleted status carries no `user`.
pub fn timeline_owner(statuses: &[Json]) -> Option<String> {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for s in statuses {
        if let Some(uid) = s
            .get("user")
            .and_then(|u| u.text("idstr").or_else(|| u.text("id")))
        {
            *counts.entry(uid).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(uid, _)| uid)
}

/// One status of `statuses/user_timeline` (also weibo-crawler's JSON `weibo` items, which use
/// `full_created_at` and `attitudes_count`): a post row, and the poster's account as a derived
/// row. `owner` attributes a deleted status without `user`.
pub fn status(s: &Json, owner: Option<&str>) -> Vec<Out> {
    let build = || -> Result<Vec<Out>, FieldError> {
        let user = s.get("user").filter(|u| u.is_object());
        let uid = user
            .and_then(|u| u.text("idstr").or_else(|| u.text("id")))
            .or_else(|| s.text("user_id"))
            .or_else(|| owner.map(String::from))
            .ok_or_else(|| {
                FieldError::new(
                    "account_id",
                    "the status has no `user` and the file no owner",
                )
            })?;
        let post_id = s
            .text("idstr")
            .or_else(|| s.text("id"))
            .ok_or_else(|| FieldError::new("post_id", "missing `id`"))?;
        let deleted = s.text("deleted").is_some_and(|d| d == "1") || s.int("state") == Some(7);
        // weibo-crawler: full_created_at; weiboSpider: publish_time; the API: created_at.
        let published = match (s.text("full_created_at"), s.text("publish_time")) {
            (Some(_), _) => time(s, "full_created_at", "published_at")?,
            (None, Some(_)) => time(s, "publish_time", "published_at")?,
            _ => time(s, "created_at", "published_at")?,
        };
        let bid = s.text("bid").or_else(|| s.text("mblogid"));
        let url = format!(
            "https://weibo.com/{uid}/{}",
            bid.unwrap_or_else(|| post_id.clone())
        );
        let retweet = s.get("retweeted_status").or_else(|| s.get("retweet"));
        let mut out = vec![Out::Row(
            &POSTS,
            row(
                &POSTS,
                vec![
                    ("account_id", Value::Str(format!("weibo:{uid}"))),
                    ("post_id", Value::Str(post_id)),
                    ("published_at", Value::Time(published)),
                    (
                        "text",
                        opt_str(s.text("text").or_else(|| s.text("content"))),
                    ),
                    ("url", Value::Str(url)),
                    ("position", Value::Int(0)),
                    ("is_deleted", Value::Bool(deleted)),
                    (
                        "is_original",
                        match (deleted, s.flag("original")) {
                            (true, _) => Value::Null,
                            (false, Some(original)) => Value::Bool(original),
                            (false, None) => Value::Bool(retweet.is_none_or(|r| r.is_null())),
                        },
                    ),
                    (
                        "like_count",
                        opt_int(s.int("attitudes_count").or_else(|| s.int("up_num"))),
                    ),
                    (
                        "comment_count",
                        opt_int(s.int("comments_count").or_else(|| s.int("comment_num"))),
                    ),
                    (
                        "repost_count",
                        opt_int(s.int("reposts_count").or_else(|| s.int("retweet_num"))),
                    ),
                ],
            ),
        )];
        if let Some(Ok(account)) = user.map(account) {
            out.push(Out::Derived(&ACCOUNTS, account));
        }
        Ok(out)
    };
    build().unwrap_or_else(|e| vec![Out::Bad(Some(&POSTS), e)])
}

/// One comment of `comments/show`. A comment written by the post's account that answers
/// another (`reply_comment`) is that citizen comment's reply: it becomes the reply columns of
/// the citizen's comment (merged by key with the comment's own row).
pub fn comment(c: &Json, ctx: &Context) -> Vec<Out> {
    let build = || -> Result<Vec<Value>, FieldError> {
        let status = c
            .get("status")
            .filter(|s| s.is_object())
            .ok_or_else(|| FieldError::new("post_id", "missing `status`"))?;
        let post_id = status
            .text("idstr")
            .or_else(|| status.text("id"))
            .ok_or_else(|| FieldError::new("post_id", "missing `status.id`"))?;
        let owner = status
            .get("user")
            .and_then(|u| u.text("idstr").or_else(|| u.text("id")))
            .ok_or_else(|| FieldError::new("account_id", "missing `status.user.id`"))?;
        let author = c.get("user");
        let author_id = author.and_then(|u| u.text("idstr").or_else(|| u.text("id")));
        let comment_id = c
            .text("idstr")
            .or_else(|| c.text("id"))
            .ok_or_else(|| FieldError::new("comment_id", "missing `id`"))?;
        let created = time(c, "created_at", "created_at")?;
        let account_id = Value::Str(format!("weibo:{owner}"));
        if let Some(answered) = c.get("reply_comment").filter(|r| r.is_object())
            && author_id.as_deref() == Some(owner.as_str())
        {
            let citizen_id = answered
                .text("idstr")
                .or_else(|| answered.text("id"))
                .ok_or_else(|| FieldError::new("comment_id", "missing `reply_comment.id`"))?;
            let citizen_at = time(answered, "created_at", "created_at")?;
            let citizen = answered.get("user").and_then(|u| u.text("screen_name"));
            return Ok(row(
                &COMMENTS,
                vec![
                    ("account_id", account_id),
                    ("post_id", Value::Str(post_id)),
                    ("comment_id", Value::Str(citizen_id)),
                    ("created_at", Value::Time(citizen_at)),
                    ("content", opt_str(answered.text("text"))),
                    ("author", (ctx.pseudonym)(citizen.as_deref())),
                    ("reply_content", opt_str(c.text("text"))),
                    ("reply_at", Value::Time(created)),
                ],
            ));
        }
        let name = author.and_then(|u| u.text("screen_name"));
        Ok(row(
            &COMMENTS,
            vec![
                ("account_id", account_id),
                ("post_id", Value::Str(post_id)),
                ("comment_id", Value::Str(comment_id)),
                ("created_at", Value::Time(created)),
                ("content", opt_str(c.text("text"))),
                ("author", (ctx.pseudonym)(name.as_deref())),
            ],
        ))
    };
    vec![Out::from_result(&COMMENTS, build())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context<'static> {
        Context {
            pseudonym: &|n: Option<&str>| n.map_or(Value::Null, |n| Value::Str(format!("p({n})"))),
        }
    }

    #[test]
    fn a_deleted_status_is_kept_and_attributed_to_the_timeline_owner() {
        let statuses = vec![
            json!({"created_at": "Tue May 31 17:46:55 +0800 2011", "id": 11, "idstr": "11",
                   "text": "通知", "reposts_count": 2, "comments_count": 3, "attitudes_count": 4,
                   "user": {"id": 1001, "idstr": "1001", "screen_name": "某市发布", "verified": true,
                            "verified_type": 1, "verified_reason": "某市人民政府新闻办公室", "followers_count": 5000}}),
            json!({"created_at": "Wed Jun 01 08:00:00 +0800 2011", "id": 12, "deleted": "1", "state": 7,
                   "text": "抱歉，此微博已被作者删除。"}),
            json!({"created_at": "Wed Jun 01 09:00:00 +0800 2011", "idstr": "13", "text": "转发",
                   "retweeted_status": {"id": 9}, "user": {"idstr": "1001", "screen_name": "某市发布"}}),
        ];
        let owner = timeline_owner(&statuses);
        assert_eq!(owner.as_deref(), Some("1001"));
        let outs: Vec<Out> = statuses
            .iter()
            .flat_map(|s| status(s, owner.as_deref()))
            .collect();
        let posts: Vec<&Vec<Value>> = outs
            .iter()
            .filter_map(|o| match o {
                Out::Row(t, v) if t.name == "posts" => Some(v),
                _ => None,
            })
            .collect();
        assert_eq!(posts.len(), 3);
        let col = |name| POSTS.index_of(name).unwrap();
        assert_eq!(posts[1][col("account_id")], Value::Str("weibo:1001".into()));
        assert_eq!(posts[1][col("is_deleted")], Value::Bool(true));
        assert_eq!(posts[0][col("is_original")], Value::Bool(true));
        assert_eq!(posts[2][col("is_original")], Value::Bool(false));
        assert_eq!(posts[0][col("like_count")], Value::Int(4));
        assert_eq!(
            posts[0][col("published_at")],
            Value::Time(crate::time::parse_instant_ms("2011-05-31T17:46:55+08:00").unwrap())
        );
        assert!(
            outs.iter()
                .any(|o| matches!(o, Out::Derived(t, _) if t.name == "accounts"))
        );
    }

    #[test]
    fn the_accounts_reply_fills_the_citizens_comment() {
        let status = json!({"id": 11, "user": {"id": 1001}});
        let citizen = json!({"created_at": "Wed Jun 01 10:00:00 +0800 2011", "id": 501, "text": "请问？",
                             "user": {"id": 7, "screen_name": "网友甲"}, "status": status});
        let reply = json!({"created_at": "Wed Jun 01 11:00:00 +0800 2011", "id": 502, "text": "您好，已转办。",
                           "user": {"id": 1001, "screen_name": "某市发布"}, "status": status,
                           "reply_comment": {"id": 501, "created_at": "Wed Jun 01 10:00:00 +0800 2011",
                                             "text": "请问？", "user": {"id": 7, "screen_name": "网友甲"}}});
        let c = ctx();
        let a = comment(&citizen, &c);
        let b = comment(&reply, &c);
        let col = |name| COMMENTS.index_of(name).unwrap();
        let (Out::Row(_, a), Out::Row(_, b)) = (&a[0], &b[0]) else {
            panic!("rows expected: {a:?} {b:?}")
        };
        assert_eq!(
            a[col("comment_id")],
            b[col("comment_id")],
            "same key: merged"
        );
        assert_eq!(b[col("reply_content")], Value::Str("您好，已转办。".into()));
        assert_eq!(a[col("author")], Value::Str("p(网友甲)".into()));
        assert_eq!(b[col("author")], Value::Str("p(网友甲)".into()));
        let broken = comment(&json!({"id": 1, "created_at": "x"}), &c);
        assert!(matches!(&broken[0], Out::Bad(_, e) if e.field == "post_id"));
    }
}
