//! SVG charts drawn with plotters, returned as strings so pages can inline them or write them
//! next to the page. Text uses a font-family list with CJK fallbacks so Chinese renders on
//! Windows, macOS and Linux.

use chrono::NaiveDate;
use govmedia_rules::Lang;
use plotters::prelude::*;

use crate::Error;

/// Font families tried in order: Windows, macOS, Linux CJK fonts, then any sans-serif.
pub const FONT_FAMILY: &str = "Microsoft YaHei, PingFang SC, Hiragino Sans GB, Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif";

const BAR_OK: RGBColor = RGBColor(0x2f, 0x6f, 0xb3);
const BAR_SHORT: RGBColor = RGBColor(0xd0, 0x3b, 0x2f);
const BAR_PARTIAL: RGBColor = RGBColor(0xb8, 0xbf, 0xc7);
const THRESHOLD: RGBColor = RGBColor(0xe0, 0x8a, 0x00);
const VETO_WINDOW: RGBColor = RGBColor(0xd0, 0x3b, 0x2f);

/// One ISO week of an account's window.
#[derive(Debug, Clone)]
pub struct WeekBar {
    pub week_start: NaiveDate,
    pub updates: i64,
    /// False for the partial weeks at the window's edges, which are not judged.
    pub judged: bool,
}

/// Weekly updates as bars against the cadence threshold. Judged weeks below the threshold are
/// red (a short red mark when the week is empty), partial weeks grey.
///
/// `veto_window` (first and last day, inclusive) is shaded: the two weeks before the monitoring
/// time point that the no-update veto (UPD002) looks at.
pub fn weekly_updates_svg(
    title: &str,
    weeks: &[WeekBar],
    threshold: f64,
    veto_window: Option<(NaiveDate, NaiveDate)>,
    lang: Lang,
) -> Result<String, Error> {
    let mut svg = String::new();
    let chart_err = |e: &dyn std::fmt::Display| Error::Chart(title.to_string(), e.to_string());
    {
        let root = SVGBackend::with_string(&mut svg, (760, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_err(&e))?;
        let n = weeks.len().max(1) as f64;
        let top = weeks
            .iter()
            .map(|w| w.updates)
            .max()
            .unwrap_or(0)
            .max(threshold.ceil() as i64)
            .max(1) as f64
            * 1.15;
        let font = |size| (FONT_FAMILY, size).into_font();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(16))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(36)
            .build_cartesian_2d(0f64..n, 0f64..top)
            .map_err(|e| chart_err(&e))?;
        let label_weeks = weeks.to_vec();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(12)
            .x_label_formatter(&|x| {
                label_weeks
                    .get(x.floor().max(0.0) as usize)
                    .map(|w| w.week_start.format("%m-%d").to_string())
                    .unwrap_or_default()
            })
            // Updates are whole numbers: one tick per integer, at most eleven.
            .y_labels((top.floor() as usize + 1).min(11))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc(lang.pick("每周更新次数", "updates per week"))
            .label_style(font(11))
            .axis_desc_style(font(11))
            .draw()
            .map_err(|e| chart_err(&e))?;

        if let (Some((from, to)), Some(first)) = (veto_window, weeks.first()) {
            let x = |d: NaiveDate| (d - first.week_start).num_days() as f64 / 7.0;
            chart
                .draw_series([Rectangle::new(
                    [(x(from).max(0.0), 0.0), ((x(to) + 1.0 / 7.0).min(n), top)],
                    VETO_WINDOW.mix(0.18).filled(),
                )])
                .map_err(|e| chart_err(&e))?
                .label(lang.pick(
                    "监测点前14天（否决窗口）",
                    "14 days before as_of (veto window)",
                ))
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], VETO_WINDOW.mix(0.3).filled())
                });
        }
        let short_mark = top * 0.03;
        chart
            .draw_series(weeks.iter().enumerate().map(|(i, w)| {
                let x0 = i as f64 + 0.12;
                let x1 = i as f64 + 0.88;
                let short = w.judged && (w.updates as f64) < threshold;
                let color = if !w.judged {
                    BAR_PARTIAL
                } else if short {
                    BAR_SHORT
                } else {
                    BAR_OK
                };
                let height = if short {
                    (w.updates as f64).max(short_mark)
                } else {
                    w.updates as f64
                };
                Rectangle::new([(x0, 0.0), (x1, height)], color.filled())
            }))
            .map_err(|e| chart_err(&e))?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, threshold), (n, threshold)],
                ShapeStyle::from(&THRESHOLD).stroke_width(2),
            ))
            .map_err(|e| chart_err(&e))?
            .label(match lang {
                Lang::Zh => format!("更新要求（每周{threshold}次）"),
                Lang::En => format!("required ({threshold} per week)"),
            })
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], THRESHOLD.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(font(11))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.2))
            .draw()
            .map_err(|e| chart_err(&e))?;
        root.present().map_err(|e| chart_err(&e))?;
    }
    Ok(crate::charts::compact_svg(svg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weeks() -> Vec<WeekBar> {
        let start = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
        [(2, false), (0, true), (3, true)]
            .iter()
            .enumerate()
            .map(|(i, (u, judged))| WeekBar {
                week_start: start + chrono::Duration::weeks(i as i64),
                updates: *u,
                judged: *judged,
            })
            .collect()
    }

    #[test]
    fn chart_marks_the_threshold_and_the_empty_week_and_escapes_the_title() {
        let svg = weekly_updates_svg("<script>x</script>某市发布", &weeks(), 1.0, None, Lang::Zh)
            .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("更新要求"), "threshold legend missing");
        assert!(
            svg.contains("#D03B2F") || svg.contains("#d03b2f"),
            "empty week not highlighted"
        );
        assert!(!svg.contains("<script>"), "title not escaped");
        assert!(svg.contains("Noto Sans CJK SC"));
        let end = NaiveDate::from_ymd_opt(2025, 11, 23).unwrap();
        let shaded = weekly_updates_svg(
            "t",
            &weeks(),
            1.0,
            Some((end - chrono::Duration::days(13), end)),
            Lang::Zh,
        )
        .unwrap();
        assert!(shaded.contains("否决窗口"), "veto window legend missing");
    }
}

