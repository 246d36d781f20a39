//! Helpers shared by the rule families' fixture tests.

use crate::engine::AuditResult;

/// Each finding as `code account item` (`-` when it has no item), in output order.
pub fn finding_keys(result: &AuditResult) -> Vec<String> {
    let f = &result.findings;
    let s = |c: &str| f.column(c).unwrap().str().unwrap().clone();
    let (code, account, item) = (s("code"), s("account_id"), s("item_id"));
    (0..f.height())
        .map(|i| {
            format!(
                "{} {} {}",
                code.get(i).unwrap(),
                account.get(i).unwrap(),
                item.get(i).unwrap_or("-")
            )
        })
        .collect()
}
