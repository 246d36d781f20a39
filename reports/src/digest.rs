//! The watch's outputs: `warnings.csv` / `warnings.json` and the Markdown digest, overall and
//! per account, that goes to the group chats (`notify`) and to `digest.md`.
//!
//! Data text (account names, messages, evidence) is defanged before it enters Markdown: the
//! characters that make links, emphasis or HTML become their full-width forms, so an account
//! name cannot inject a link or formatting into an agency's group chat.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use govmedia_collectors::store::write_atomic;
use govmedia_rules::Lang;
use polars::prelude::*;

use crate::Error;
use crate::labels::platform_label;
use crate::tables::{write_csv, write_json};

/// Warnings listed per account in the digest; the rest are counted and left to the CSV.
pub const PER_ACCOUNT: usize = 5;
/// Accounts listed in the digest (most urgent first); the rest are counted.
pub const ACCOUNTS_LISTED: usize = 200;

/// The digest: a summary block, then one block per account (most urgent first). Messages to
/// chat robots are cut between blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub title: String,
    pub blocks: Vec<String>,
    pub warnings: usize,
    pub critical: usize,
}

impl Digest {
    pub fn markdown(&self) -> String {
        let mut text = format!("## {}\n\n", self.title);
        text.push_str(&self.blocks.concat());
        text
    }
}

/// Writes `warnings.csv`, `warnings.json` and `digest.md` into `out`.
pub fn write_watch_outputs(
    out: &Path,
    warnings: &DataFrame,
    digest: &Digest,
) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(out).map_err(|e| govmedia_collectors::Error::io(out, e))?;
    let csv = out.join("warnings.csv");
    let json = out.join("warnings.json");
    let md = out.join("digest.md");
    write_csv(warnings, &csv)?;
    write_json(warnings, &json)?;
    let text = digest.markdown();
    write_atomic(&md, |f| std::io::Write::write_all(f, text.as_bytes()))?;
    Ok(vec![csv, json, md])
}

/// Full-width forms of the characters that carry Markdown or HTML meaning; newlines become
/// spaces (a message is one list item).
pub fn defang(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '[' => '［',
            ']' => '］',
            '(' => '（',
            ')' => '）',
            '<' => '＜',
            '>' => '＞',
            '*' => '＊',
            '_' => '＿',
            '`' => '｀',
            '#' => '＃',
            '|' => '｜',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect()
}

/// One warning as the digest reads it.
struct Row {
    code: String,
    level: String,
    platform: String,
    account_id: String,
    account_name: String,
    deadline: Option<i64>,
    message: String,
}

fn rows(warnings: &DataFrame) -> Result<Vec<Row>, Error> {
    let text = |name: &str| -> Result<Vec<Option<String>>, Error> {
        Ok(warnings
            .column(name)?
            .str()?
            .iter()
            .map(|v| v.map(String::from))
            .collect())
    };
    let (code, level, platform, id, name, message) = (
        text("code")?,
        text("level")?,
        text("platform")?,
        text("account_id")?,
        text("account_name")?,
        text("message")?,
    );
    let deadline = warnings.column("deadline")?.cast(&DataType::Int64)?;
    let deadline = deadline.i64()?;
    Ok((0..warnings.height())
        .map(|i| Row {
            code: code[i].clone().unwrap_or_default(),
            level: level[i].clone().unwrap_or_default(),
            platform: platform[i].clone().unwrap_or_default(),
            account_id: id[i].clone().unwrap_or_default(),
            account_name: name[i].clone().unwrap_or_default(),
            deadline: deadline.get(i),
            message: message[i].clone().unwrap_or_default(),
        })
        .collect())
}

/// `YYYY-MM-DD HH:MM` in Beijing time.
fn beijing(ms: i64) -> String {
    const OFFSET: i64 = 8 * 3_600_000;
    let day = (ms + OFFSET).div_euclid(86_400_000);
    let minutes = (ms + OFFSET).rem_euclid(86_400_000) / 60_000;
    format!(
        "{} {:02}:{:02}",
        govmedia_collectors::time::days_to_date(day as i32),
        minutes / 60,
        minutes % 60
    )
}

