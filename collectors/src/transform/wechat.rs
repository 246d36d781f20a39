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
/// `account` (a gh_ folder or `--account`) names the account; otherwise the link's `__biz` does.
pub fn exported_article(a: &Json, ctx: &super::Context, account: Option<&str>) -> Vec<Out> {
    use super::{opt_bool, opt_int};
    use crate::schema::{COMMENTS, POSTS};
    let link = a
        .text("link")
        .or_else(|| a.text("url"))
        .or_else(|| a.text("content_url"));
    let (biz, mid, idx) = link.as_deref().map(link_ids).unwrap_or((None, None, None));
    let biz = biz.or_else(|| a.text("__biz")).or_else(|| a.text("biz"));
    let account_id = match (account, biz) {
        (Some(account), _) => account.to_string(),
        (None, Some(biz)) => biz_account_id(&biz),
        (None, None) => {
            return vec![Out::Bad(
                Some(&POSTS),
                FieldError::new(
                    "account_id",
                    "no `__biz` in the article link and no gh_ folder or --account: cannot tell \
                     the account",
                ),
            )];
        }
    };
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
            None,
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

/// The post id of a WeChat article: `<msg_data_id>_<idx>` (idx 1-based), as the datacube
/// statistics name articles (`msgid`), taken from the link's `mid`/`idx` when it has them.
fn article_post_id(news: &Json, group_id: &str, position: usize) -> String {
    match news.text("url").as_deref().map(link_ids) {
        Some((_, Some(mid), Some(idx))) => format!("{mid}_{idx}"),
        _ => format!("{group_id}_{}", position + 1),
    }
}

/// The account's `__biz` of an exported article: from its link, else a `__biz`/`biz` field.
pub fn article_biz(a: &Json) -> Option<String> {
    a.text("link")
        .or_else(|| a.text("url"))
        .or_else(|| a.text("content_url"))
        .and_then(|l| link_ids(&l).0)
        .or_else(|| a.text("__biz"))
        .or_else(|| a.text("biz"))
}

/// A stable account id for a WeChat account known only by a name (an exporter's
/// `_accountName`, a file name): `wechat:name-<12 hex digits of its hash>`.
pub fn derived_name_account_id(name: &str) -> String {
    let hash = blake3::hash(name.as_bytes());
    format!("wechat:name-{}", &hash.to_hex()[..12])
}

/// The `__biz` of an account's numeric id (`fakeid` in the history API): its Base64.
pub fn biz_of_fakeid(fakeid: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = fakeid.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One message of the mobile history page (`profile_ext?action=getmsg`, as wechat_articles_spider
/// saves its items): `comm_msg_info {id, type, datetime, fakeid, status, content}` and, for an
/// article message (type 49), `app_msg_ext_info {title, digest, content_url, cover, author,
/// copyright_stat, del_flag, multi_app_msg_item_list[…]}`: a post per article, the headline
/// first (position 0), ids `<mid>_<idx>` from the links as every other WeChat source has them.
/// A text message (type 1) is a post of its text, an image, voice or video message (3, 34, 62)
/// a post without one (`msg<id>`). The account is `account` (a gh_ folder, `--account`), else the
/// `__biz` of the links, else the Base64 of `fakeid` (which is what `__biz` is).
pub fn history_message(item: &Json, account: Option<&str>) -> Vec<Out> {
    use super::opt_bool;
    use crate::schema::POSTS;
    let bad = |field: &str, why: &str| vec![Out::Bad(Some(&POSTS), FieldError::new(field, why))];
    let Some(info) = item.get("comm_msg_info") else {
        return bad("post_id", "missing `comm_msg_info`");
    };
    let Some(message_id) = info.text("id") else {
        return bad("post_id", "missing `comm_msg_info.id`");
    };
    let Some(published) = info
        .int("datetime")
        .and_then(crate::time::unix_seconds_to_ms)
    else {
        return bad("published_at", "missing `comm_msg_info.datetime`");
    };
    let ext = item.get("app_msg_ext_info");
    let articles: Vec<&Json> = ext
        .into_iter()
        .chain(
            ext.and_then(|e| e.get("multi_app_msg_item_list"))
                .and_then(Json::as_array)
                .into_iter()
                .flatten(),
        )
        .collect();
    let biz = articles
        .iter()
        .find_map(|a| a.text("content_url").and_then(|l| link_ids(&l).0))
        .or_else(|| info.text("fakeid").map(|f| biz_of_fakeid(&f)));
    let account_id = match (account, biz) {
        (Some(account), _) => account.to_string(),
        (None, Some(biz)) => biz_account_id(&biz),
        (None, None) => {
            return bad(
                "account_id",
                "no `__biz` in the links, no `fakeid`, no gh_ folder or --account: cannot tell the account",
            );
        }
    };
    let kind = info.int("type").unwrap_or(49);
    if kind != 49 || articles.is_empty() {
        let text = if kind == 1 {
            info.text("content")
        } else {
            None
        };
        return vec![Out::Row(
            &POSTS,
            row(
                &POSTS,
                vec![
                    ("account_id", Value::Str(account_id)),
                    ("post_id", Value::Str(format!("msg{message_id}"))),
                    ("published_at", Value::Time(published)),
                    ("text", opt_str(text)),
                    ("position", Value::Int(0)),
                ],
            ),
        )];
    }
    articles
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let link = a.text("content_url").filter(|l| !l.is_empty());
            let (_, mid, idx) = link.as_deref().map(link_ids).unwrap_or((None, None, None));
            let position = idx.unwrap_or(i as i64 + 1);
            let post_id = match mid {
                Some(mid) => format!("{mid}_{position}"),
                None => format!("msg{message_id}_{}", i + 1),
            };
            // del_flag 1 is a normal article; 4 one the account deleted.
            let deleted = match a.int("del_flag") {
                Some(1) => Some(false),
                Some(4) => Some(true),
                _ => None,
            };
            Out::Row(
                &POSTS,
                row(
                    &POSTS,
                    vec![
                        ("account_id", Value::Str(account_id.clone())),
                        ("post_id", Value::Str(post_id)),
                        ("published_at", Value::Time(published)),
                        ("title", opt_str(a.text("title"))),
                        ("text", opt_str(a.text("digest"))),
                        ("url", opt_str(link)),
                        ("position", Value::Int(position - 1)),
                        ("is_deleted", opt_bool(deleted)),
                        // copyright_stat 11 marks an original (原创) article.
                        (
                            "is_original",
                            opt_bool(a.int("copyright_stat").map(|c| c == 11)),
                        ),
                    ],
                ),
            )
        })
        .collect()
}

/// One item of `freepublish/batchget` (`article_id`) or `material/batchget_material`
/// (`media_id`): a post per `news_item`, the first being the headline (position 0).
pub fn news_group(item: &Json, account_id: &str) -> Vec<Out> {
    use super::opt_bool;
    use crate::schema::POSTS;
    let Some(group_id) = item.text("article_id").or_else(|| item.text("media_id")) else {
        return vec![Out::Bad(
            Some(&POSTS),
            FieldError::new("post_id", "missing `article_id`/`media_id`"),
        )];
    };
    let Some(published) = item
        .int("update_time")
        .and_then(crate::time::unix_seconds_to_ms)
    else {
        return vec![Out::Bad(
            Some(&POSTS),
            FieldError::new("published_at", "missing `update_time`"),
        )];
    };
    let news = item
        .get("content")
        .and_then(|c| c.get("news_item"))
        .and_then(Json::as_array);
    let Some(news) = news else {
        return vec![Out::Bad(
            Some(&POSTS),
            FieldError::new("post_id", "missing `content.news_item`"),
        )];
    };
    news.iter()
        .enumerate()
        .map(|(i, n)| {
            let deleted = n.flag("is_deleted").or_else(|| n.flag("is_delete"));
            Out::Row(
                &POSTS,
                row(
                    &POSTS,
                    vec![
                        ("account_id", Value::Str(account_id.to_string())),
                        ("post_id", Value::Str(article_post_id(n, &group_id, i))),
                        ("published_at", Value::Time(published)),
                        ("title", opt_str(n.text("title"))),
                        ("text", opt_str(n.text("digest"))),
                        ("content_html", opt_str(n.text("content"))),
                        ("url", opt_str(n.text("url"))),
                        ("position", Value::Int(i as i64)),
                        ("is_deleted", opt_bool(deleted)),
                        ("comments_open", opt_bool(n.flag("need_open_comment"))),
                    ],
                ),
            )
        })
        .collect()
}

/// One comment of `comment/list` on the article `post_id`: the commenter's openid pseudonymised,
/// 精选 (comment_type 1) as elected, the account's reply as the reply columns.
pub fn comment(c: &Json, account_id: &str, post_id: &str, ctx: &super::Context) -> Vec<Out> {
    use super::opt_bool;
    use crate::schema::COMMENTS;
    let Some(id) = c.text("user_comment_id") else {
        return vec![Out::Bad(
            Some(&COMMENTS),
            FieldError::new("comment_id", "missing `user_comment_id`"),
        )];
    };
    let Some(at) = c
        .int("create_time")
        .and_then(crate::time::unix_seconds_to_ms)
    else {
        return vec![Out::Bad(
            Some(&COMMENTS),
            FieldError::new("created_at", "missing `create_time`"),
        )];
    };
    let reply = c.get("reply").filter(|r| r.is_object());
    vec![Out::Row(
        &COMMENTS,
        row(
            &COMMENTS,
            vec![
                ("account_id", Value::Str(account_id.to_string())),
                ("post_id", Value::Str(post_id.to_string())),
                ("comment_id", Value::Str(id)),
                ("created_at", Value::Time(at)),
                ("content", opt_str(c.text("content"))),
                ("author", (ctx.pseudonym)(c.text("openid").as_deref())),
                (
                    "is_elected",
                    opt_bool(c.int("comment_type").map(|t| t == 1)),
                ),
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
        ),
    )]
}

/// The target of a menu button: URL, mini-program `appid:pagepath`, or the key / value.
fn menu_target(b: &Json) -> Option<String> {
    match (b.text("appid"), b.text("pagepath")) {
        (Some(appid), Some(page)) => Some(format!("{appid}:{page}")),
        _ => b
            .text("url")
            .or_else(|| b.text("value"))
            .or_else(|| b.text("key"))
            .or_else(|| b.text("media_id"))
            .or_else(|| b.text("article_id")),
    }
}

/// The buttons of a menu response, both shapes: `get_current_selfmenu_info`
/// (`selfmenu_info.button`, `sub_button` an object with `list`) and `menu/get` (`menu.button`,
/// `sub_button` an array; `conditionalmenu` menus get paths under `个性化菜单<menuid>/`). One
/// row per clickable entry, `path` the names joined with `/`.
pub fn menus(doc: &Json, account_id: &str, collected_at: Option<i64>) -> Vec<Out> {
    use crate::schema::MENUS;
    let mut out = Vec::new();
    let mut push = |path: String, b: &Json| {
        out.push(Out::Row(
            &MENUS,
            row(
                &MENUS,
                vec![
                    ("account_id", Value::Str(account_id.to_string())),
                    ("path", Value::Str(path)),
                    ("name", opt_str(b.text("name"))),
                    ("kind", opt_str(b.text("type"))),
                    ("target", opt_str(menu_target(b))),
                    (
                        "collected_at",
                        collected_at.map_or(Value::Null, Value::Time),
                    ),
                ],
            ),
        ))
    };
    let mut walk_buttons = |prefix: &str, buttons: &[Json]| {
        for b in buttons {
            let name = b.text("name").unwrap_or_default();
            let subs: Vec<Json> = match b.get("sub_button") {
                Some(Json::Array(list)) => list.clone(),
                Some(Json::Object(o)) => o
                    .get("list")
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            if subs.is_empty() {
                push(format!("{prefix}{name}"), b);
            } else {
                for s in &subs {
                    push(
                        format!("{prefix}{name}/{}", s.text("name").unwrap_or_default()),
                        s,
                    );
                }
            }
        }
    };
    let main = doc
        .get("selfmenu_info")
        .or_else(|| doc.get("menu"))
        .and_then(|m| m.get("button"))
        .and_then(Json::as_array);
    if let Some(buttons) = main {
        walk_buttons("", buttons);
    }
    for cond in doc
        .get("conditionalmenu")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let prefix = format!("个性化菜单{}/", cond.text("menuid").unwrap_or_default());
        if let Some(buttons) = cond.get("button").and_then(Json::as_array) {
            walk_buttons(&prefix, buttons);
        }
    }
    out
}

#[cfg(test)]
mod api_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_menu_shapes_give_the_same_paths() {
        let self_menu = json!({"is_menu_open": 1, "selfmenu_info": {"button": [
            {"name": "办事服务", "sub_button": {"list": [
                {"type": "view", "name": "网上办事", "url": "https://zwfw.example.gov.cn/"},
                {"type": "miniprogram", "name": "预约", "appid": "wx1", "pagepath": "pages/a"}]}},
            {"type": "click", "name": "联系我们", "key": "CONTACT"}]}});
        let menu_get = json!({"menu": {"button": [
            {"name": "办事服务", "sub_button": [
                {"type": "view", "name": "网上办事", "url": "https://zwfw.example.gov.cn/"},
                {"type": "miniprogram", "name": "预约", "appid": "wx1", "pagepath": "pages/a", "url": "https://x"}]},
            {"type": "click", "name": "联系我们", "key": "CONTACT"}], "menuid": 1},
            "conditionalmenu": [{"button": [{"type": "view", "name": "专区", "url": "https://y"}], "menuid": 9}]});
        let paths = |outs: Vec<Out>| -> Vec<(Value, Value)> {
            outs.into_iter()
                .map(|o| match o {
                    Out::Row(t, v) => (
                        v[t.index_of("path").unwrap()].clone(),
                        v[t.index_of("target").unwrap()].clone(),
                    ),
                    _ => panic!(),
                })
                .collect()
        };
        let a = paths(menus(&self_menu, "wechat:gh_1", Some(0)));
        let b = paths(menus(&menu_get, "wechat:gh_1", Some(0)));
        assert_eq!(a, b[..3]);
        assert_eq!(
            a[1],
            (
                Value::Str("办事服务/预约".into()),
                Value::Str("wx1:pages/a".into())
            )
        );
        assert_eq!(b[3].0, Value::Str("个性化菜单9/专区".into()));
    }

    #[test]
    fn a_published_group_gives_one_post_per_article() {
        let outs = news_group(
            &json!({"article_id": "AID1", "update_time": 1709256600, "content": {"news_item": [
                {"title": "头条", "url": "https://mp.weixin.qq.com/s?__biz=B&mid=2650000001&idx=1", "need_open_comment": 1},
                {"title": "次条", "url": "https://mp.weixin.qq.com/s/abc", "is_delete": true}]}}),
            "wechat:gh_1",
        );
        let ids: Vec<Value> = outs
            .iter()
            .map(|o| match o {
                Out::Row(t, v) => v[t.index_of("post_id").unwrap()].clone(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            ids,
            [
                Value::Str("2650000001_1".into()),
                Value::Str("AID1_2".into())
            ]
        );
        let Out::Row(t, v) = &outs[1] else { panic!() };
        assert_eq!(v[t.index_of("is_deleted").unwrap()], Value::Bool(true));
        assert_eq!(v[t.index_of("position").unwrap()], Value::Int(1));
    }
}
