//! The latency plot: p50/p95/p99 ingest→receipt against offered load, as a small hand-written
//! SVG (a plotting crate would more than double the bench's dependencies for three lines).

use std::fmt::Write;

use super::report::LatencyPoint;

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 70.0;
const BOTTOM: f64 = 50.0;
const TOP: f64 = 40.0;
const RIGHT: f64 = 20.0;

/// A plotted line: its name, colour and the value it reads from a point.
type Series = (&'static str, &'static str, fn(&LatencyPoint) -> f64);

pub fn latency_svg(points: &[LatencyPoint]) -> String {
    let max_x = points.iter().map(|p| p.offered_per_sec).fold(1.0, f64::max) * 1.05;
    let max_y = points.iter().map(|p| p.latency.p99_ms).fold(1.0, f64::max) * 1.1;
    let x = |v: f64| LEFT + v / max_x * (W - LEFT - RIGHT);
    let y = |v: f64| H - BOTTOM - v / max_y * (H - BOTTOM - TOP);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="14">Ingest→receipt latency vs offered load (fan-out 1)</text>
<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="black"/>
<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="black"/>
<text x="{}" y="{}" text-anchor="middle">offered events/s</text>
<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">ms</text>
"#,
        W / 2.0,
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM,
        (LEFT + W - RIGHT) / 2.0,
        H - 12.0,
        (H - BOTTOM + TOP) / 2.0,
        (H - BOTTOM + TOP) / 2.0,
    );
    for i in 0..=4 {
        let (vx, vy) = (max_x * i as f64 / 4.0, max_y * i as f64 / 4.0);
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{vx:.0}</text><text x="{:.1}" y="{:.1}" text-anchor="end">{vy:.1}</text>"#,
            x(vx),
            H - BOTTOM + 18.0,
            LEFT - 6.0,
            y(vy) + 4.0,
        );
    }
    let series: [Series; 3] = [
        ("p50", "#1b9e77", |p| p.latency.p50_ms),
        ("p95", "#d95f02", |p| p.latency.p95_ms),
        ("p99", "#7570b3", |p| p.latency.p99_ms),
    ];
    for (n, (name, colour, value)) in series.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.offered_per_sec), y(value(p))))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        for p in points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                x(p.offered_per_sec),
                y(value(p))
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" fill="{colour}">{name}</text>"#,
            LEFT + 12.0,
            TOP + 14.0 + 16.0 * n as f64
        );
    }
    svg.push_str("</svg>\n");
    svg
}
