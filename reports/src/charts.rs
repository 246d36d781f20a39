//! SVG charts drawn with plotters, returned as strings so pages can inline them or write them
//! next to the page. Text uses a font-family list with CJK fallbacks so Chinese renders on
//! Windows, macOS and Linux.

use chrono::{Datelike, NaiveDate};
use govmedia_rules::Lang;
use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::Error;
use crate::chart_svg::{mesh_key, mesh_once};
use crate::labels::label;

/// Font families tried in order: Windows, macOS, Linux CJK fonts, then any sans-serif.
pub const FONT_FAMILY: &str = "Microsoft YaHei, PingFang SC, Hiragino Sans GB, Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif";

/// Label size in plotters' points (÷ 1.24 = px in the chart's `viewBox`: 12.5 px). Charts are
/// drawn about as wide as they are shown — a full-row chart 760 units, a half-row one 480 (a
/// figure is at least 460 px wide before charts wrap to a row each) — so labels show at
/// 12 px or more at normal zoom.
pub const LABEL_FONT: f64 = 15.5;
/// Caption size in points (14.5 px).
pub const CAPTION_FONT: f64 = 18.0;

/// An axis value as a whole number, as `format!("{y:.0}")` writes it. Whole values (nearly every
/// tick) are written as integers: `{:.0}` formats a float exactly, through big-number arithmetic
/// for some values, and the tick labels of 200,000 pages' charts were a few percent of drawing.
pub fn whole_number(y: &f64) -> String {
    let y = *y;
    // Exact below 2^53; `-0.0` keeps its sign as `{:.0}` writes it.
    if y.fract() == 0.0 && y.is_sign_positive() && y < 9_007_199_254_740_992.0 {
        (y as u64).to_string()
    } else {
        format!("{y:.0}")
    }
}

/// The mesh every chart starts from: no light grid lines, tick labels and axis names in the
/// charts' font. Each chart adds which grid lines it keeps, its ticks and its axis name.
pub fn plain_mesh<'a, 'b, DB: DrawingBackend>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
) -> MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB> {
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(TRANSPARENT)
        .max_light_lines(0)
        .label_style(font(LABEL_FONT))
        .axis_desc_style(font(LABEL_FONT));
    mesh
}

/// The charts' font at `size` points.
pub fn font(size: f64) -> FontDesc<'static> {
    (FONT_FAMILY, size).into_font()
}

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
        let root = crate::chart_svg::CompactSvg::new(&mut svg, (760, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_err(&e))?;
        let n = weeks.len().max(1) as f64;
        let top = weeks
            .iter()
            .map(|w| w.updates)
            .max()
            .unwrap_or(0)
            .max(threshold.ceil() as i64)
            .max(1) as f64
            * 1.45; // headroom: the legend sits above the tallest bar
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(CAPTION_FONT))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(36)
            .build_cartesian_2d(0f64..n, 0f64..top)
            .map_err(|e| chart_err(&e))?;
        let label_weeks = weeks.to_vec();
        let y_desc = label("chart_updates_per_week", lang);
        // The weeks' first days as day numbers: the tick labels are read from them.
        let mut days = String::new();
        let mut number = itoa::Buffer::new();
        for week in weeks {
            days.push_str(number.format(week.week_start.num_days_from_ce()));
            days.push(',');
        }
        mesh_once(
            &root,
            mesh_key("weekly", &chart, format_args!("{days}|{y_desc}")),
            || {
                plain_mesh(&mut chart)
                    .disable_x_mesh()
                    .x_labels(12)
                    .x_label_formatter(&|x| {
                        label_weeks
                            .get(x.floor().max(0.0) as usize)
                            .map(|w| w.week_start.format("%m-%d").to_string())
                            .unwrap_or_default()
                    })
                    // Updates are whole numbers: one tick per integer, at most eleven.
                    .y_labels((top.floor() as usize + 1).min(11))
                    .y_label_formatter(&whole_number)
                    .y_desc(y_desc)
                    .draw()
                    .map_err(|e| chart_err(&e))
            },
            |x| chart_err(x),
        )?;

        if let (Some((from, to)), Some(first)) = (veto_window, weeks.first()) {
            let x = |d: NaiveDate| (d - first.week_start).num_days() as f64 / 7.0;
            chart
                .draw_series([Rectangle::new(
                    [(x(from).max(0.0), 0.0), ((x(to) + 1.0 / 7.0).min(n), top)],
                    VETO_WINDOW.mix(0.18).filled(),
                )])
                .map_err(|e| chart_err(&e))?
                .label(label("chart_veto_window", lang))
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
            .label_font(font(LABEL_FONT))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.2))
            .draw()
            .map_err(|e| chart_err(&e))?;
        root.present().map_err(|e| chart_err(&e))?;
    }
    Ok(svg)
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
    fn whole_numbers_read_as_the_exact_format_writes_them() {
        let mut values = vec![0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 1e15, 9.1e15, 1e20, f64::NAN];
        values.extend((0..2000).map(|i| f64::from(i) * 0.37));
        values.extend((0..200).map(|i| f64::from(i) * 25.0));
        for y in values {
            assert_eq!(whole_number(&y), format!("{y:.0}"), "{y}");
        }
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