/// The digest of a warnings table (in its order: most urgent first) at `at_ms`.
pub fn digest(warnings: &DataFrame, at_ms: i64, lang: Lang) -> Result<Digest, Error> {
    let rows = rows(warnings)?;
    let critical = rows.iter().filter(|r| r.level == "critical").count();
    let title = match lang {
        Lang::Zh => format!("政务新媒体预警 · {}", beijing(at_ms)),
        Lang::En => format!("Government new-media warnings · {}", beijing(at_ms)),
    };
    // Accounts in order of their most urgent warning (the table's order).
    let mut order: Vec<&str> = Vec::new();
    let mut by_account: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        let list = by_account.entry(&r.account_id).or_default();
        if list.is_empty() {
            order.push(&r.account_id);
        }
        list.push(r);
    }
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *by_code.entry(&r.code).or_default() += 1;
    }
    let codes = by_code
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let summary = match (lang, rows.is_empty()) {
        (Lang::Zh, true) => "无预警：所有账号在预警期限内均无即将触发的问题。\n".to_string(),
        (Lang::En, true) => "No warnings: nothing is about to become a finding.\n".to_string(),
        (Lang::Zh, false) => format!(
            "共 {} 个账号 {} 条预警（紧急 {critical} 条，提醒 {} 条）：{codes}\n",
            order.len(),
            rows.len(),
            rows.len() - critical
        ),
        (Lang::En, false) => format!(
            "{} warnings on {} accounts ({critical} critical, {} warn): {codes}\n",
            rows.len(),
            order.len(),
            rows.len() - critical
        ),
    };
    // Each block ends with a blank line, so a message cut between blocks is valid Markdown.
    let mut blocks = vec![summary + "\n"];
    for account in order.iter().take(ACCOUNTS_LISTED) {
        let list = &by_account[account];
        let first = list[0];
        let mut block = format!(
            "### {}（{}）\n",
            defang(&first.account_name),
            platform_label(&first.platform, lang)
        );
        // Replies already late are one line per account: a year's backlog is the CSV's job.
        let late: Vec<&&Row> = list
            .iter()
            .filter(|r| r.code == "INT002" && r.deadline.is_some_and(|d| d <= at_ms))
            .collect();
        let listed: Vec<&&Row> = list
            .iter()
            .filter(|r| !(r.code == "INT002" && r.deadline.is_some_and(|d| d <= at_ms)))
            .collect();
        if let Some(oldest) = late.iter().filter_map(|r| r.deadline).min() {
            block.push_str(&match lang {
                Lang::Zh => format!(
                    "- **紧急** INT002 已超过回复时限未回复的留言 {} 条（最早时限 {}），请尽快回复\n",
                    late.len(),
                    beijing(oldest)
                ),
                Lang::En => format!(
                    "- **critical** INT002 {} comment(s) unanswered past their deadline (the oldest {}); reply now\n",
                    late.len(),
                    beijing(oldest)
                ),
            });
        }
        for r in listed.iter().take(PER_ACCOUNT) {
            let level = match (lang, r.level.as_str()) {
                (Lang::Zh, "critical") => "**紧急**",
                (Lang::Zh, _) => "提醒",
                (Lang::En, "critical") => "**critical**",
                (Lang::En, _) => "warn",
            };
            let deadline = match (lang, r.deadline) {
                (Lang::Zh, Some(d)) => format!("（截止 {}）", beijing(d)),
                (Lang::En, Some(d)) => format!(" (deadline {})", beijing(d)),
                (_, None) => String::new(),
            };
            block.push_str(&format!(
                "- {level} {} {}{deadline}\n",
                r.code,
                defang(&r.message)
            ));
        }
        if listed.len() > PER_ACCOUNT {
            let more = listed.len() - PER_ACCOUNT;
            block.push_str(&match lang {
                Lang::Zh => format!("- ……另有 {more} 条，见 warnings.csv\n"),
                Lang::En => format!("- … {more} more in warnings.csv\n"),
            });
        }
        block.push('\n');
        blocks.push(block);
    }
    if order.len() > ACCOUNTS_LISTED {
        blocks.push(match lang {
            Lang::Zh => format!(
                "……另有 {} 个账号的预警，见 warnings.csv\n\n",
                order.len() - ACCOUNTS_LISTED
            ),
            Lang::En => format!(
                "… warnings on {} more accounts in warnings.csv\n\n",
                order.len() - ACCOUNTS_LISTED
            ),
        });
    }
    Ok(Digest {
        title,
        blocks,
        warnings: rows.len(),
        critical,
    })
}

