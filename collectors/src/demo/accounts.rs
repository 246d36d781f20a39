//! One synthetic account at a time: its identity, a year of posts following a posting profile,
//! comments with replies after realistic delays, its service menu, and the planted cases.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::names::*;
use super::orgs::Org;
use crate::time::{DAY_MS, SHANGHAI_OFFSET_MS, format_shanghai};

/// How an account posts over the year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Profile {
    /// Nearly every day, fewer on weekends.
    Daily,
    /// A few times a week at random.
    Regular,
    /// Working days only, never on weekends.
    WeekdaysOnly,
    /// Busy weeks alternating with silent ones.
    Bursty,
    /// Regular, but silent over Spring Festival and National Day.
    HolidayGaps,
    /// One mass-send every two weeks (a WeChat service account's rhythm).
    Biweekly,
    /// Posted regularly, then stopped this many days before as_of.
    Stopped(i64),
    /// Opened this many days before as_of, regular since.
    New(i64),
}

/// A case planted in the archive so that a rule has something to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plant {
    /// Silent for two consecutive full weeks a month before as_of (UPD001).
    EmptyWeeks,
    /// Last update exactly 14 days before as_of (UPD002 fires).
    StoppedFourteenDays,
    /// Last update 13 days before as_of (UPD002 must not fire).
    StoppedThirteenDays,
    /// Last update 200 days before as_of (UPD002 and UPD003).
    Dormant,
    /// A WeChat service account posting every two weeks (no UPD001).
    ServiceBiweekly,
    AdWording,
    PublicServiceAd,
    CommercialLink,
    AdSlot,
    OffTopic,
    ImproperWording,
    NoPolicyPosts,
    NameMismatch,
    MissingCertification,
    FormerName,
    Unverified,
    InternalDepartment,
    LateReply,
    Unanswered,
    PerfunctoryReply,
    ImproperCommentVisible,
    CommentsClosed,
    SurveyWithoutFeedback,
    NoServiceMenu,
    DeadMenuLink,
    PortalRootMenu,
}

/// Account-level plants, in the order they are handed out.
pub const PLANT_ROTATION: &[Plant] = &[
    Plant::EmptyWeeks,
    Plant::StoppedFourteenDays,
    Plant::AdWording,
    Plant::NameMismatch,
    Plant::LateReply,
    Plant::NoServiceMenu,
    Plant::Dormant,
    Plant::CommercialLink,
    Plant::MissingCertification,
    Plant::Unanswered,
    Plant::ServiceBiweekly,
    Plant::AdSlot,
    Plant::FormerName,
    Plant::PerfunctoryReply,
    Plant::DeadMenuLink,
    Plant::StoppedThirteenDays,
    Plant::OffTopic,
    Plant::Unverified,
    Plant::ImproperCommentVisible,
    Plant::PortalRootMenu,
    Plant::ImproperWording,
    Plant::InternalDepartment,
    Plant::CommentsClosed,
    Plant::NoPolicyPosts,
    Plant::SurveyWithoutFeedback,
    Plant::PublicServiceAd,
];

