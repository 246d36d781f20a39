//! NAM and OPN fixtures: OK accounts first, then violations.

use govmedia_collectors::schema::{ACCOUNTS, ORGS, POSTS};

use super::normalise_name;
use crate::engine::AuditResult;
use crate::testing::Fixture;

const ORGS_CSV: &str = "org_id,official_name,short_names,former_names,duty_keywords,admin_level,group,region,internal_dept
org-js,江苏省卫生健康委员会,江苏卫健委,江苏省卫生和计划生育委员会@2018-11-01,卫健|健康,province,省级,江苏省,false
org-nj,南京市民政局,南京民政,,民政,city,省会城市,南京市,false
org-x,南京市民政局办公室,南京民政办公室,,民政,city,省会城市,南京市,true
";

const ACCOUNTS_JSONL: &str = r#"
{"account_id":"wechat:gh_js","platform":"wechat","name":"江苏卫健委","org_id":"org-js","certification":"江苏省卫生健康委员会","verified":true,"verified_type":0,"followers":900,"first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"weibo:1","platform":"weibo","name":"江苏卫健委发布","org_id":"org-js","certification":"江苏省卫生健康委员会官方微博","verified":true,"verified_type":1,"followers":500,"first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"app:1","platform":"app","name":"江苏卫健委 ＡＰＰ","org_id":"org-js","certification":"江苏省卫生健康委员会","followers":10,"first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"wechat:gh_nj","platform":"wechat","name":"南京民政","org_id":"org-nj","certification":"南京市民政局","verified":true,"verified_type":0,"followers":800,"first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"wechat:gh_nj2","platform":"wechat","name":"阳光小助手","org_id":"org-nj","certification":"南京市民政局","verified":true,"verified_type":0,"followers":20,"first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"weibo:2","platform":"weibo","name":"南京之声","org_id":"org-nj","certification":"江苏省卫生和计划生育委员会官方微博","verified":true,"verified_type":0,"followers":30,"first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"weibo:4","platform":"weibo","name":"江苏卫健委","org_id":"org-js","certification":"江苏省卫生和计划生育委员会官方微博","verified":true,"verified_type":1,"followers":5,"first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"weibo:3","platform":"weibo","name":"南京民政办公室","org_id":"org-x","verified":false,"verified_type":-1,"first_seen":"2024-01-01T00:00:00+08:00"}
"#;

const POSTS_JSONL: &str = r#"
{"account_id":"wechat:gh_nj","post_id":"1","published_at":"2025-11-20T10:00:00+08:00"}
{"account_id":"wechat:gh_nj2","post_id":"1","published_at":"2025-11-21T10:00:00+08:00"}
"#;

fn audit_with(orgs: bool, as_of: &str) -> AuditResult {
    let mut fixture = Fixture::at(as_of)
        .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
        .jsonl(&POSTS, POSTS_JSONL);
    if orgs {
        fixture = fixture.csv(&ORGS, ORGS_CSV);
    }
    fixture.audit(&["NAM", "OPN"])
}

fn keys(r: &AuditResult) -> Vec<String> {
    let f = &r.findings;
    let s = |c: &str| f.column(c).unwrap().str().unwrap().clone();
    let (code, account) = (s("code"), s("account_id"));
    (0..f.height())
        .map(|i| format!("{} {}", code.get(i).unwrap(), account.get(i).unwrap()))
        .collect()
}

#[test]
fn width_suffix_and_region_do_not_change_a_name() {
    assert_eq!(
        normalise_name("江苏卫健委发布", None),
        normalise_name("江苏卫健委", None)
    );
    assert_eq!(normalise_name("江苏卫健委 ＡＰＰ", None), "江苏卫健委");
    assert_eq!(normalise_name("ＮＪ民政　微博", None), "nj民政");
    assert_eq!(normalise_name("南京民政", Some("南京市")), "民政");
}

#[test]
fn ok_accounts_have_no_naming_finding() {
    let k = keys(&audit_with(true, "2025-11-30"));
    for ok in ["wechat:gh_js", "weibo:1", "app:1", "wechat:gh_nj"] {
        assert!(!k.iter().any(|x| x.ends_with(ok)), "{ok}: {k:?}");
    }
}

#[test]
fn each_violation() {
    let k = keys(&audit_with(true, "2025-11-30"));
    for expected in [
        "NAM001 weibo:2",       // 南京之声: neither name nor duty
        "NAM001 wechat:gh_nj2", // 阳光小助手
        "NAM002 weibo:2",       // differs from 南京民政 on WeChat
        "NAM003 weibo:2",       // certification names another unit
        "NAM004 weibo:4",       // its org's former name, after 2018-11-01
        "NAM005 weibo:3",
        "NAM006 weibo:3",
        "OPN001 wechat:gh_nj2", // two active WeChat accounts; the smaller one is the extra
    ] {
        assert!(
            k.contains(&expected.to_string()),
            "{expected} missing: {k:?}"
        );
    }
    assert!(
        !k.contains(&"NAM002 wechat:gh_nj2".to_string()),
        "a same-platform duplicate is OPN001's"
    );
}

#[test]
fn a_former_name_before_its_end_date_does_not_fire() {
    let k = keys(&audit_with(true, "2018-10-01"));
    assert!(!k.iter().any(|x| x.starts_with("NAM004")), "{k:?}");
}

#[test]
fn without_a_registry_the_registry_rules_are_not_assessed() {
    let r = audit_with(false, "2025-11-30");
    let codes: Vec<&str> = r.not_assessed.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, ["NAM001", "NAM002", "NAM003", "NAM004", "NAM006"]);
    assert!(r.not_assessed[0].1.contains("--orgs"));
    let k = keys(&r);
    assert!(
        k.iter()
            .all(|x| x.starts_with("NAM005") || x.starts_with("OPN001")),
        "{k:?}"
    );
}

#[test]
fn snapshot_of_naming_findings() {
    let r = audit_with(true, "2025-11-30");
    let f = &r.findings;
    let s = |c: &str| f.column(c).unwrap().str().unwrap().clone();
    let (code, account, message, evidence) =
        (s("code"), s("account_id"), s("message"), s("evidence"));
    let text: Vec<String> = (0..f.height())
        .map(|i| {
            format!(
                "{} | {} | {} | {}",
                code.get(i).unwrap(),
                account.get(i).unwrap(),
                message.get(i).unwrap(),
                evidence.get(i).unwrap()
            )
        })
        .collect();
    insta::assert_snapshot!("nam_findings_zh", text.join("\n"));
}

/// An organisation's normalised names and duty keywords, made once, are the ones each comparison
/// made before: full-width letters, a region prefix and suffixes dropped, an empty short name
/// matching nothing, and a keyword of white space only kept (it normalises to nothing, which
/// every name contains, as it did).
#[test]
fn an_orgs_forms_are_its_names_and_keywords_normalised() {
    let org = super::OrgEntry {
        official_name: "南京市民政局".into(),
        short_names: vec!["ＮＪ民政发布".into(), String::new()],
        duty_keywords: vec!["民政".into(), String::new(), "　".into()],
        region: Some("南京市".into()),
        ..Default::default()
    };
    let forms = org.forms();
    assert_eq!(
        forms.names,
        [
            ("南京市民政局".to_string(), "民政局".to_string()),
            ("nj民政发布".to_string(), "nj民政".to_string()),
            (String::new(), String::new()),
        ]
    );
    assert_eq!(forms.duties, ["民政", ""]);
    assert!(super::names_org("nj民政", &org));
    assert!(super::names_org("南京民政局服务", &org));
    assert!(!super::names_org("阳光小助手", &org));
}
