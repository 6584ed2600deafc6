//! A horizontal bar chart as plain SVG: one band per workload, one bar per engine, on a
//! logarithmic axis (the engines differ by orders of magnitude). No plotting crate: the
//! chart is a few rectangles and labels.

use std::fmt::Write;

/// One band of bars: a workload and (engine, value) pairs.
pub type Band = (String, Vec<(String, f64)>);

const WIDTH: f64 = 900.0;
const LEFT: f64 = 170.0;
const RIGHT: f64 = 90.0;
const BAR: f64 = 16.0;
const GAP: f64 = 14.0;
const TOP: f64 = 48.0;
const COLORS: [&str; 10] =
    ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f", "#ff9da7", "#bab0ac"];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Formats a value with a k/M/G suffix.
pub fn si(v: f64) -> String {
    let (scaled, suffix) = match v.abs() {
        x if x >= 1e9 => (v / 1e9, "G"),
        x if x >= 1e6 => (v / 1e6, "M"),
        x if x >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    if scaled >= 100.0 {
        format!("{scaled:.0}{suffix}")
    } else if scaled >= 10.0 {
        format!("{scaled:.1}{suffix}")
    } else {
        format!("{scaled:.2}{suffix}")
    }
}

/// The chart: `title`, the unit of the values (`higher is better` is said in the title),
/// and the bands. Engines keep one colour across bands (by first appearance).
pub fn bar_chart(title: &str, unit: &str, bands: &[Band]) -> String {
    let values: Vec<f64> = bands.iter().flat_map(|(_, bars)| bars.iter().map(|b| b.1)).filter(|v| *v > 0.0).collect();
    if values.is_empty() {
        return format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"40\"><text x=\"10\" y=\"25\">{}: no results</text></svg>\n",
            escape(title)
        );
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min).max(1e-12).log10().floor();
    let hi = values.iter().copied().fold(0.0, f64::max).max(1e-12).log10().ceil().max(lo + 1.0);
    let mut engines: Vec<&str> = Vec::new();
    for (_, bars) in bands {
        for (e, _) in bars {
            if !engines.contains(&e.as_str()) {
                engines.push(e);
            }
        }
    }
    let rows: usize = bands.iter().map(|(_, b)| b.len()).sum();
    let legend_h = 20.0 * engines.len().div_ceil(4) as f64;
    let height = TOP + rows as f64 * BAR + bands.len() as f64 * GAP + 40.0 + legend_h;
    let plot_w = WIDTH - LEFT - RIGHT;
    let x = |v: f64| LEFT + (v.max(10f64.powf(lo)).log10() - lo) / (hi - lo) * plot_w;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{}</text>"#, escape(title));
    let axis_bottom = height - 40.0 - legend_h;
    for p in lo as i32..=hi as i32 {
        let v = 10f64.powi(p);
        let xv = x(v);
        let _ = writeln!(s, r##"<line x1="{xv:.1}" y1="{TOP}" x2="{xv:.1}" y2="{axis_bottom:.1}" stroke="#ddd"/>"##);
        let _ = writeln!(
            s,
            r##"<text x="{xv:.1}" y="{:.1}" text-anchor="middle" fill="#555">{} {}</text>"##,
            axis_bottom + 14.0,
            si(v),
            escape(unit)
        );
    }
    let mut y = TOP;
    for (name, bars) in bands {
        let band_h = bars.len() as f64 * BAR;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-weight="bold">{}</text>"#,
            LEFT - 8.0,
            y + band_h / 2.0 + 4.0,
            escape(name)
        );
        for (engine, v) in bars {
            let color = COLORS[engines.iter().position(|e| e == engine).unwrap_or(0) % COLORS.len()];
            let w = (x(*v) - LEFT).max(1.0);
            let _ = writeln!(
                s,
                r#"<rect x="{LEFT}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{color}"><title>{}: {}</title></rect>"#,
                y + 1.0,
                BAR - 2.0,
                escape(engine),
                si(*v)
            );
            let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, LEFT + w + 4.0, y + BAR - 4.0, si(*v));
            y += BAR;
        }
        y += GAP;
    }
    for (i, engine) in engines.iter().enumerate() {
        let lx = LEFT + (i % 4) as f64 * 170.0;
        let ly = axis_bottom + 30.0 + (i / 4) as f64 * 20.0;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{:.1}" width="12" height="12" fill="{}"/>"#,
            ly - 10.0,
            COLORS[i % COLORS.len()]
        );
        let _ = writeln!(s, r#"<text x="{:.1}" y="{ly:.1}">{}</text>"#, lx + 16.0, escape(engine));
    }
    s.push_str("</svg>\n");
    s
}