impl Plant {
    /// The rule codes this plant must (true) or must not (false) trigger.
    pub fn expectations(self) -> &'static [(&'static str, bool)] {
        match self {
            Plant::EmptyWeeks => &[("UPD001", true)],
            Plant::StoppedFourteenDays => &[("UPD002", true), ("UPD003", false)],
            Plant::StoppedThirteenDays => &[("UPD002", false)],
            Plant::Dormant => &[("UPD002", true), ("UPD003", true)],
            Plant::ServiceBiweekly => &[("UPD001", false), ("UPD002", false)],
            Plant::AdWording => &[("CNT001", true)],
            Plant::PublicServiceAd => &[("CNT001", false)],
            Plant::CommercialLink => &[("CNT002", true)],
            Plant::AdSlot => &[("CNT003", true)],
            Plant::OffTopic => &[("CNT004", true)],
            Plant::ImproperWording => &[("CNT005", true)],
            Plant::NoPolicyPosts => &[("CNT006", true)],
            Plant::NameMismatch => &[("NAM001", true)],
            Plant::MissingCertification => &[("NAM003", true)],
            Plant::FormerName => &[("NAM004", true)],
            Plant::Unverified => &[("NAM005", true)],
            Plant::InternalDepartment => &[("NAM006", true)],
            Plant::LateReply => &[("INT001", true)],
            Plant::Unanswered => &[("INT002", true)],
            Plant::PerfunctoryReply => &[("INT003", true)],
            Plant::ImproperCommentVisible => &[("INT004", true)],
            Plant::CommentsClosed => &[("INT005", true)],
            Plant::SurveyWithoutFeedback => &[("INT006", true)],
            Plant::NoServiceMenu => &[("SVC001", true), ("SVC002", true)],
            Plant::DeadMenuLink => &[("SVC003", true)],
            Plant::PortalRootMenu => &[("SVC004", true)],
        }
    }

    pub fn fits(self, platform: &str, org: &Org) -> bool {
        match self {
            Plant::ServiceBiweekly | Plant::AdSlot | Plant::CommentsClosed => platform == "wechat",
            Plant::NoServiceMenu | Plant::DeadMenuLink | Plant::PortalRootMenu => {
                platform == "wechat"
            }
            Plant::LateReply | Plant::Unanswered => platform == "wechat",
            Plant::PerfunctoryReply | Plant::ImproperCommentVisible => platform != "app",
            Plant::FormerName => org.former_name.is_some(),
            Plant::Unverified => platform != "app",
            _ => true,
        }
    }

    pub fn label(self) -> String {
        format!("{self:?}")
    }
}

// ---- canonical rows as written to the archive (nulls omitted) ----

#[derive(Serialize)]
pub struct AccountRow {
    pub account_id: String,
    pub platform: &'static str,
    pub name: String,
    pub account_kind: &'static str,
    pub org_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_type: Option<i64>,
    pub followers: i64,
    pub comments_enabled: bool,
    pub url: String,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Serialize)]
pub struct PostRow {
    pub account_id: String,
    pub post_id: String,
    pub published_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_html: Option<String>,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
    pub position: i64,
    pub is_deleted: bool,
    pub is_original: bool,
    pub comments_open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_count: Option<i64>,
    pub like_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_count: Option<i64>,
    pub comment_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repost_count: Option<i64>,
}

#[derive(Serialize)]
pub struct CommentRow {
    pub account_id: String,
    pub post_id: String,
    pub comment_id: String,
    pub created_at: String,
    pub content: String,
    pub author: String,
    pub is_elected: bool,
    pub is_visible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_at: Option<String>,
}

pub struct MenuRow {
    pub account_id: String,
    pub path: String,
    pub name: String,
    pub kind: &'static str,
    pub target: String,
    pub collected_at: String,
}

#[derive(Serialize)]
pub struct LinkCheckRow {
    pub url: String,
    pub checked_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything generated for one account.
#[derive(Default)]
pub struct AccountData {
    pub account: Option<AccountRow>,
    pub posts: Vec<PostRow>,
    pub comments: Vec<CommentRow>,
    pub menus: Vec<MenuRow>,
    pub link_checks: Vec<LinkCheckRow>,
}

/// What the archive generator decided about one account before generating its content.
pub struct AccountPlan<'a> {
    pub index: u64,
    pub platform: &'static str,
    pub org: &'a Org,
    /// Display name; `None` = named after the org's short name.
    pub name: Option<String>,
    pub plant: Option<Plant>,
    /// Force a WeChat service account.
    pub service: bool,
}

pub fn rng_for(seed: u64, stream: u64, index: u64) -> ChaCha8Rng {
    // Each account gets its own stream, so an account's content does not depend on the others.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(index);
    rng
}

pub fn account_id(platform: &str, index: u64) -> String {
    match platform {
        "wechat" => format!("wechat:gh_{:012x}", 0x5a17_0000_0000u64 + index * 7919),
        "weibo" => format!("weibo:{}", 2_100_000_000u64 + index * 37),
        _ => format!("app:{}", 1_400_000_000u64 + index * 13),
    }
}