/// Makes a plotters SVG small and fluid: the font family said once on the root (every text
/// inherits it) instead of on each of hundreds of labels, font sizes to one decimal, default
/// `opacity="1"` dropped, and the fixed width replaced by `100%` (the `viewBox` keeps the
/// proportions), so a chart scales with the page and prints at the page's width.
pub fn compact_svg(svg: String) -> String {
    let mut out = String::with_capacity(svg.len() / 2);
    let mut rest = svg.as_str();
    const FAMILY: &str = " font-family=\"";
    const SIZE: &str = " font-size=\"";
    loop {
        let next_family = rest.find(FAMILY);
        let next_size = rest.find(SIZE);
        let (at, is_family) = match (next_family, next_size) {
            (None, None) => break,
            (Some(f), Some(s)) if s < f => (s, false),
            (Some(f), _) => (f, true),
            (None, Some(s)) => (s, false),
        };
        out.push_str(&rest[..at]);
        let key = if is_family { FAMILY } else { SIZE };
        let value_start = at + key.len();
        let Some(len) = rest[value_start..].find('"') else {
            rest = &rest[at..];
            break;
        };
        let value = &rest[value_start..value_start + len];
        if !is_family {
            let size = value
                .parse::<f64>()
                .map(|v| format!("{v:.1}").trim_end_matches(".0").to_string())
                .unwrap_or_else(|_| value.to_string());
            out.push_str(SIZE);
            out.push_str(&size);
            out.push('"');
        }
        rest = &rest[value_start + len + 1..];
    }
    out.push_str(rest);
    let mut out = out.replace(" opacity=\"1\"", "");
    // The root: `<svg width="W" height="H" viewBox=…` becomes fluid and names the font once.
    if let Some(start) = out.find("<svg ")
        && let Some(view) = out[start..].find(" viewBox=")
    {
        let head = format!("<svg width=\"100%\" font-family=\"{FONT_FAMILY}\"");
        out.replace_range(start..start + view, &head);
    }
    style_classes(&out)
}

