//! `--html`: a self-contained page with a lane per thread, source lines on
//! hover, conflicting accesses linked. (scripts/html-screenshot.sh checks
//! it in headless Chromium.)

use crate::guests::{cli, code, guest, scratch, stdout};

#[test]
fn the_page_draws_the_race_without_fetching_anything() {
    let dir = scratch("html");
    let module = guest("bank_account");
    let m = module.to_str().unwrap();
    let out = cli(&dir, &["explore", m, "--html", "race.html"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("interleaving drawn in race.html"));
    let page = std::fs::read_to_string(dir.join("race.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    for external in ["http://", "https://", "src=", "<link"] {
        assert!(!page.contains(external), "page refers to {external}");
    }
    // A head per thread after the step column.
    assert_eq!(page.matches("<div class=\"head\">").count(), 4);
    // Both transfers read the balance at line 13; the source is on hover.
    assert!(
        page.matches("bank_account.rs:13:").count() >= 2,
        "source lines missing"
    );
    // Conflicting accesses carry links to each other; one step fails.
    assert!(page.matches("conflict").count() >= 4);
    assert!(page.contains("href=\"#s"));
    assert_eq!(page.matches(" fails\"").count(), 1);
    // The same page from a replay of the saved schedule.
    let out = cli(
        &dir,
        &[
            "replay",
            m,
            "bank_account.failure.json",
            "--html",
            "again.html",
        ],
    );
    assert_eq!(code(&out), 1);
    let again = std::fs::read_to_string(dir.join("again.html")).unwrap();
    assert_eq!(again, page);
}
