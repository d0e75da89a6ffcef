//! `GET /`: one server-rendered page, no external assets, every value escaped.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;
use ff_telemetry_wire::UnixMs;

use crate::error::AppError;
use crate::state::{AppState, now};
use crate::store::{DashboardData, Tally};

const N_DAYS: i64 = 30;

pub(crate) async fn dashboard(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let now = now();
    let data = state.shared().store.dashboard(now).await?;
    Ok(Html(render(&data, now)))
}

fn render(d: &DashboardData, now: UnixMs) -> String {
    let n_events: i64 = d.posthog_by_name.iter().map(|(_, n, _)| n).sum();
    let n_sentry: i64 = d.sentry_by_type.iter().map(|(_, n)| n).sum();
    let mut page = String::with_capacity(16 * 1024);
    page.push_str(HEAD);
    let _ = write!(
        page,
        r#"<header><h1>ff-telemetry collector</h1><p>Usage pings, PostHog events and Sentry items received here · last 30 days · {}</p></header>
<main>
<section class="stats">{}{}{}{}</section>
<section class="card wide"><h2>Active instances per day</h2>{}</section>
<section class="grid3">
<div class="card"><h2>Platform versions</h2>{}</div>
<div class="card"><h2>Operating systems</h2>{}</div>
<div class="card"><h2>Licence types</h2>{}</div>
</section>
<section class="grid2">
<div class="card"><h2>Feature adoption</h2>{}</div>
<div class="card"><h2>PostHog events by name</h2>{}</div>
</section>
<section class="card wide"><h2>Latest pings</h2>{}</section>
<section class="card wide"><h2>Recent Sentry errors</h2>{}</section>
</main></body></html>"#,
        esc(&now.to_rfc3339()),
        stat("Active instances", d.n_instances),
        stat(
            "Instances pinging today",
            d.active_by_day
                .last()
                .filter(|(day, _)| *day == day_of(now))
                .map_or(0, |(_, n)| *n)
        ),
        stat("PostHog events", n_events),
        stat("Sentry items", n_sentry),
        chart(&d.active_by_day, now),
        bars(&d.versions, d.n_instances),
        bars(&d.os_types, d.n_instances),
        bars(&d.licenses, d.n_instances),
        features(d),
        posthog_table(d),
        pings_table(d),
        sentry_table(d),
    );
    page
}

