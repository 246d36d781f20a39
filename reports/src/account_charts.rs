//! The per-account charts besides the weekly cadence: reply latency against the deadline, the
//! rubric breakdown, the content mix per month and engagement per month. SVG strings from
//! plotters, inlined in the account page; text escaped by plotters, fonts with CJK fallbacks.

use govmedia_rules::Lang;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::Error;
use crate::chart_svg::{mesh_key, mesh_once};
use crate::charts::{CAPTION_FONT, LABEL_FONT, font, plain_mesh, whole_number};
use crate::labels::label;

const BLUE: RGBColor = RGBColor(0x2f, 0x6f, 0xb3);
const RED: RGBColor = RGBColor(0xd0, 0x3b, 0x2f);
const ORANGE: RGBColor = RGBColor(0xe0, 0x8a, 0x00);
const GREY: RGBColor = RGBColor(0xb8, 0xbf, 0xc7);
/// One colour per content category, in the order of the measurements' category columns.
pub const CATEGORY_COLORS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xb8, 0xbf, 0xc7),
];

fn err(title: &str) -> impl Fn(&dyn std::fmt::Display) -> Error + '_ {
    move |e| Error::Chart(title.to_string(), e.to_string())
}

/// The label of band `i` when `at` is its middle (bands are one unit wide, ticks every half
/// unit), so each bar gets one label under its centre.
fn band_label(labels: &[String], at: f64) -> Option<&String> {
    let i = at.floor();
    ((at - i - 0.5).abs() < 0.26).then(|| labels.get(i as usize))?
}

/// The label under a month's band: the month without its century (`25-11`).
fn month_label(months: &[String], at: f64) -> String {
    band_label(months, at)
        .map(|m| m.get(2..).unwrap_or(m).to_string())
        .unwrap_or_default()
}

/// Reply latency: replies per working-hour bucket, buckets past the deadline in red, the
/// deadline marked, the reply rate in the caption.
pub fn reply_latency_svg(
    title: &str,
    bucket_labels: &[String],
    replies: &[i64],
    deadline_bucket: usize,
    deadline_label: &str,
    lang: Lang,
) -> Result<String, Error> {
    let e = err(title);
    let mut svg = String::new();
    {
        let root = crate::chart_svg::CompactSvg::new(&mut svg, (480, 240)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let n = replies.len().max(1) as f64;
        // Headroom above the tallest bar keeps the legend off the bars.
        let top = replies.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.45;
        let labels = bucket_labels.to_vec();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(CAPTION_FONT))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(0f64..n, 0f64..top)
            .map_err(|x| e(&x))?;
        let y_desc = label("chart_replies", lang);
        mesh_once(
            &root,
            mesh_key(
                "latency",
                &chart,
                format_args!("{}|{y_desc}", bucket_labels.join("\n")),
            ),
            || {
                plain_mesh(&mut chart)
                    .disable_x_mesh()
                    .x_labels(labels.len() * 2 + 1)
                    .x_label_formatter(&|x| band_label(&labels, *x).cloned().unwrap_or_default())
                    // Whole numbers: one tick per integer, at most eleven.
                    .y_labels((top.floor() as usize + 1).min(11))
                    .y_label_formatter(&whole_number)
                    .y_desc(y_desc)
                    .draw()
                    .map_err(|x| e(&x))
            },
            |x| e(x),
        )?;
        chart
            .draw_series(replies.iter().enumerate().map(|(i, r)| {
                let color = if i >= deadline_bucket { RED } else { BLUE };
                Rectangle::new(
                    [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, *r as f64)],
                    color.filled(),
                )
            }))
            .map_err(|x| e(&x))?;
        let x = deadline_bucket as f64;
        chart
            .draw_series(LineSeries::new(
                [(x, 0.0), (x, top)],
                ShapeStyle::from(&ORANGE).stroke_width(2),
            ))
            .map_err(|x| e(&x))?
            .label(deadline_label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], ORANGE.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(font(LABEL_FONT))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.2))
            .draw()
            .map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    Ok(svg)
}

/// One rubric item for the breakdown chart.
pub struct RubricBar {
    pub label: String,
    pub weight: f64,
    /// `None` when not assessed.
    pub points: Option<f64>,
}

