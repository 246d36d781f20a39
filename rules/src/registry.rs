//! The rule catalogue: every rule, in catalogue order. Adding a rule is one file in its family's
//! folder, one line here and one fixture in the family's tests.

use crate::engine::Rule;
use crate::{content, interaction, naming, service, update};

/// Every rule, in catalogue order.
pub fn registry() -> &'static [&'static dyn Rule] {
    static RULES: [&dyn Rule; 26] = [
        &update::empty_period::EmptyPeriod,
        &update::no_update_in_two_weeks::NoUpdateInTwoWeeks,
        &update::dormant_account::DormantAccount,
        &content::ad_wording::AdWording,
        &content::commercial_link::CommercialLink,
        &content::ad_slot::AdSlot,
        &content::off_topic::OffTopic,
        &content::improper_wording::ImproperWording,
        &content::missing_required_kind::MissingRequiredKind,
        &naming::name_mismatch::NameMismatch,
        &naming::cross_platform_name::CrossPlatformName,
        &naming::uncertified::Uncertified,
        &naming::former_name::FormerName,
        &naming::unverified::Unverified,
        &naming::internal_department::InternalDepartment,
        &naming::one_account_per_platform::OneAccountPerPlatform,
        &interaction::late_reply::LateReply,
        &interaction::unanswered::Unanswered,
        &interaction::improper_reply::ImproperReply,
        &interaction::improper_comment_visible::ImproperCommentVisible,
        &interaction::no_interaction::NoInteraction,
        &interaction::survey_without_feedback::SurveyWithoutFeedback,
        &service::no_service_entry::NoServiceEntry,
        &service::no_query_entry::NoQueryEntry,
        &service::dead_menu_link::DeadMenuLink,
        &service::portal_root_jump::PortalRootJump,
    ];
    &RULES
}

/// What a rule's `item_id` names, so a finding links to that item's own URL in the store (never a
/// URL found in the evidence text, which may quote a post's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// `item_id` is a post id: the post's URL.
    Post,
    /// `item_id` is a comment id: the URL of the post it is on.
    Comment,
    /// `item_id` is a menu path: the entry's target.
    MenuEntry,
    /// No item; the finding is about the last update, whose URL the rule writes at the end of
    /// its evidence (`…: URL`, the store's URL of that post).
    LastUpdate,
    /// A period or the account itself: no link.
    None,
}

/// The kind of item a rule's findings name.
pub fn item_kind(code: &str) -> ItemKind {
    match code {
        "CNT001" | "CNT002" | "CNT003" | "CNT004" | "CNT005" | "INT006" => ItemKind::Post,
        "INT001" | "INT002" | "INT003" | "INT004" => ItemKind::Comment,
        "SVC003" | "SVC004" => ItemKind::MenuEntry,
        "UPD002" | "UPD003" => ItemKind::LastUpdate,
        _ => ItemKind::None,
    }
}

pub fn rule_by_code(code: &str) -> Option<&'static dyn Rule> {
    registry()
        .iter()
        .copied()
        .find(|r| r.info().code.eq_ignore_ascii_case(code))
}

/// The catalogue as Markdown (`docs/checks.md`, `govmedia rules --markdown`): a table of every
/// rule, then each rule's documentation and parameters, all from the rules' own source.
pub fn catalogue_markdown() -> String {
    let mut md = String::from(
        "# Rule catalogue\n\n\
         Generated from the rules' own documentation by `govmedia rules --markdown`; a test keeps \
         this file equal to it. `govmedia rule CODE` prints one rule, with the values a \
         configuration sets.\n\n\
         | code | severity | name | fires when |\n|---|---|---|---|\n",
    );
    for rule in registry() {
        let info = rule.info();
        md.push_str(&format!(
            "| [{code}](#{anchor}) | {} | {} | {} |\n",
            info.severity.as_str(),
            info.name,
            info.summary.replace('|', "\\|"),
            code = info.code,
            anchor = info.code.to_ascii_lowercase(),
        ));
    }
    for rule in registry() {
        let info = rule.info();
        // The doc's own headings become subheadings of the rule's section.
        let doc: String = info
            .doc()
            .lines()
            .map(|l| {
                if l.starts_with('#') {
                    format!("##{l}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let mut lines = doc.lines();
        let title = lines.next().unwrap_or(info.code);
        md.push_str(&format!(
            "\n<a id=\"{}\"></a>\n\n## {}\n\nSeverity: {}. Name: `{}`.\n{}\n",
            info.code.to_ascii_lowercase(),
            title.trim_start_matches('#').trim(),
            info.severity.as_str(),
            info.name,
            lines.collect::<Vec<_>>().join("\n").trim_end()
        ));
        if !info.params.is_empty() {
            md.push_str(
                "\n### Parameters\n\n| key | default | allowed | meaning |\n|---|---|---|---|\n",
            );
            for p in info.params {
                let allowed = match p.default {
                    crate::context::ParamValue::Bool(_) => "true, false".to_string(),
                    crate::context::ParamValue::Int(_) => format!("{} – {}", p.range.0, p.range.1),
                };
                md.push_str(&format!(
                    "| `{}` | {} | {allowed} | {} |\n",
                    p.key,
                    p.default,
                    p.help.replace('|', "\\|")
                ));
            }
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/checks.md is the catalogue the code cites: it must say what the rules say.
    #[test]
    fn docs_checks_md_is_the_generated_catalogue() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/checks.md");
        let expected = catalogue_markdown();
        if std::env::var_os("GOVMEDIA_DOCS_UPDATE").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == expected,
            "docs/checks.md is out of date: run `govmedia rules --markdown > docs/checks.md` \
             (or GOVMEDIA_DOCS_UPDATE=1 cargo test -p govmedia-rules docs_checks)"
        );
        for rule in registry() {
            assert!(written.contains(&format!("[{}](#", rule.info().code)));
        }
    }
}