/// Generates one account with `as_of_day` (days since 1970-01-01, Beijing) as the monitoring
/// time point.
pub fn generate_account(plan: &AccountPlan<'_>, seed: u64, as_of_day: i64) -> AccountData {
    let mut rng = rng_for(seed, 1, plan.index);
    let id = account_id(plan.platform, plan.index);
    let org = plan.org;
    let plant = plan.plant;
    let service = plan.service || plant == Some(Plant::ServiceBiweekly);

    let profile = match plant {
        Some(Plant::ServiceBiweekly) => Profile::Biweekly,
        Some(Plant::StoppedFourteenDays) => Profile::Stopped(14),
        Some(Plant::StoppedThirteenDays) => Profile::Stopped(13),
        Some(Plant::Dormant) => Profile::Stopped(200),
        // Silent weeks are planted separately; the rest of the year is regular.
        Some(Plant::EmptyWeeks) => Profile::Regular,
        _ if service => {
            if rng.random_bool(0.6) {
                Profile::Biweekly
            } else {
                Profile::Regular
            }
        }
        _ => match rng.random_range(0..100) {
            0..20 => Profile::Daily,
            20..50 => Profile::Regular,
            50..65 => Profile::WeekdaysOnly,
            65..75 => Profile::Bursty,
            75..85 => Profile::HolidayGaps,
            85..90 => Profile::Stopped(rng.random_range(20..170)),
            90..93 => Profile::Stopped(rng.random_range(190..330)),
            _ => Profile::New(rng.random_range(40..300)),
        },
    };

    // History: a year and a bit before as_of, or since the account opened.
    let history_start = match profile {
        Profile::New(days) => as_of_day - days,
        _ => as_of_day - 372,
    };
    let last_day = match profile {
        Profile::Stopped(days) => as_of_day - days,
        _ => as_of_day,
    };
    let comments_closed = plant == Some(Plant::CommentsClosed);
    let level_scale = match org.admin_level {
        "ministry" => 40.0,
        "province" => 12.0,
        "city" => 5.0,
        _ => 1.0,
    };

    let name = plan.name.clone().unwrap_or_else(|| match plant {
        Some(Plant::NameMismatch) => {
            ["阳光小助手", "幸福生活圈", "身边事儿"][rng.random_range(0..3)].to_string()
        }
        _ => default_name(plan.platform, org),
    });
    let certification = match plant {
        Some(Plant::MissingCertification) => None,
        Some(Plant::FormerName) => org
            .former_name
            .as_ref()
            .map(|(n, _)| certification_text(plan.platform, n)),
        _ => Some(certification_text(plan.platform, &org.official_name)),
    };
    let (verified, verified_type) = match (plan.platform, plant) {
        ("app", _) => (None, None),
        ("wechat", Some(Plant::Unverified)) => (Some(false), Some(-1)),
        ("weibo", Some(Plant::Unverified)) => (Some(false), Some(-1)),
        ("wechat", _) => (Some(true), Some(0)),
        _ => (Some(true), Some(1)),
    };
    let kind = match plan.platform {
        "wechat" if service => "service",
        "wechat" => "subscription",
        "weibo" => "weibo",
        _ => "app",
    };
    let native = id
        .split_once(':')
        .map(|(_, n)| n.to_string())
        .unwrap_or_default();
    let url = match plan.platform {
        "wechat" => format!("https://mp.weixin.qq.com/mp/profile_ext?action=home&__biz={native}"),
        "weibo" => format!("https://weibo.com/u/{native}"),
        _ => format!("https://apps.apple.com/cn/app/id{native}"),
    };
    let followers = (rng.random_range(2_000.0..60_000.0) * level_scale) as i64;

    let mut data = AccountData {
        account: Some(AccountRow {
            account_id: id.clone(),
            platform: plan.platform,
            name,
            account_kind: kind,
            org_id: org.org_id.clone(),
            certification,
            verified,
            verified_type,
            followers,
            comments_enabled: !comments_closed,
            url,
            first_seen: format_shanghai(day_ms(history_start, 9 * 3600)),
            last_seen: format_shanghai(day_ms(as_of_day, 20 * 3600)),
        }),
        ..Default::default()
    };

    // ---- update days ----
    let mut updates: Vec<i64> = Vec::new(); // day numbers, one entry per update
    let empty_weeks = (plant == Some(Plant::EmptyWeeks)).then(|| {
        // Two full ISO weeks, 5 to 6 weeks before as_of's week.
        let monday = as_of_day - weekday(as_of_day) - 35;
        (monday, monday + 13)
    });
    let mut bursty_active = true;
    let biweekly_phase = rng.random_range(0..14);
    for day in history_start..=last_day {
        let wd = weekday(day);
        if wd == 0 && profile == Profile::Bursty {
            bursty_active = rng.random_bool(0.65);
        }
        let p = match profile {
            Profile::Daily => {
                if wd < 5 {
                    0.7
                } else {
                    0.3
                }
            }
            Profile::Regular | Profile::Stopped(_) | Profile::New(_) => 0.3,
            Profile::WeekdaysOnly => {
                if wd < 5 {
                    0.4
                } else {
                    0.0
                }
            }
            Profile::Bursty => {
                if bursty_active {
                    0.4
                } else {
                    0.0
                }
            }
            Profile::HolidayGaps => {
                if in_holiday_season(day) {
                    0.0
                } else {
                    0.3
                }
            }
            Profile::Biweekly => {
                if (day - biweekly_phase).rem_euclid(14) == 0 {
                    1.0
                } else {
                    0.0
                }
            }
        };
        if let Some((a, b)) = empty_weeks
            && (a..=b).contains(&day)
        {
            continue;
        }
        if p > 0.0 && rng.random_bool(p) {
            updates.push(day);
        }
    }
    // The stopping edge cases need an update exactly on the last day.
    if matches!(profile, Profile::Stopped(_)) && updates.last() != Some(&last_day) {
        updates.push(last_day);
    }
    // Accounts that just keep going still posted recently (a quiet fortnight is a planted case).
    if matches!(
        profile,
        Profile::Regular | Profile::Daily | Profile::WeekdaysOnly | Profile::HolidayGaps
    ) && plant.is_none()
        && !updates.iter().any(|d| *d > as_of_day - 10)
    {
        updates.push(as_of_day - 3);
    }

    // Content plants land on an update about a month before as_of.
    let content_slot = updates
        .iter()
        .rposition(|d| *d <= as_of_day - 30)
        .unwrap_or(updates.len().saturating_sub(1));

    let region = &org.short_name;
    let mut msg_seq = 0u64;
    for (u, &day) in updates.iter().enumerate() {
        let secs = rng.random_range(8 * 3600..21 * 3600);
        let ts = day_ms(day, secs);
        let articles = match plan.platform {
            // Most mass-sends carry one or two articles.
            "wechat" => {
                1 + usize::from(rng.random_bool(0.35))
                    + usize::from(service && rng.random_bool(0.3))
            }
            _ => 1,
        };
        msg_seq += 1;
        for pos in 0..articles {
            let planted_here = u == content_slot && pos == 0;
            let mut text = pick_text(&mut rng, region, plant == Some(Plant::NoPolicyPosts));
            let mut links = None;
            let mut html_extra = "";
            if planted_here {
                match plant {
                    Some(Plant::AdWording) => {
                        text = AD_TEXTS[rng.random_range(0..AD_TEXTS.len())].to_string()
                    }
                    Some(Plant::PublicServiceAd) => text = PUBLIC_AD_TEXT.replace("{r}", region),
                    Some(Plant::OffTopic) => {
                        text =
                            OFF_TOPIC_TEXTS[rng.random_range(0..OFF_TOPIC_TEXTS.len())].to_string()
                    }
                    Some(Plant::ImproperWording) => text = IMPROPER_TEXT.replace("{r}", region),
                    Some(Plant::SurveyWithoutFeedback) => text = SURVEY_TEXT.replace("{r}", region),
                    Some(Plant::CommercialLink) => {
                        links = Some(vec![format!(
                            "https://item.taobao.com/item.htm?id={}",
                            600_000_000_000u64 + plan.index
                        )]);
                    }
                    Some(Plant::AdSlot) => {
                        html_extra = r#"<mp-common-ad class="js_ad_area" data-ad-type="流量主"></mp-common-ad>"#
                    }
                    _ => {}
                }
            }
            let (post_id, url) = match plan.platform {
                "wechat" => {
                    let msgid = 2_247_480_000 + msg_seq;
                    (
                        format!("{msgid}_{}", pos + 1),
                        format!("https://mp.weixin.qq.com/s/{native}{msgid}{pos}"),
                    )
                }
                "weibo" => {
                    let mid = 5_000_000_000_000_000u64 + plan.index * 10_000 + msg_seq;
                    (mid.to_string(), format!("https://weibo.com/{native}/{mid}"))
                }
                _ => (
                    format!("n{msg_seq}"),
                    format!("https://app.gov.cn/{native}/news/{msg_seq}"),
                ),
            };
            let comments_open = !comments_closed && plan.platform != "app";
            let reads = (rng.random_range(50.0..3_000.0)
                * level_scale
                * if pos == 0 { 1.0 } else { 0.4 }) as i64;
            let reads = if reads > 100_000 { 100_001 } else { reads };
            let is_wechat = plan.platform == "wechat";
            let is_weibo = plan.platform == "weibo";
            let title = (plan.platform != "weibo").then(|| text.clone());
            let body = if is_weibo {
                text.clone()
            } else {
                format!("{text}。详情请阅读全文。")
            };
            data.posts.push(PostRow {
                account_id: id.clone(),
                post_id: post_id.clone(),
                published_at: format_shanghai(ts),
                title,
                // Most archives do not carry the article HTML; the ad-slot plant needs it.
                content_html: (is_wechat && !html_extra.is_empty())
                    .then(|| format!("<section><p>{body}</p>{html_extra}</section>")),
                text: body,
                url,
                links,
                position: pos as i64,
                is_deleted: !planted_here && rng.random_bool(0.01),
                is_original: !(is_weibo && rng.random_bool(0.12)),
                comments_open,
                read_count: (!is_weibo).then_some(reads),
                like_count: reads / rng.random_range(20..80),
                watch_count: is_wechat.then(|| reads / rng.random_range(40..200)),
                share_count: is_wechat.then(|| reads / rng.random_range(15..60)),
                comment_count: 0,
                repost_count: is_weibo
                    .then(|| rng.random_range(0..(20.0 * level_scale) as i64 + 1)),
            });
            if comments_open {
                let n = data.posts.len() - 1;
                add_comments(
                    &mut rng,
                    &mut data,
                    n,
                    ts,
                    as_of_day,
                    plan,
                    u == content_slot && pos == 0,
                );
            }
        }
    }

    if matches!(plan.platform, "wechat" | "app") {
        add_menu(&mut data, plan, &id, as_of_day, region);
    }
    data
}