/// Presentation attributes children inherit from a `<g>` (opacity is not among them: on a group
/// it would composite the group as one).
const INHERITED: [&str; 7] = [
    "fill",
    "stroke",
    "stroke-width",
    "font-size",
    "text-anchor",
    "fill-opacity",
    "stroke-opacity",
];

/// An element's opening tag split into its name, the inheritable attributes (as one string, in
/// a fixed order) and the others; `None` for a line that is not an element's opening tag.
fn split_element(line: &str) -> Option<(&str, String, String, &str)> {
    let body = line.strip_prefix('<')?;
    if body.starts_with(['/', '?', '!']) || body.starts_with("svg") || body.starts_with("g ") {
        return None;
    }
    let (close, body) = if let Some(b) = body.strip_suffix("/>") {
        ("/>", b)
    } else {
        (">", body.strip_suffix('>')?)
    };
    let tag = body.split_once(' ')?.0;
    // `rest` always starts at the space before an attribute: ` key="value"`.
    let mut rest = &body[tag.len()..];
    let mut inherited: Vec<(usize, &str)> = Vec::new();
    let mut kept = String::with_capacity(rest.len());
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].trim();
        let value_start = eq + 2;
        let end = value_start + rest[value_start..].find('"')?;
        let attribute = &rest[..=end];
        match INHERITED.iter().position(|k| *k == key) {
            Some(place) => inherited.push((place, attribute)),
            None => kept.push_str(attribute),
        }
        rest = &rest[end + 1..];
    }
    if !rest.trim().is_empty() {
        return None;
    }
    inherited.sort_unstable();
    let inherited: String = inherited.into_iter().map(|(_, a)| a).collect();
    Some((tag, inherited, kept, close))
}

/// Moves each element's presentation attributes into a class (named after a hash of them, so
/// the same look gets the same class in every chart of a page, and the definitions never
/// clash), defined once in the chart's `<style>`: a tick label carries `class="…"` instead of
/// fill, size and anchor. Text labels are put on their tag's line (SVG drops those newlines),
/// and empty labels (plotters writes one per unlabelled tick) are dropped. Draw order is
/// unchanged.
fn style_classes(svg: &str) -> String {
    let mut body = String::with_capacity(svg.len());
    let mut classes: Vec<(String, String)> = Vec::new();
    let mut lines = svg.lines();
    while let Some(line) = lines.next() {
        let Some((tag, inherited, kept, close)) = split_element(line) else {
            body.push_str(line);
            body.push('\n');
            continue;
        };
        let mut element = String::new();
        if tag == "text" && close == ">" {
            // `<text …>` / label / `</text>` on one line.
            let mut label = String::new();
            for next in lines.by_ref() {
                if next.starts_with("</text>") {
                    break;
                }
                label.push_str(next);
            }
            if label.trim().is_empty() {
                continue;
            }
            element.push_str(&label);
            element.push_str("</text>");
        }
        let class = if inherited.is_empty() {
            String::new()
        } else {
            let name = format!("g{:05x}", fnv32(&inherited) & 0xf_ffff);
            if !classes.iter().any(|(n, _)| *n == name) {
                classes.push((name.clone(), css_of(&inherited)));
            }
            format!(" class=\"{name}\"")
        };
        for part in ["<", tag, &class, &kept, close, &element, "\n"] {
            body.push_str(part);
        }
    }
    if classes.is_empty() {
        return body;
    }
    let style: String = classes
        .iter()
        .map(|(name, css)| format!(".{name}{{{css}}}"))
        .collect();
    // The style goes first inside the root element.
    match body.find('>') {
        Some(root_end) => {
            let mut out = String::with_capacity(body.len() + style.len() + 16);
            out.push_str(&body[..=root_end]);
            out.push_str(&format!("\n<style>{style}</style>"));
            out.push_str(&body[root_end + 1..]);
            out
        }
        None => body,
    }
}

