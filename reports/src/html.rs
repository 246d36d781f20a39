//! What every HTML page of the report shares: the stylesheet written once beside the pages,
//! and the template environment. Autoescaping is on for every `.html` template: account names,
//! org ids and any other text from the data are untrusted and always escaped.

use std::path::Path;
use std::sync::OnceLock;

use govmedia_collectors::store::write_atomic;
use minijinja::{AutoEscape, Environment};

use crate::Error;

/// The one stylesheet of the report's pages (screen and print), written once beside them.
pub const STYLESHEET: &str = include_str!("../templates/report.css");
pub const STYLESHEET_FILE: &str = "report.css";

/// The script that sorts a table by a clicked `th[data-sort]` (index league tables, directory
/// pages), inlined into each page's own script: pages stay single files that work from
/// `file://`.
pub fn sortable_script() -> minijinja::Value {
    minijinja::Value::from_safe_string(include_str!("../templates/sortable.js").to_string())
}

/// Writes the stylesheet into a report folder; returns its path.
pub fn write_stylesheet(dir: &Path) -> Result<std::path::PathBuf, Error> {
    let path = dir.join(STYLESHEET_FILE);
    write_atomic(&path, |f| {
        std::io::Write::write_all(f, STYLESHEET.as_bytes())
    })?;
    Ok(path)
}

/// A template environment holding one page template (`name` ends in `.html`, so every
/// expression is HTML-escaped), compiled on first use and shared by every page written after.
pub fn template_environment(
    cell: &'static OnceLock<Environment<'static>>,
    name: &'static str,
    source: &'static str,
) -> Result<&'static Environment<'static>, Error> {
    if let Some(env) = cell.get() {
        return Ok(env);
    }
    let mut env = Environment::new();
    env.set_formatter(escape_html);
    env.add_template(name, source)?;
    Ok(cell.get_or_init(|| env))
}

/// Escapes text for HTML content and quoted attribute values: `& < > " '` (minijinja's default
/// also writes every `/` as `&#x2f;`, which only made evidence URLs longer).
fn escape_html(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    let text = match value.as_str() {
        Some(text) if state.auto_escape() == AutoEscape::Html && !value.is_safe() => text,
        _ => return minijinja::escape_formatter(out, state, value),
    };
    let io = |e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "").with_source(e);
    escape_pieces(text, |piece| out.write_str(piece)).map_err(io)
}

/// Appends `text` escaped as the templates escape it ([`escape_html`]), for pages written
/// without a template.
pub fn push_escaped(out: &mut String, text: &str) {
    let _ = escape_pieces(text, |piece| {
        out.push_str(piece);
        Ok(())
    });
}

/// Hands `text` over in pieces, plain runs and entities in order, the entities for
/// `& < > " '`.
fn escape_pieces(text: &str, mut write: impl FnMut(&str) -> std::fmt::Result) -> std::fmt::Result {
    let mut plain = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => continue,
        };
        write(&text[plain..i])?;
        write(entity)?;
        plain = i + 1;
    }
    write(&text[plain..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes_but_slashes_stay() {
        static CELL: OnceLock<Environment<'static>> = OnceLock::new();
        let env = template_environment(
            &CELL,
            "t.html",
            "<a title=\"{{ v }}\" href=\"{{ u }}\">{{ v }}</a>{{ n }}{{ s | safe }}",
        )
        .unwrap();
        let html = env
            .get_template("t.html")
            .unwrap()
            .render(minijinja::context! {
                v => "</a><script>alert(\"x\" & 'y')</script>",
                u => "https://example.org/a?b=1&c=2",
                n => 42,
                s => "<b>ours</b>",
            })
            .unwrap();
        assert_eq!(
            html,
            "<a title=\"&lt;/a&gt;&lt;script&gt;alert(&quot;x&quot; &amp; &#x27;y&#x27;)&lt;/script&gt;\" \
             href=\"https://example.org/a?b=1&amp;c=2\">&lt;/a&gt;&lt;script&gt;alert(&quot;x&quot; \
             &amp; &#x27;y&#x27;)&lt;/script&gt;</a>42<b>ours</b>"
        );
    }
}
