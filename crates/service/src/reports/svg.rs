//! Small SVG charts drawn here, inline in the page: no script, no fonts or
//! images fetched, so the report renders offline and prints the same.

use std::fmt::Write as _;

use crate::render::escape_html;

const BAR_COLOUR: &str = "#2f6fb0";
const WIDTH: u32 = 520;

/// Horizontal bars, one per label, scaled to the largest value.
pub fn bars(items: &[(String, u64)]) -> String {
    if items.is_empty() {
        return "<p class=\"none\">None in this period.</p>".into();
    }
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let row = 22u32;
    let height = row * items.len() as u32 + 4;
    let (label_w, bar_w) = (170u32, WIDTH - 170 - 50);
    let mut out = format!(
        "<svg role=\"img\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">"
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let y = row * i as u32 + 2;
        let w = (u64::from(bar_w) * value / max) as u32;
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>\
             <rect x=\"{}\" y=\"{y}\" width=\"{w}\" height=\"{}\" fill=\"{BAR_COLOUR}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\">{value}</text>",
            label_w - 6,
            y + 14,
            escape_html(label),
            label_w,
            row - 6,
            label_w + w + 4,
            y + 14,
        );
    }
    out.push_str("</svg>");
    out
}

/// One series of a column chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub values: Vec<Option<f64>>,
}

/// Grouped columns per month (`labels`), scaled to `max` (or the largest
/// value), with a legend. Missing values draw nothing.
pub fn columns(labels: &[String], series: &[Series<'_>], max: Option<f64>) -> String {
    let height = 200u32;
    let (top, bottom, left) = (20u32, 30u32, 36u32);
    let plot_h = f64::from(height - top - bottom);
    let max = max
        .unwrap_or_else(|| {
            series
                .iter()
                .flat_map(|s| s.values.iter().flatten())
                .fold(0.0_f64, |a, b| a.max(*b))
        })
        .max(1.0);
    let slot = (WIDTH - left) / labels.len().max(1) as u32;
    let bar = (slot.saturating_sub(10) / series.len().max(1) as u32).max(2);
    let mut out = format!(
        "<svg role=\"img\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\
         <line x1=\"{left}\" y1=\"{}\" x2=\"{WIDTH}\" y2=\"{}\" stroke=\"#999\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
        height - bottom,
        height - bottom,
        left - 4,
        top + 4,
        fmt_num(max)
    );
    for (i, label) in labels.iter().enumerate() {
        let x0 = left + slot * i as u32 + 5;
        for (j, s) in series.iter().enumerate() {
            if let Some(Some(v)) = s.values.get(i) {
                let h = (plot_h * v / max).round().max(0.0);
                let x = x0 + bar * j as u32;
                let y = f64::from(height - bottom) - h;
                let _ = write!(
                    out,
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{h}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                    bar.saturating_sub(1),
                    escape_html(s.colour),
                    escape_html(s.name),
                    escape_html(label),
                    fmt_num(*v)
                );
            }
        }
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            x0 + slot.saturating_sub(10) / 2,
            height - bottom + 14,
            escape_html(label)
        );
    }
    for (j, s) in series.iter().enumerate() {
        let x = left + 130 * j as u32;
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"2\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"11\" font-size=\"11\">{}</text>",
            escape_html(s.colour),
            x + 14,
            escape_html(s.name)
        );
    }
    out.push_str("</svg>");
    out
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_charts_are_escaped() {
        let svg = bars(&[("<script>".into(), 3)]);
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
    }

    #[test]
    fn the_largest_bar_spans_the_plot_and_an_empty_chart_says_so() {
        let svg = bars(&[("a".into(), 4), ("b".into(), 2)]);
        assert!(svg.contains("width=\"300\""), "{svg}");
        assert!(svg.contains("width=\"150\""), "{svg}");
        assert!(bars(&[]).contains("None in this period"));
    }
}