const HEAD: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ff-telemetry collector</title>
<style>
:root{--bg:#f4f5f7;--card:#fff;--ink:#1f2933;--muted:#6b7785;--accent:#4f46e5;--accent2:#a5b4fc;--line:#e4e7eb;--bad:#b42318}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#111827;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:4px 0 0;color:#9ca3af;font-size:13px}
main{max-width:1220px;margin:0 auto;padding:20px 24px 40px;display:grid;gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;min-width:0}
.card h2{margin:0 0 12px;font-size:13px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600}
.stats{display:grid;grid-template-columns:repeat(4,1fr);gap:16px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 18px}
.stat b{display:block;font-size:28px;font-weight:650}
.stat span{color:var(--muted);font-size:13px}
.grid3{display:grid;grid-template-columns:repeat(3,1fr);gap:16px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.bar{display:grid;grid-template-columns:minmax(80px,38%) 1fr 44px;gap:8px;align-items:center;margin:6px 0}
.bar .label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar .track{background:#eef0f4;border-radius:4px;height:10px;overflow:hidden}
.bar .fill{background:var(--accent);height:100%;border-radius:4px}
.bar .n{text-align:right;font-variant-numeric:tabular-nums;color:var(--muted)}
table{width:100%;border-collapse:collapse;font-size:13px}
th{text-align:left;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);padding:6px 8px}
td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;color:#374151}
.msg{color:var(--bad);word-break:break-word}
.empty{color:var(--muted);font-style:italic;margin:4px 0}
.chips{margin:0 0 10px}
.chip{display:inline-block;background:#eef2ff;color:#3730a3;border-radius:999px;padding:2px 10px;margin:0 6px 6px 0;font-size:12px}
svg text{font:11px system-ui,sans-serif;fill:#6b7785}
@media(max-width:900px){.grid3,.grid2,.stats{grid-template-columns:1fr}}
</style></head><body>
"#;

fn stat(label: &str, n: i64) -> String {
    format!(
        r#"<div class="stat"><b>{n}</b><span>{}</span></div>"#,
        esc(label)
    )
}

fn day_of(t: UnixMs) -> i64 {
    (t.0 / UnixMs::DAY) as i64
}

fn day_label(day: i64) -> String {
    UnixMs(u64::try_from(day).unwrap_or(0) * UnixMs::DAY).to_rfc3339()[5..10].to_owned()
}

/// Thirty bars, one per day, today on the right; days without pings show as gaps.
fn chart(by_day: &[(i64, i64)], now: UnixMs) -> String {
    let (width, height, left, bottom, top) = (1160.0, 220.0, 36.0, 24.0, 10.0);
    let today = day_of(now);
    let first = today - (N_DAYS - 1);
    let max = nice_top(by_day.iter().map(|(_, n)| *n).max().unwrap_or(0));
    let plot_h = height - bottom - top;
    let slot = (width - left) / N_DAYS as f64;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="Active instances per day">"#
    );
    for step in 0..=4 {
        let value = max / 4 * i64::from(step);
        let y = top + plot_h - plot_h * f64::from(step) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{width}" y1="{y:.1}" y2="{y:.1}" stroke="#e4e7eb"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            left - 6.0,
            y + 4.0,
            value
        );
    }
    for i in 0..N_DAYS {
        let day = first + i;
        let n = by_day
            .iter()
            .find(|(d, _)| *d == day)
            .map_or(0, |(_, n)| *n);
        let x = left + slot * i as f64 + slot * 0.15;
        let h = plot_h * n as f64 / max as f64;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" rx="3" fill="{}"><title>{}: {n}</title></rect>"##,
            top + plot_h - h,
            slot * 0.7,
            if day == today { "#4f46e5" } else { "#818cf8" },
            esc(&day_label(day)),
        );
        if i % 5 == 4 || i == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                x + slot * 0.35,
                height - 6.0,
                esc(&day_label(day))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The smallest of 4, 8, 20, 40, 80, 200… (four gridlines at round numbers) that is
/// at least `max`.
fn nice_top(max: i64) -> i64 {
    let mut unit = 1;
    loop {
        for step in [unit, 2 * unit, 5 * unit] {
            if step * 4 >= max {
                return step * 4;
            }
        }
        unit *= 10;
    }
}

fn bars(tally: &Tally, total: i64) -> String {
    if tally.is_empty() {
        return empty("No pings yet");
    }
    let max = tally
        .iter()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(1)
        .max(total)
        .max(1);
    tally.iter().map(|(label, n)| bar(label, *n, max)).collect()
}

fn bar(label: &str, n: i64, max: i64) -> String {
    format!(
        r#"<div class="bar"><span class="label" title="{l}">{l}</span><span class="track"><span class="fill" style="display:block;width:{:.1}%"></span></span><span class="n">{n}</span></div>"#,
        100.0 * n as f64 / max as f64,
        l = esc(label)
    )
}

fn features(d: &DashboardData) -> String {
    if d.n_instances == 0 {
        return empty("No pings yet");
    }
    let names = ["MQTT broker", "File store", "Email"];
    let mut out = String::new();
    for (name, n) in names.iter().zip(d.features) {
        out.push_str(&bar(name, n, d.n_instances));
    }
    let _ = write!(
        out,
        r#"<p class="empty">Instances with the feature on, of {} active.</p>"#,
        d.n_instances
    );
    out
}

fn posthog_table(d: &DashboardData) -> String {
    if d.posthog_by_name.is_empty() {
        return empty("No PostHog events yet");
    }
    let mut out =
        String::from("<table><tr><th>Event</th><th>Count</th><th>Last received</th></tr>");
    for (name, n, last) in &d.posthog_by_name {
        let _ = write!(
            out,
            r#"<tr><td><code>{}</code></td><td class="num">{n}</td><td>{}</td></tr>"#,
            esc(name),
            esc(&short_time(*last))
        );
    }
    out.push_str("</table>");
    out
}

fn pings_table(d: &DashboardData) -> String {
    if d.latest_pings.is_empty() {
        return empty("No pings yet");
    }
    let mut out = String::from(
        "<table><tr><th>Received</th><th>Instance</th><th>Version</th><th>OS</th><th>Licence</th><th>Users</th><th>Instances</th><th>IP hash</th></tr>",
    );
    for p in &d.latest_pings {
        let payload: serde_json::Value = serde_json::from_str(&p.payload).unwrap_or_default();
        let count = |key: &str| {
            payload
                .pointer(&format!("/platform/counts/{key}"))
                .and_then(serde_json::Value::as_u64)
                .map_or_else(|| "–".to_owned(), |n| n.to_string())
        };
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td><code>{}…</code></td></tr>"#,
            esc(&short_time(p.received_at)),
            esc(&p.instance_id),
            esc(p.platform_version.as_deref().unwrap_or("–")),
            esc(p.os_type.as_deref().unwrap_or("–")),
            esc(p.license_type.as_deref().unwrap_or("–")),
            count("users"),
            count("projects"),
            esc(p.ip_hash.get(..12).unwrap_or(&p.ip_hash)),
        );
    }
    out.push_str("</table>");
    out
}

fn sentry_table(d: &DashboardData) -> String {
    let mut out = String::new();
    if !d.sentry_by_type.is_empty() {
        out.push_str(r#"<div class="chips">"#);
        for (kind, n) in &d.sentry_by_type {
            let _ = write!(out, r#"<span class="chip">{} · {n}</span>"#, esc(kind));
        }
        out.push_str("</div>");
    }
    if d.sentry_errors.is_empty() {
        out.push_str(&empty("No Sentry errors yet"));
        return out;
    }
    out.push_str("<table><tr><th>Received</th><th>Message</th><th>Level</th><th>Release</th></tr>");
    for e in &d.sentry_errors {
        let payload: serde_json::Value = serde_json::from_str(&e.body).unwrap_or_default();
        let field = |key: &str| {
            payload
                .get(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("–")
                .to_owned()
        };
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td class="msg">{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&short_time(e.received_at)),
            esc(e.message.as_deref().unwrap_or("(no message)")),
            esc(&field("level")),
            esc(&field("release")),
        );
    }
    out.push_str("</table>");
    out
}

fn short_time(t: UnixMs) -> String {
    let s = t.to_rfc3339();
    format!("{} {}", &s[..10], &s[11..19])
}

fn empty(text: &str) -> String {
    format!(r#"<p class="empty">{}</p>"#, esc(text))
}

/// HTML-escapes text for element content and quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventRow;

    #[test]
    fn chart_tops_are_round() {
        let tops: Vec<i64> = [0, 1, 4, 5, 9, 25, 79, 81, 1_234].map(nice_top).to_vec();
        assert_eq!(tops, [4, 4, 4, 8, 20, 40, 80, 200, 2_000]);
    }

    #[test]
    fn everything_shown_is_escaped() {
        let evil = "<script>alert('x')</script>";
        let data = DashboardData {
            n_instances: 1,
            versions: vec![(evil.to_owned(), 1)],
            posthog_by_name: vec![(evil.to_owned(), 2, UnixMs(0))],
            sentry_errors: vec![EventRow {
                source: "sentry".into(),
                received_at: UnixMs(0),
                name: "event".into(),
                distinct_id: None,
                message: Some(evil.to_owned()),
                body: r#"{"level":"<i>lvl"}"#.into(),
            }],
            sentry_by_type: vec![(evil.to_owned(), 1)],
            ..Default::default()
        };
        let html = render(&data, UnixMs(1_764_314_239_123));
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<i>lvl"));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    }
}
