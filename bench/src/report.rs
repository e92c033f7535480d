//! `flowscope-bench run --report DIR`: the run as pictures for people who
//! benchmark. A self-contained HTML page (`index.html`, no script, no
//! server) with SVG charts — each latency stage's percentile distribution
//! per shard count and load on HdrHistogram's "nines" axis, throughput and
//! speed-up against shard count, and drops against offered rate — and,
//! beside it, every histogram's percentile distribution as HdrHistogram's
//! `.hgrm` text ([`crate::hgrm`]), which its own plotter and other tools
//! read.

use crate::run::{RunResult, RunRow};
use std::fmt::Write as _;
use std::path::Path;

/// The stages as the page names them.
const STAGES: [(&str, &str); 5] = [
    ("total", "ingest→event"),
    ("ingest", "ingest (read → queued)"),
    ("queue", "queue (waiting for the shard)"),
    ("shard", "shard (processing)"),
    ("merge", "merge (handed over → released in order)"),
];

/// Line colours, one per series.
const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

fn row_name(row: &RunRow) -> String {
    format!("{} shard(s), {}", row.shards, row.load)
}

/// A file-name-safe form of a row's load.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Writes `index.html` and the `.hgrm` files into `dir` (created).
pub fn write(dir: &Path, r: &RunResult) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut hgrm_links = Vec::new();
    for row in &r.rows {
        let Some(lat) = &row.latency else { continue };
        for d in &lat.distributions {
            let name = format!("shards{}-{}-{}.hgrm", row.shards, slug(&row.load), d.stage);
            std::fs::write(dir.join(&name), d.hgrm())?;
            hgrm_links.push((row_name(row), d.stage.clone(), name));
        }
    }
    std::fs::write(dir.join("index.html"), page(r, &hgrm_links))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(r: &RunResult, hgrm_links: &[(String, String, String)]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>flowscope-bench run: {file}</title>\
         <style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}\
         svg{{background:#fff;border:1px solid #ccc;margin:0.5em 0}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}</style>\
         </head><body>\n<h1>flowscope-bench run</h1>\n<p>{file}: {packets} packets, {mode}; {cores} cores ({cpu}); best of {repeat} flat-out passes.</p>\n",
        file = escape(&r.file),
        packets = r.packets,
        mode = if r.parsers {
            "full pipeline (reassembly, parsers, EVE rendering)"
        } else {
            "flow tracking only (--no-parsers)"
        },
        cores = r.cores,
        cpu = escape(&r.cpu),
        repeat = r.repeat,
    );
    // Throughput and speed-up against shard count (flat-out passes).
    let flat: Vec<&RunRow> = r.rows.iter().filter(|row| row.load == "max").collect();
    if !flat.is_empty() {
        h.push_str("<h2>Throughput</h2>\n");
        let mpps = vec![(
            "Mpps".to_owned(),
            flat.iter()
                .map(|row| (row.shards as f64, row.mpps))
                .collect(),
        )];
        h.push_str(&Chart::linear("Mpps against shards", "shards", "Mpps").svg(&mpps));
        let mut speed = vec![(
            "speed-up over 1 shard".to_owned(),
            flat.iter()
                .filter_map(|row| Some((row.shards as f64, row.speedup_vs_1?)))
                .collect::<Vec<_>>(),
        )];
        let most = flat.iter().map(|row| row.shards).max().unwrap_or(1).max(1) as f64;
        speed.push(("linear".to_owned(), vec![(1.0, 1.0), (most, most)]));
        if !speed[0].1.is_empty() {
            h.push_str(
                &Chart::linear("Speed-up against shards", "shards", "× one shard").svg(&speed),
            );
        }
    }
    // Drops against offered rate (paced passes).
    let mut drops: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for row in r.rows.iter().filter(|row| row.offered_mpps.is_some()) {
        let name = format!("{} shard(s)", row.shards);
        let lost = (row.dropped_late + row.dropped_queue) as f64;
        let offered = (row.packets as f64 + lost).max(1.0);
        let point = (row.offered_mpps.unwrap_or(0.0), 100.0 * lost / offered);
        match drops.iter_mut().find(|(n, _)| *n == name) {
            Some((_, pts)) => pts.push(point),
            None => drops.push((name, vec![point])),
        }
    }
    if !drops.is_empty() {
        h.push_str("<h2>Drops</h2>\n");
        h.push_str(
            &Chart::linear(
                "Packets dropped against offered rate",
                "offered Mpps",
                "% dropped",
            )
            .svg(&drops),
        );
    }
    // Latency: one chart per stage, a line per row.
    if r.rows.iter().any(|row| row.latency.is_some()) {
        h.push_str(
            "<h2>Latency</h2>\n<p>Percentile distributions (HdrHistogram; the x axis in \"nines\"), \
             microseconds, log scale. One packet in N is sampled.</p>\n",
        );
        for (stage, title) in STAGES {
            let series: Vec<(String, Vec<(f64, f64)>)> = r
                .rows
                .iter()
                .filter_map(|row| {
                    let d = row
                        .latency
                        .as_ref()?
                        .distributions
                        .iter()
                        .find(|d| d.stage == stage)?;
                    let cap = (d.count.max(10) as f64).log10();
                    let pts = d
                        .points
                        .iter()
                        .map(|p| (nines(p.percentile).min(cap), p.value_us.max(0.001)))
                        .collect();
                    Some((row_name(row), pts))
                })
                .collect();
            if !series.is_empty() {
                h.push_str(&Chart::latency(title).svg(&series));
            }
        }
    }
    if !hgrm_links.is_empty() {
        h.push_str(
            "<h2>Histograms</h2>\n<table><tr><th>run</th><th>stage</th><th>file</th></tr>\n",
        );
        for (row, stage, file) in hgrm_links {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td><a href=\"{f}\">{f}</a></td></tr>",
                escape(row),
                escape(stage),
                f = escape(file)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("</body></html>\n");
    h
}

/// `-log10(1 - p)`: 0 at 0 %, 1 at 90 %, 2 at 99 %, 3 at 99.9 %...
fn nines(p: f64) -> f64 {
    if p >= 1.0 {
        f64::INFINITY
    } else {
        -(1.0 - p).log10()
    }
}

/// An SVG line chart.
struct Chart<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    /// Latency charts: x in nines with percentile labels, y on a log scale.
    latency: bool,
}

const W: f64 = 760.0;
const H: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 210.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

impl<'a> Chart<'a> {
    fn linear(title: &'a str, x_label: &'a str, y_label: &'a str) -> Self {
        Chart {
            title,
            x_label,
            y_label,
            latency: false,
        }
    }

    fn latency(title: &'a str) -> Self {
        Chart {
            title,
            x_label: "percentile",
            y_label: "µs",
            latency: true,
        }
    }

    fn svg(&self, series: &[(String, Vec<(f64, f64)>)]) -> String {
        let pts = series.iter().flat_map(|(_, p)| p.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in pts {
            let y = if self.latency { y.log10() } else { y };
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if self.latency {
            x0 = 0.0;
            x1 = x1.ceil().max(1.0);
            y0 = y0.floor();
            y1 = y1.ceil().max(y0 + 1.0);
        } else {
            x0 = x0.min(0.0);
            y0 = 0.0;
            y1 = (y1 * 1.1).max(1e-9);
            if x1 <= x0 {
                x1 = x0 + 1.0;
            }
        }
        let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
        let sy = |y: f64| H - BOTTOM - (y - y0) / (y1 - y0) * (H - TOP - BOTTOM);
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\">\
             <title>{t}</title><text x=\"{LEFT}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{t}</text>",
            t = escape(self.title)
        );
        // Axes, grid and tick labels.
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#000\"/>\
             <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b}\" stroke=\"#000\"/>",
            b = H - BOTTOM,
            r = W - RIGHT
        );
        for (x, label) in self.x_ticks(x0, x1) {
            let px = sx(x);
            let _ = write!(
                s,
                "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{b}\" stroke=\"#eee\"/>\
                 <text x=\"{px:.1}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"middle\">{label}</text>",
                b = H - BOTTOM,
                ty = H - BOTTOM + 16.0
            );
        }
        for (y, label) in self.y_ticks(y0, y1) {
            let py = sy(y);
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{r}\" y2=\"{py:.1}\" stroke=\"#eee\"/>\
                 <text x=\"{tx}\" y=\"{ty:.1}\" font-size=\"11\" text-anchor=\"end\">{label}</text>",
                r = W - RIGHT,
                tx = LEFT - 6.0,
                ty = py + 4.0
            );
        }
        let _ = write!(
            s,
            "<text x=\"{cx}\" y=\"{ly}\" font-size=\"12\" text-anchor=\"middle\">{xl}</text>\
             <text x=\"14\" y=\"{cy}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 {cy})\">{yl}</text>",
            cx = (LEFT + W - RIGHT) / 2.0,
            ly = H - 12.0,
            cy = (TOP + H - BOTTOM) / 2.0,
            xl = escape(self.x_label),
            yl = escape(self.y_label)
        );
        // The series and the legend.
        for (i, (name, pts)) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let mut d = String::new();
            for (j, &(x, y)) in pts.iter().enumerate() {
                let y = if self.latency { y.log10() } else { y };
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} ",
                    if j == 0 { "M" } else { "L" },
                    sx(x),
                    sy(y)
                );
            }
            let _ = write!(
                s,
                "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                d.trim_end()
            );
            if !self.latency {
                for &(x, y) in pts {
                    let _ = write!(
                        s,
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                        sx(x),
                        sy(y)
                    );
                }
            }
            let ly = TOP + 10.0 + 18.0 * i as f64;
            let lx = W - RIGHT + 12.0;
            let _ = write!(
                s,
                "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"3\"/>\
                 <text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>",
                lx + 20.0,
                lx + 26.0,
                ly + 4.0,
                escape(name)
            );
        }
        s.push_str("</svg>\n");
        s
    }

    fn x_ticks(&self, x0: f64, x1: f64) -> Vec<(f64, String)> {
        if self.latency {
            let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"];
            (0..=x1 as usize)
                .filter_map(|n| Some((n as f64, (*labels.get(n)?).to_owned())))
                .collect()
        } else {
            linear_ticks(x0, x1)
        }
    }

    fn y_ticks(&self, y0: f64, y1: f64) -> Vec<(f64, String)> {
        if self.latency {
            (y0 as i32..=y1 as i32)
                .map(|e| {
                    let v = 10f64.powi(e);
                    let label = if v >= 1.0 {
                        format!("{v:.0}")
                    } else {
                        format!("{v}")
                    };
                    (f64::from(e), label)
                })
                .collect()
        } else {
            linear_ticks(y0, y1)
        }
    }
}

/// About five round ticks over `[a, b]`.
fn linear_ticks(a: f64, b: f64) -> Vec<(f64, String)> {
    let span = (b - a).max(1e-9);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut out = Vec::new();
    let mut t = (a / step).ceil() * step;
    while t <= b + step * 1e-9 {
        let label = if step >= 1.0 {
            format!("{t:.0}")
        } else {
            let digits = (-step.log10()).ceil() as usize;
            format!("{t:.digits$}")
        };
        out.push((t, label));
        t += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_and_ticks() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(0.99) - 2.0).abs() < 1e-9);
        assert!(nines(1.0).is_infinite());
        let t = linear_ticks(0.0, 9.0);
        assert_eq!(t.first().unwrap().1, "0");
        assert!(t.len() >= 4 && t.len() <= 11, "{t:?}");
        assert_eq!(slug("50% = 1.2 Mpps"), "50-1-2-Mpps");
    }
}