/// The digest cut into messages of at most `limit` bytes (UTF-8), between blocks where it
/// can, between lines inside a block too long for one message, and between characters inside
/// a line too long for one message. Every message starts with the title (and `(2/3)`).
pub fn split_messages(digest: &Digest, limit: usize) -> Vec<String> {
    // Room for the title line and the part counter `（99/99）`.
    let head = |i: usize, n: usize| {
        if n > 1 {
            format!("## {}（{i}/{n}）\n\n", digest.title)
        } else {
            format!("## {}\n\n", digest.title)
        }
    };
    let room = limit.saturating_sub(head(99, 99).len()).max(16);
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut push = |piece: &str, current: &mut String| {
        if !current.is_empty() && current.len() + piece.len() > room {
            pieces.push(std::mem::take(current));
        }
        current.push_str(piece);
    };
    for block in &digest.blocks {
        if block.len() <= room {
            push(block, &mut current);
            continue;
        }
        for line in block.split_inclusive('\n') {
            if line.len() <= room {
                push(line, &mut current);
                continue;
            }
            let mut rest = line;
            while !rest.is_empty() {
                let mut cut = rest.len().min(room);
                while !rest.is_char_boundary(cut) {
                    cut -= 1;
                }
                push(&rest[..cut], &mut current);
                rest = &rest[cut..];
            }
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    let n = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| format!("{}{p}", head(i + 1, n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> DataFrame {
        let mut df = df!(
            "code" => ["UPD002", "INT002", "UPD001"],
            "level" => ["critical", "warn", "warn"],
            "platform" => ["wechat", "wechat", "weibo"],
            "account_id" => ["wechat:a", "wechat:a", "weibo:b"],
            "account_name" => ["某市发布[点我](http://evil.example)", "某市发布[点我](http://evil.example)", "某县*公安*"],
            "deadline" => [Some(1_764_259_200_000i64), None, Some(1_764_518_400_000)],
            "hours_left" => [Some(14.0), None, Some(86.0)],
            "item_id" => [None, Some("c1"), Some("period:2025-11-24")],
            "message" => ["距否决还剩1天", "留言<script>", "本周已更新0条"],
            "evidence" => ["e", "e", "e"],
        )
        .unwrap();
        govmedia_rules::findings::tag_utc(&mut df, "deadline").unwrap();
        df
    }

    #[test]
    fn the_digest_groups_by_account_most_urgent_first_and_defangs_data_text() {
        let d = digest(&table(), 1_764_208_800_000, Lang::Zh).unwrap();
        assert_eq!(d.warnings, 3);
        assert_eq!(d.critical, 1);
        let md = d.markdown();
        assert!(
            md.starts_with("## 政务新媒体预警 · 2025-11-27 10:00\n"),
            "{md}"
        );
        assert!(
            md.contains("共 2 个账号 3 条预警（紧急 1 条，提醒 2 条）"),
            "{md}"
        );
        assert!(
            md.contains("### 某市发布［点我］（http://evil.example）（微信公众号）"),
            "{md}"
        );
        assert!(
            md.contains("- **紧急** UPD002 距否决还剩1天（截止 2025-11-28 00:00）"),
            "{md}"
        );
        assert!(md.contains("留言＜script＞"), "{md}");
        assert!(md.contains("### 某县＊公安＊（政务微博）"), "{md}");
        assert!(!md.contains("](http"), "{md}");
        assert!(md.find("某市发布").unwrap() < md.find("某县").unwrap());
    }

    #[test]
    fn long_digests_are_split_between_blocks_under_the_byte_limit() {
        let block = |i: usize| format!("### 账号{i}\n- 提醒 UPD001 {}\n", "很长的说明".repeat(20));
        let d = Digest {
            title: "政务新媒体预警 · 2025-11-27 10:00".into(),
            blocks: std::iter::once("共 40 个账号\n".to_string())
                .chain((0..40).map(block))
                .collect(),
            warnings: 40,
            critical: 0,
        };
        let messages = split_messages(&d, 4096);
        assert!(messages.len() > 1);
        for (i, m) in messages.iter().enumerate() {
            assert!(m.len() <= 4096, "message {i} has {} bytes", m.len());
            assert!(m.starts_with(&format!(
                "## 政务新媒体预警 · 2025-11-27 10:00（{}/{}）",
                i + 1,
                messages.len()
            )));
        }
        // Nothing lost, no block cut in two.
        let all: String = messages.concat();
        for i in 0..40 {
            assert_eq!(all.matches(&format!("### 账号{i}\n")).count(), 1);
        }
        // A single line longer than the limit is cut on character boundaries.
        let huge = Digest {
            title: "t".into(),
            blocks: vec!["预".repeat(3000)],
            warnings: 1,
            critical: 0,
        };
        let parts = split_messages(&huge, 2048);
        assert!(parts.iter().all(|p| p.len() <= 2048));
        assert_eq!(parts.concat().matches('预').count(), 3000);
    }
}