pub fn default_name(platform: &str, org: &Org) -> String {
    match platform {
        // Weibo accounts often carry a 发布/微博 suffix; normalised it is the same name.
        "weibo" if org.admin_level == "ministry" => org.short_name.clone(),
        "weibo" => format!("{}微博", org.short_name),
        "app" => format!("{}APP", org.short_name),
        _ => org.short_name.clone(),
    }
}

fn certification_text(platform: &str, org_name: &str) -> String {
    match platform {
        "weibo" => format!("{org_name}官方微博"),
        _ => org_name.to_string(),
    }
}

fn pick_text(rng: &mut ChaCha8Rng, region: &str, news_only: bool) -> String {
    let template = if !news_only && rng.random_bool(0.25) {
        POLICY_TEXTS[rng.random_range(0..POLICY_TEXTS.len())]
    } else {
        NEWS_TEXTS[rng.random_range(0..NEWS_TEXTS.len())]
    };
    template.replace("{r}", region)
}

/// A comment to generate: its text, the reply (text, delay in hours) if any, whether elected.
type CommentSpec = (String, Option<(String, i64)>, bool);

/// Comments on one post, replied after realistic delays; the planted reply cases land on the
/// post that carries the account's content plant.
fn add_comments(
    rng: &mut ChaCha8Rng,
    data: &mut AccountData,
    post: usize,
    published_ms: i64,
    as_of_day: i64,
    plan: &AccountPlan<'_>,
    planted_post: bool,
) {
    let mut specs: Vec<CommentSpec> = Vec::new();
    let horizon_ms = day_ms(as_of_day, 20 * 3600);
    if rng.random_bool(0.18) {
        for _ in 0..rng.random_range(1..=3) {
            let text = COMMENT_TEXTS[rng.random_range(0..COMMENT_TEXTS.len())].to_string();
            let reply = if rng.random_bool(0.85) {
                Some((specific_reply(rng), rng.random_range(1..20)))
            } else if rng.random_bool(0.5) {
                // A slow but not necessarily late reply: up to two days.
                Some((specific_reply(rng), rng.random_range(20..48)))
            } else {
                None
            };
            specs.push((text, reply, rng.random_bool(0.7)));
        }
    }
    if planted_post {
        match plan.plant {
            // Eight calendar days: always more than three working days.
            Some(Plant::LateReply) => specs.push((
                COMMENT_TEXTS[1].to_string(),
                Some((REPLY_TEXTS[1].to_string(), 8 * 24)),
                true,
            )),
            Some(Plant::PerfunctoryReply) => {
                for text in &COMMENT_TEXTS[..3] {
                    specs.push((
                        text.to_string(),
                        Some((PERFUNCTORY_REPLY.to_string(), 3)),
                        true,
                    ));
                }
            }
            Some(Plant::ImproperCommentVisible) => {
                specs.push((IMPROPER_COMMENT.to_string(), None, true))
            }
            _ => {}
        }
    }
    let comment_base = data.comments.len();
    for (k, (text, reply, elected)) in specs.into_iter().enumerate() {
        let created = published_ms + rng.random_range(600..72 * 3600) * 1000;
        if created > horizon_ms {
            continue;
        }
        let reply = reply.and_then(|(t, hours)| {
            let at = created + hours * 3_600_000;
            (at <= horizon_ms).then(|| (t, format_shanghai(at)))
        });
        let (reply_content, reply_at) = reply.unzip();
        data.comments.push(CommentRow {
            account_id: data.posts[post].account_id.clone(),
            post_id: data.posts[post].post_id.clone(),
            comment_id: format!("{}", (comment_base + k + 1) as u64 + plan.index * 100_000),
            created_at: format_shanghai(created),
            content: text,
            author: pseudonym(plan.index, comment_base + k),
            is_elected: elected,
            is_visible: true,
            reply_content,
            reply_at,
        });
    }
    // The unanswered plant: a comment ten days before as_of, never replied.
    if plan.plant == Some(Plant::Unanswered) && planted_post {
        let created = day_ms(as_of_day - 10, 10 * 3600);
        data.comments.push(CommentRow {
            account_id: data.posts[post].account_id.clone(),
            post_id: data.posts[post].post_id.clone(),
            comment_id: format!("{}", plan.index * 100_000 + 99_999),
            created_at: format_shanghai(created.max(published_ms + 3_600_000)),
            content: COMMENT_TEXTS[0].to_string(),
            author: pseudonym(plan.index, 99_999),
            is_elected: true,
            is_visible: true,
            reply_content: None,
            reply_at: None,
        });
    }
    data.posts[post].comment_count = (data.comments.len() - comment_base) as i64;
}

