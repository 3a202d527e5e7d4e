//! The latency-throughput curve of a rate sweep, as a self-contained SVG.

use std::fmt::Write as _;

/// One step of a sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    /// Offered rate, tx/s.
    pub offered_tps: f64,
    /// Achieved (delivered) rate, tx/s.
    pub achieved_tps: f64,
    /// Median commit latency, ms.
    pub p50_ms: f64,
    /// 99th percentile commit latency, ms.
    pub p99_ms: f64,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

/// Commit latency (p50, p99; log scale) against achieved throughput.
pub fn sweep_svg(title: &str, points: &[SweepPoint]) -> String {
    let x_max = nice_ceiling(points.iter().map(|p| p.achieved_tps).fold(1.0, f64::max));
    let y_max_log = points
        .iter()
        .map(|p| p.p99_ms.max(p.p50_ms))
        .fold(10.0, f64::max)
        .log10()
        .ceil();
    let y_min_log = points
        .iter()
        .map(|p| p.p50_ms.min(p.p99_ms))
        .fold(100.0, f64::min)
        .max(0.01)
        .log10()
        .floor();
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |tps: f64| LEFT + tps / x_max * plot_w;
    let y = |ms: f64| {
        let ms = ms.max(10f64.powf(y_min_log));
        TOP + plot_h - (ms.log10() - y_min_log) / (y_max_log - y_min_log).max(1.0) * plot_h
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>
"#,
        WIDTH / 2.0,
        escape(title)
    );
    axes(&mut svg, x_max, y_min_log, y_max_log, &x, &y);
    for (name, color, pick) in [
        (
            "p50 commit latency",
            "#1f77b4",
            (|p: &SweepPoint| p.p50_ms) as fn(&SweepPoint) -> f64,
        ),
        ("p99 commit latency", "#d62728", |p: &SweepPoint| p.p99_ms),
    ] {
        let path: Vec<String> = points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.achieved_tps), y(pick(p))))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        for p in points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{color}"><title>offered {:.0} tx/s, achieved {:.0} tx/s, {name} {:.1} ms</title></circle>"#,
                x(p.achieved_tps),
                y(pick(p)),
                p.offered_tps,
                p.achieved_tps,
                pick(p)
            );
        }
    }
    legend(&mut svg);
    svg
}

fn legend(svg: &mut String) {
    let _ = write!(
        svg,
        r##"<text x="{lx}" y="{ly}" fill="#1f77b4">● p50 commit latency</text>
<text x="{lx}" y="{ly2}" fill="#d62728">● p99 commit latency</text>
</svg>
"##,
        lx = LEFT + 12.0,
        ly = TOP + 16.0,
        ly2 = TOP + 32.0
    );
}

fn axes(
    svg: &mut String,
    x_max: f64,
    y_min_log: f64,
    y_max_log: f64,
    x: &dyn Fn(f64) -> f64,
    y: &dyn Fn(f64) -> f64,
) {
    let bottom = HEIGHT - BOTTOM;
    let _ = writeln!(
        svg,
        r#"<line x1="{LEFT}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="black"/>"#,
        WIDTH - RIGHT
    );
    let _ = writeln!(
        svg,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="black"/>"#
    );
    for step in 0..=5 {
        let tps = x_max * f64::from(step) / 5.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{0:.1}" y1="{bottom}" x2="{0:.1}" y2="{1}" stroke="black"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}</text>"#,
            x(tps),
            bottom + 5.0,
            bottom + 20.0,
            thousands(tps)
        );
    }
    let mut decade = y_min_log;
    while decade <= y_max_log {
        let ms = 10f64.powf(decade);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#ddd"/><text x="{2}" y="{3:.1}" text-anchor="end">{4}</text>"##,
            y(ms),
            WIDTH - RIGHT,
            LEFT - 8.0,
            y(ms) + 4.0,
            trim(ms)
        );
        decade += 1.0;
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">achieved throughput (tx/s delivered)</text>"#,
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        HEIGHT - 15.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(20 {}) rotate(-90)" text-anchor="middle">commit latency (ms, log scale)</text>"#,
        TOP + (HEIGHT - TOP - BOTTOM) / 2.0
    );
}

fn nice_ceiling(value: f64) -> f64 {
    let magnitude = 10f64.powf(value.log10().floor());
    let steps = [1.0, 2.0, 2.5, 5.0, 10.0];
    steps
        .iter()
        .map(|s| s * magnitude)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * magnitude)
}

fn thousands(value: f64) -> String {
    if value >= 1000.0 {
        format!("{}k", trim(value / 1000.0))
    } else {
        trim(value)
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_both_curves_and_every_point() {
        let points: Vec<SweepPoint> = (1..=5)
            .map(|i| SweepPoint {
                offered_tps: f64::from(i) * 1000.0,
                achieved_tps: f64::from(i) * 990.0,
                p50_ms: 10.0 * f64::from(i),
                p99_ms: 50.0 * f64::from(i),
            })
            .collect();
        let svg = sweep_svg("t <1>", &points);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<circle").count(), 10);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("t &lt;1&gt;"));
    }
}