/// Rubric breakdown: one row per item, the weight as a grey bar, the points achieved over it;
/// items not assessed are labelled as such.
pub fn rubric_svg(title: &str, items: &[RubricBar], lang: Lang) -> Result<String, Error> {
    let e = err(title);
    let mut svg = String::new();
    {
        let height = 84 + 28 * items.len().max(1) as u32;
        let root = crate::chart_svg::CompactSvg::new(&mut svg, (480, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let top = items.iter().map(|i| i.weight).fold(1.0, f64::max) * 1.25;
        let n = items.len().max(1) as f64;
        // Rows are drawn bottom-up: the first item sits at the top.
        let labels: Vec<String> = items.iter().rev().map(|i| i.label.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(CAPTION_FONT))
            .margin(10)
            // Room right of the last tick label (centred on the plot's edge).
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..top, 0f64..n)
            .map_err(|x| e(&x))?;
        let x_desc = label("chart_points_weight", lang);
        mesh_once(
            &root,
            mesh_key(
                "rubric",
                &chart,
                format_args!("{}|{x_desc}", labels.join("\n")),
            ),
            || {
                plain_mesh(&mut chart)
                    .disable_y_mesh()
                    .y_labels(items.len() * 2 + 1)
                    .y_label_formatter(&|y| band_label(&labels, *y).cloned().unwrap_or_default())
                    .x_desc(x_desc)
                    .draw()
                    .map_err(|x| e(&x))
            },
            |x| e(x),
        )?;
        let row = |i: usize| (items.len() - 1 - i) as f64;
        chart
            .draw_series(items.iter().enumerate().map(|(i, item)| {
                Rectangle::new(
                    [(0.0, row(i) + 0.2), (item.weight, row(i) + 0.8)],
                    GREY.mix(0.5).filled(),
                )
            }))
            .map_err(|x| e(&x))?;
        chart
            .draw_series(items.iter().enumerate().filter_map(|(i, item)| {
                let p = item.points?;
                let color = if p + 1e-9 >= item.weight {
                    BLUE
                } else {
                    ORANGE
                };
                Some(Rectangle::new(
                    [(0.0, row(i) + 0.28), (p, row(i) + 0.72)],
                    color.filled(),
                ))
            }))
            .map_err(|x| e(&x))?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, item)| {
                let text = match item.points {
                    Some(p) => format!("{p:.1} / {}", item.weight),
                    None => format!("{} / {}", label("chart_not_assessed", lang), item.weight),
                };
                Text::new(
                    text,
                    (item.weight + top * 0.02, row(i) + 0.35),
                    font(LABEL_FONT),
                )
            }))
            .map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    Ok(svg)
}

/// Room right of a chart's plot for its legend (a series per category or measure: inside the
/// plot it would cover the data).
const LEGEND_WIDTH: u32 = 120;

/// How a legend key shows its series.
#[derive(Clone, Copy)]
enum LegendMark {
    Box,
    Line,
}

/// A legend right of the plot, one key per line from the plot's top, the series' colours in
/// order (plotters' own legend stays inside the plot).
fn legend_beside<'n, DB: DrawingBackend, CT: plotters::coord::CoordTranslate>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &ChartContext<'_, DB, CT>,
    names: impl Iterator<Item = &'n str>,
    mark: LegendMark,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (x_range, y_range) = chart.plotting_area().get_pixel_range();
    let x = x_range.end + 10;
    for (i, name) in names.enumerate() {
        let color = CATEGORY_COLORS[i % CATEGORY_COLORS.len()];
        let y = y_range.start + 8 + 20 * i as i32;
        match mark {
            LegendMark::Box => root.draw(&Rectangle::new(
                [(x, y - 5), (x + 10, y + 5)],
                color.filled(),
            ))?,
            LegendMark::Line => root.draw(&PathElement::new(
                [(x, y), (x + 14, y)],
                color.stroke_width(2),
            ))?,
        }
        let style = TextStyle::from(font(LABEL_FONT)).pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(name.to_string(), (x + 18, y), style))?;
    }
    Ok(())
}

