//! docs/metric-catalog.md is generated from the built-in definitions and must not go stale.

use traction_metrics::Catalog;

#[test]
fn the_catalog_page_is_up_to_date() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/metric-catalog.md");
    let want = Catalog::builtin().to_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        got == want,
        "{} is stale: run `UPDATE_DOCS=1 cargo test -p traction-metrics --test metrics docs`",
        path.display()
    );
}
