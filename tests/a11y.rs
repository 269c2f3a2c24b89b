//! Every view with the demo's data, in Chromium: no serious or critical axe-core violations in either theme, and no view wider than a 1400, 1000, 800 or 600 px window.

use otelscope_e2e::demo::DemoRun;
use otelscope_e2e::views::{open, set_theme, set_viewport, views_with_data};
use otelscope_e2e::Browser;

/// axe-core as `make test`'s set-up installs it (scripts/setup.sh).
fn axe_source() -> String {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/node/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (scripts/setup.sh installs axe-core)"))
}

/// The serious and critical violations axe finds on the page, one line each with the first
/// few elements and why.
async fn violations(browser: &Browser, axe: &str) -> Vec<String> {
    if browser.eval("return typeof window.axe").await != "object" {
        browser.client.execute(&format!("{axe}\n;return true"), vec![]).await.unwrap();
    }
    let found = browser
        .client
        .execute_async(
            r#"const done = arguments[0];
            axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.slice(0, 4)
                    .map(n => n.target.join(' ') + ' [' + (n.any.concat(n.all).map(c => c.message).join('; ')) + ']').join(' | '))));"#,
            vec![],
        )
        .await
        .expect("axe.run");
    found.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_view_passes_axe_in_both_themes_and_fits_1400_to_600_px() {
    let demo = DemoRun::start(&[]).await;
    let server = &demo.server;
    let views = views_with_data(server).await;
    let axe = axe_source();
    let browser = Browser::start().await;
    let mut problems = Vec::new();
    for view in &views {
        set_viewport(&browser, 1400, 900).await;
        open(&browser, server, view).await;
        for theme in ["dark", "light"] {
            set_theme(&browser, theme).await;
            for found in violations(&browser, &axe).await {
                problems.push(format!("{} ({theme}): {found}", view.path));
            }
        }
        for width in [1400, 1000, 800, 600] {
            set_viewport(&browser, width, 900).await;
            let wide = browser
                .eval("return [document.documentElement.scrollWidth, Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && getComputedStyle(e).position !== 'fixed').slice(0, 3).map(e => e.tagName + '.' + e.className).join(', ')]")
                .await;
            let scroll = wide[0].as_u64().unwrap();
            if scroll > u64::from(width) {
                problems.push(format!(
                    "{} at {width} px: the page is {scroll} px wide ({})",
                    view.path, wide[1]
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    // Every view was looked at, each with its data (the list would be shorter otherwise).
    assert_eq!(views.len(), 16);
}