/// Stacked bars per month: one series per category.
pub fn content_mix_svg(
    title: &str,
    months: &[String],
    categories: &[(String, Vec<i64>)],
    lang: Lang,
) -> Result<String, Error> {
    let e = err(title);
    let mut svg = String::new();
    {
        let root = crate::chart_svg::CompactSvg::new(&mut svg, (760, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let n = months.len().max(1) as f64;
        let totals: Vec<i64> = (0..months.len())
            .map(|m| {
                categories
                    .iter()
                    .map(|(_, v)| v.get(m).copied().unwrap_or(0))
                    .sum()
            })
            .collect();
        let top = totals.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.1;
        let labels = months.to_vec();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(CAPTION_FONT))
            .margin(10)
            .margin_right(LEGEND_WIDTH)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(0f64..n, 0f64..top)
            .map_err(|x| e(&x))?;
        let y_desc = label("chart_posts", lang);
        mesh_once(
            &root,
            mesh_key(
                "mix",
                &chart,
                format_args!("{}|{y_desc}", months.join("\n")),
            ),
            || {
                plain_mesh(&mut chart)
                    .disable_x_mesh()
                    .x_labels(months.len() * 2 + 1)
                    .x_label_formatter(&|x| month_label(&labels, *x))
                    // Whole numbers: one tick per integer, at most eleven.
                    .y_labels((top.floor() as usize + 1).min(11))
                    .y_label_formatter(&whole_number)
                    .y_desc(y_desc)
                    .draw()
                    .map_err(|x| e(&x))
            },
            |x| e(x),
        )?;
        let mut base = vec![0i64; months.len()];
        for (c, (_, values)) in categories.iter().enumerate() {
            let color = CATEGORY_COLORS[c % CATEGORY_COLORS.len()];
            let bars: Vec<Rectangle<(f64, f64)>> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0)
                .map(|(m, v)| {
                    let r = Rectangle::new(
                        [
                            (m as f64 + 0.15, base[m] as f64),
                            (m as f64 + 0.85, (base[m] + v) as f64),
                        ],
                        color.filled(),
                    );
                    base[m] += v;
                    r
                })
                .collect();
            chart.draw_series(bars).map_err(|x| e(&x))?;
        }
        let names = categories.iter().map(|(name, _)| name.as_str());
        legend_beside(&root, &chart, names, LegendMark::Box).map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    Ok(svg)
}

/// Engagement per month: one line per counter the account's platform has.
pub fn engagement_svg(
    title: &str,
    months: &[String],
    series: &[(String, Vec<i64>)],
    lang: Lang,
) -> Result<String, Error> {
    let series: Vec<(String, Vec<f64>)> = series
        .iter()
        .map(|(name, v)| (name.clone(), v.iter().map(|x| *x as f64).collect()))
        .collect();
    line_chart_svg(title, months, &series, label("chart_engagement", lang))
}

/// The top of a line chart's axis: `at_least` rounded up to a round number (1, 1.2, 1.5, 2,
/// 2.5, 3, 4, 5, 6 or 8 times a power of ten). An axis ending at a round number reads better,
/// and the charts of accounts whose highest values are alike then share their axes: the
/// engagement chart's mesh, each account's own before, was drawn anew for every page (an
/// eighth of drawing a national audit's charts); now it is played from the mesh cache.
pub fn nice_top(at_least: f64) -> f64 {
    const STEPS_IN_TENTHS: [f64; 11] = [
        10.0, 12.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0,
    ];
    if !(at_least.is_finite() && at_least > 0.0) {
        return at_least;
    }
    // Tenths times a power of ten, the power exact: a factor from 1 up, a divisor below.
    let scaled = |tenths: f64, exponent: i32| {
        if exponent >= 0 {
            tenths * 10f64.powi(exponent)
        } else {
            tenths / 10f64.powi(-exponent)
        }
    };
    let exponent = at_least.log10().floor() as i32 - 1;
    // Two decades: the logarithm may fall just short of a power of ten.
    (exponent..=exponent + 1)
        .flat_map(|e| STEPS_IN_TENTHS.iter().map(move |&tenths| scaled(tenths, e)))
        .find(|&top| top >= at_least)
        .unwrap_or(at_least)
}

/// One line per series over labelled points (dates or months: shown without the century).
pub fn line_chart_svg(
    title: &str,
    months: &[String],
    series: &[(String, Vec<f64>)],
    y_desc: &str,
) -> Result<String, Error> {
    let e = err(title);
    let mut svg = String::new();
    {
        let root = crate::chart_svg::CompactSvg::new(&mut svg, (760, 240)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let n = months.len().max(1) as f64;
        let top = nice_top(
            series
                .iter()
                .flat_map(|(_, v)| v.iter().copied())
                .fold(1.0f64, f64::max)
                * 1.2,
        );
        let labels = months.to_vec();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(CAPTION_FONT))
            .margin(10)
            .margin_right(LEGEND_WIDTH)
            .x_label_area_size(28)
            .y_label_area_size(76)
            .build_cartesian_2d(0f64..n, 0f64..top)
            .map_err(|x| e(&x))?;
        mesh_once(
            &root,
            mesh_key(
                "line",
                &chart,
                format_args!("{}|{y_desc}", months.join("\n")),
            ),
            || {
                plain_mesh(&mut chart)
                    .disable_x_mesh()
                    .x_labels(months.len() * 2 + 1)
                    .x_label_formatter(&|x| month_label(&labels, *x))
                    .y_label_formatter(&whole_number)
                    .y_desc(y_desc)
                    .draw()
                    .map_err(|x| e(&x))
            },
            |x| e(x),
        )?;
        for (s, (_, values)) in series.iter().enumerate() {
            let color = CATEGORY_COLORS[s % CATEGORY_COLORS.len()];
            chart
                .draw_series(LineSeries::new(
                    values.iter().enumerate().map(|(m, v)| (m as f64 + 0.5, *v)),
                    ShapeStyle::from(&color).stroke_width(2),
                ))
                .map_err(|x| e(&x))?;
            // A few points (past audits) are read one by one: mark them.
            if values.len() <= 12 {
                chart
                    .draw_series(
                        values
                            .iter()
                            .enumerate()
                            .map(|(m, v)| Circle::new((m as f64 + 0.5, *v), 3, color.filled())),
                    )
                    .map_err(|x| e(&x))?;
            }
        }
        let names = series.iter().map(|(name, _)| name.as_str());
        legend_beside(&root, &chart, names, LegendMark::Line).map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    Ok(svg)
}

/// Accounts per tier, the failing (veto) tier in red.
pub fn tier_distribution_svg(
    title: &str,
    tiers: &[(String, u64)],
    failing: &str,
    lang: Lang,
) -> Result<String, Error> {
    let labels: Vec<String> = tiers.iter().map(|t| t.0.clone()).collect();
    let counts: Vec<u64> = tiers.iter().map(|t| t.1).collect();
    tier_bars_svg(title, &labels, &[(None, &counts)], lang, |_, label| {
        if label == failing { RED } else { BLUE }
    })
}

/// Accounts per tier in two audits, side by side (grey: the earlier, blue: the later).
pub fn tier_movement_svg(
    title: &str,
    tiers: &[(String, u64, u64)],
    earlier: &str,
    later: &str,
    lang: Lang,
) -> Result<String, Error> {
    let labels: Vec<String> = tiers.iter().map(|t| t.0.clone()).collect();
    let old: Vec<u64> = tiers.iter().map(|t| t.1).collect();
    let new: Vec<u64> = tiers.iter().map(|t| t.2).collect();
    tier_bars_svg(
        title,
        &labels,
        &[(Some(earlier), &old), (Some(later), &new)],
        lang,
        |series, _| if series == 0 { GREY } else { BLUE },
    )
}

/// One band per tier with one bar per series, the count above each bar, and a legend when the
/// series are named.
fn tier_bars_svg(
    title: &str,
    labels: &[String],
    series: &[(Option<&str>, &[u64])],
    lang: Lang,
    color: impl Fn(usize, &str) -> RGBColor,
) -> Result<String, Error> {
    let e = err(title);
    let mut svg = String::new();
    {
        let root = crate::chart_svg::CompactSvg::new(&mut svg, (480, 240)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let n = labels.len().max(1) as f64;
        let top = series
            .iter()
            .flat_map(|s| s.1.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1) as f64
            * 1.2;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(CAPTION_FONT))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..n, 0f64..top)
            .map_err(|x| e(&x))?;
        plain_mesh(&mut chart)
            .disable_x_mesh()
            .x_labels(labels.len() * 2 + 1)
            .x_label_formatter(&|x| band_label(labels, *x).cloned().unwrap_or_default())
            // Whole numbers: one tick per integer, at most eleven.
            .y_labels((top.floor() as usize + 1).min(11))
            .y_label_formatter(&whole_number)
            .y_desc(label("chart_accounts", lang))
            .draw()
            .map_err(|x| e(&x))?;
        // The bars of a band share its middle 60 %.
        let width = 0.6 / series.len().max(1) as f64;
        for (k, (name, counts)) in series.iter().enumerate() {
            let left = |i: usize| i as f64 + 0.2 + k as f64 * width;
            let bars = chart
                .draw_series(counts.iter().enumerate().map(|(i, count)| {
                    Rectangle::new(
                        [(left(i), 0.0), (left(i) + width, *count as f64)],
                        color(k, &labels[i]).filled(),
                    )
                }))
                .map_err(|x| e(&x))?;
            if let Some(name) = name {
                let c = color(k, "");
                bars.label(*name).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled())
                });
            }
            chart
                .draw_series(counts.iter().enumerate().map(|(i, count)| {
                    Text::new(
                        count.to_string(),
                        (left(i) + width * 0.2, *count as f64 + top * 0.03),
                        font(LABEL_FONT),
                    )
                }))
                .map_err(|x| e(&x))?;
        }
        if series.iter().any(|s| s.0.is_some()) {
            chart
                .configure_series_labels()
                .label_font(font(LABEL_FONT))
                .background_style(WHITE.mix(0.8))
                .border_style(GREY)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(|x| e(&x))?;
        }
        root.present().map_err(|x| e(&x))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs drawn from small ranges, so that keys repeat, in both languages: a key that left
    /// out something its mesh reads would play another chart's axes here.
    #[test]
    fn charts_with_a_played_mesh_are_the_charts_drawn_whole() {
        use crate::chart_svg::{meshes_kept, without_mesh_cache};
        use crate::charts::{WeekBar, weekly_updates_svg};
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % m
        };
        let months: Vec<String> = ["2025-08", "2025-09", "2025-10", "2025-11"]
            .iter()
            .map(|m| m.to_string())
            .collect();
        let buckets: Vec<String> = ["<4h", "4-24h", "1-2d", "2-3d", ">3d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let before = meshes_kept();
        let mut drawn = 0;
        for _ in 0..150 {
            let lang = if next(2) == 0 { Lang::Zh } else { Lang::En };
            let start = chrono::NaiveDate::from_ymd_opt(2025, 10, 6 + 7 * next(2) as u32).unwrap();
            let weeks: Vec<WeekBar> = (0..3 + next(3))
                .map(|i| WeekBar {
                    week_start: start + chrono::Duration::weeks(i as i64),
                    updates: next(5) as i64,
                    judged: i > 0,
                })
                .collect();
            let threshold = 1.0 + next(2) as f64;
            let replies: Vec<i64> = (0..buckets.len()).map(|_| next(4) as i64).collect();
            let items: Vec<RubricBar> = (0..2 + next(2))
                .map(|i| RubricBar {
                    label: format!("项目{i}"),
                    weight: [2.0, 4.0, 16.0][next(3) as usize],
                    points: (next(4) > 0).then(|| next(40) as f64 / 10.0),
                })
                .collect();
            let shown = &months[..2 + next(3) as usize];
            let mix: Vec<(String, Vec<i64>)> = ["政策文件", "动态"]
                .iter()
                .map(|c| {
                    (
                        c.to_string(),
                        shown.iter().map(|_| next(6) as i64).collect(),
                    )
                })
                .collect();
            let engagement: Vec<(String, Vec<i64>)> = ["阅读", "点赞"]
                .iter()
                .map(|c| {
                    (
                        c.to_string(),
                        shown.iter().map(|_| next(3) as i64 * 700).collect(),
                    )
                })
                .collect();
            let charts = || {
                [
                    weekly_updates_svg("更新", &weeks, threshold, None, lang).unwrap(),
                    reply_latency_svg("回复", &buckets, &replies, 3, "时限", lang).unwrap(),
                    rubric_svg("得分", &items, lang).unwrap(),
                    content_mix_svg("构成", shown, &mix, lang).unwrap(),
                    engagement_svg("互动", shown, &engagement, lang).unwrap(),
                ]
            };
            let played = charts();
            let whole = without_mesh_cache(charts);
            drawn += played.len();
            for (played, whole) in played.iter().zip(&whole) {
                assert_eq!(played, whole);
            }
        }
        // Most charts played a mesh drawn before (one key per mesh kept, none cleared).
        let kept = meshes_kept() - before;
        assert!(kept < drawn / 2, "{kept} meshes kept for {drawn} charts");
    }

    #[test]
    fn line_chart_axes_end_at_round_numbers_above_the_values() {
        let cases = [
            (1.2, 1.2),
            (1.21, 1.5),
            (7.0, 8.0),
            (8.4, 10.0),
            (10.0, 10.0),
            (10.5, 12.0),
            (999.0, 1000.0),
            (1000.0, 1000.0),
            (1000.1, 1200.0),
            (26_400.0, 30_000.0),
            (0.3, 0.3),
            (0.31, 0.4),
            (1e15 + 1.0, 1.2e15),
        ];
        for (at_least, top) in cases {
            assert_eq!(nice_top(at_least), top, "{at_least}");
        }
        // Every value gets a round top at most a third above it.
        for i in 1..20_000 {
            let at_least = f64::from(i) * 0.731;
            let top = nice_top(at_least);
            assert!(
                top >= at_least && top <= at_least * 4.0 / 3.0,
                "{at_least} → {top}"
            );
        }
        // Engagement of accounts alike shares one axis (and one mesh).
        let months: Vec<String> = vec!["2025-10".into(), "2025-11".into()];
        let chart = |most: i64| {
            let series = vec![("阅读".to_string(), vec![most, 5])];
            engagement_svg("互动", &months, &series, Lang::Zh).unwrap()
        };
        // The grid, the axes and the value labels (classes named by their looks); the lines
        // are each account's own.
        let axis = |svg: &str| {
            svg.lines()
                .filter(|l| {
                    ["class=\"gc298f\"", "class=\"g23f97\"", "class=\"g7840c\""]
                        .iter()
                        .any(|c| l.contains(c))
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(axis(&chart(21_000)).contains("30000"), "{}", chart(21_000));
        assert_eq!(axis(&chart(21_000)), axis(&chart(24_900)));
        assert_ne!(axis(&chart(21_000)), axis(&chart(25_100)));
    }

    #[test]
    fn meshes_that_never_repeat_stop_being_kept() {
        use crate::chart_svg::{meshes_kept, without_mesh_cache};
        for i in 0..600 {
            // Each chart its own months: no mesh is ever played.
            let months: Vec<String> = vec![format!("{}-10", 1000 + i), format!("{}-11", 1000 + i)];
            let series = vec![("阅读".to_string(), vec![1000 + 37 * i, 5])];
            let played = engagement_svg("互动", &months, &series, Lang::Zh).unwrap();
            let whole = without_mesh_cache(|| engagement_svg("互动", &months, &series, Lang::Zh));
            assert_eq!(played, whole.unwrap());
        }
        assert_eq!(meshes_kept(), 256, "recording stops after the probe");
    }

    #[test]
    fn the_latency_chart_marks_the_deadline_and_late_replies() {
        let labels: Vec<String> = ["<4h", "4-24h", "1-2d", "2-3d", "3-5d", ">5d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let svg = reply_latency_svg(
            "回复用时",
            &labels,
            &[5, 3, 2, 1, 1, 0],
            3,
            "时限 72 工作小时",
            Lang::Zh,
        )
        .unwrap();
        assert!(svg.contains("时限 72 工作小时"));
        assert!(
            svg.to_lowercase().contains("#d03b2f"),
            "late buckets in red"
        );
    }

    #[test]
    fn the_rubric_chart_shows_not_assessed_items() {
        let items = vec![
            RubricBar {
                label: "信息更新".into(),
                weight: 16.0,
                points: Some(13.8),
            },
            RubricBar {
                label: "管理保障".into(),
                weight: 2.0,
                points: None,
            },
        ];
        let svg = rubric_svg("<b>得分</b>", &items, Lang::Zh).unwrap();
        assert!(svg.contains("未评估 / 2") && svg.contains("13.8 / 16"));
        assert!(!svg.contains("<b>"));
    }
}