/// CSS declarations of presentation attributes (` fill="#000" font-size="8.9"` →
/// `fill:#000;font-size:8.9px`).
fn css_of(attributes: &str) -> String {
    attributes
        .split('"')
        .collect::<Vec<_>>()
        .chunks(2)
        .filter_map(|pair| match pair {
            [key, value] => {
                let key = key.trim().trim_end_matches('=');
                let unit = if key == "font-size" { "px" } else { "" };
                Some(format!("{key}:{value}{unit}"))
            }
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn fnv32(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |hash, b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod compact_tests {
    use super::*;

    #[test]
    fn compact_svg_names_the_font_once_and_is_fluid() {
        let svg = format!(
            "<svg width=\"760\" height=\"240\" viewBox=\"0 0 760 240\" xmlns=\"http://www.w3.org/2000/svg\">\n\
             <text x=\"1\" font-family=\"{FONT_FAMILY}\" font-size=\"12.096774193548388\" opacity=\"1\" fill=\"#000\">甲</text>\n\
             <text x=\"2\" font-family=\"{FONT_FAMILY}\" font-size=\"9\" opacity=\"0.5\">乙</text>\n</svg>"
        );
        let small = compact_svg(svg);
        assert_eq!(small.matches("font-family").count(), 1, "{small}");
        assert!(
            small.starts_with("<svg width=\"100%\" font-family=\""),
            "{small}"
        );
        assert!(small.contains("viewBox=\"0 0 760 240\""));
        assert!(small.contains("font-size=\"12.1\"") && small.contains("font-size=\"9\""));
        assert!(!small.contains("opacity=\"1\"") && small.contains("opacity=\"0.5\""));
        assert!(small.contains(">甲</text>") && small.contains(">乙</text>"));
    }

    #[test]
    fn presentation_attributes_become_shared_classes_and_empty_labels_go() {
        let svg = "<svg width=\"100%\" viewBox=\"0 0 10 10\">\n\
                   <polyline fill=\"none\" stroke=\"#000000\" stroke-width=\"1\" points=\"1,1 2,2 \"/>\n\
                   <text x=\"5\" y=\"5\" dy=\"0.5ex\" text-anchor=\"end\" font-size=\"8.9\" fill=\"#000000\">\n\
                   标签\n\
                   </text>\n\
                   <text x=\"6\" y=\"6\" dy=\"0.5ex\" text-anchor=\"end\" font-size=\"8.9\" fill=\"#000000\">\n\
                   \n\
                   </text>\n\
                   <polyline fill=\"none\" stroke=\"#000000\" stroke-width=\"1\" points=\"3,3 4,4 \"/>\n\
                   <line opacity=\"0.2\" stroke=\"#000000\" x1=\"0\" y1=\"1\" x2=\"9\" y2=\"1\"/>\n\
                   </svg>";
        let out = style_classes(svg);
        let tick = format!(
            "g{:05x}",
            fnv32(" fill=\"none\" stroke=\"#000000\" stroke-width=\"1\"") & 0xf_ffff
        );
        let label = format!(
            "g{:05x}",
            fnv32(" fill=\"#000000\" font-size=\"8.9\" text-anchor=\"end\"") & 0xf_ffff
        );
        assert!(
            out.contains(&format!(
                ".{tick}{{fill:none;stroke:#000000;stroke-width:1}}"
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                ".{label}{{fill:#000000;font-size:8.9px;text-anchor:end}}"
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!("<polyline class=\"{tick}\" points=\"1,1 2,2 \"/>")),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "<text class=\"{label}\" x=\"5\" y=\"5\" dy=\"0.5ex\">标签</text>"
            )),
            "{out}"
        );
        assert!(
            !out.contains("x=\"6\""),
            "the empty label is dropped: {out}"
        );
        assert!(
            out.contains("opacity=\"0.2\""),
            "opacity stays on its element"
        );
        // In order: the first tick, the label, the second tick, the grid line.
        let at = |s: &str| out.find(s).unwrap();
        assert!(at("1,1") < at("标签") && at("标签") < at("3,3") && at("3,3") < at("<line"));
        assert!(out.starts_with("<svg width=\"100%\" viewBox=\"0 0 10 10\">\n<style>"));
    }
}