/// A reply that answers the question with specifics (office, extension, date), as real replies
/// do: a fixed sentence reused for many comments is what INT003 looks for.
fn specific_reply(rng: &mut ChaCha8Rng) -> String {
    let base = REPLY_TEXTS[rng.random_range(0..REPLY_TEXTS.len())];
    let window = rng.random_range(1..=36);
    let extension = rng.random_range(100..=999);
    let day = rng.random_range(1..=28);
    format!("{base}如有疑问请致电服务热线转{extension}，或于本月{day}日前到{window}号窗口咨询。")
}

/// A stable pseudonym of the kind the importer writes for commenters (never a real identity).
fn pseudonym(account: u64, n: usize) -> String {
    let h = (account.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (n as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
    .rotate_left(17);
    format!("u_{:012x}", h & 0xFFFF_FFFF_FFFF)
}

fn add_menu(
    data: &mut AccountData,
    plan: &AccountPlan<'_>,
    id: &str,
    as_of_day: i64,
    region: &str,
) {
    let collected = format_shanghai(day_ms(as_of_day, 10 * 3600));
    let site = format!("https://www.{}.gov.cn", plan.org.region);
    let mut entries: Vec<(String, &'static str, String)> = match plan.plant {
        Some(Plant::NoServiceMenu) => vec![
            ("最新动态/工作动态".into(), "view", format!("{site}/xwdt/")),
            ("最新动态/通知公告".into(), "view", format!("{site}/tzgg/")),
            ("关于我们/联系我们".into(), "click", "CONTACT".into()),
        ],
        _ => vec![
            ("最新动态/工作动态".into(), "view", format!("{site}/xwdt/")),
            (
                "办事服务/网上办事".into(),
                "view",
                format!("https://zwfw.{}.gov.cn/mobile/{region}/", plan.org.region),
            ),
            (
                "办事服务/预约办理".into(),
                "miniprogram",
                "wx1234567890abcdef:pages/booking/index".into(),
            ),
            (
                "便民查询/进度查询".into(),
                "view",
                format!("https://zwfw.{}.gov.cn/mobile/query/", plan.org.region),
            ),
            ("互动交流/留言咨询".into(), "click", "MESSAGE".into()),
        ],
    };
    match plan.plant {
        Some(Plant::DeadMenuLink) => {
            entries.push((
                "便民查询/政策查询".into(),
                "view",
                format!("{site}/zcwj/old/index.html"),
            ));
        }
        // A service entry that only jumps to the portal's home page.
        Some(Plant::PortalRootMenu) => entries[1].2 = "https://www.gov.cn/".into(),
        _ => {}
    }
    for (path, kind, target) in entries {
        let name = path.rsplit('/').next().unwrap_or(&path).to_string();
        if kind == "view" {
            let dead = target.ends_with("/old/index.html");
            for attempt in 0..if dead { 2 } else { 1 } {
                data.link_checks.push(LinkCheckRow {
                    url: target.clone(),
                    // The checker works through the accounts one after another.
                    checked_at: format_shanghai(day_ms(
                        as_of_day,
                        11 * 3600 + (plan.index % 20_000) as i64 + attempt * 600,
                    )),
                    status: Some(if dead { 404 } else { 200 }),
                    error: None,
                });
            }
        }
        data.menus.push(MenuRow {
            account_id: id.to_string(),
            path,
            name,
            kind,
            target,
            collected_at: collected.clone(),
        });
    }
}

/// Monday = 0 … Sunday = 6 for a day number (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// UTC milliseconds of a Beijing day number plus seconds after local midnight.
pub fn day_ms(day: i64, secs: i64) -> i64 {
    day * DAY_MS + secs * 1000 - SHANGHAI_OFFSET_MS
}

/// Spring Festival (late January to early February) and National Day (1–8 October), roughly:
/// the posting pause of the holiday-gap profile, not the official calendar.
fn in_holiday_season(day: i64) -> bool {
    use chrono::Datelike;
    let date = crate::time::days_to_date(day as i32);
    let md = (date.month(), date.day());
    ((1, 27)..=(2, 6)).contains(&md) || ((10, 1)..=(10, 8)).contains(&md)
}
