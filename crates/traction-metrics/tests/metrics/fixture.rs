//! A fresh database per test, filled from CSV text, and short ways to ask for a metric.

use traction_domain::Entity;
use traction_domain::settings::Key;
use traction_domain::time::{Micros, parse_instant};
use traction_import::{Format, ImportOptions, import};
use traction_metrics::{Catalog, Compare, Grain, MetricResult, Query, run};
use traction_store::Backend;

pub struct Fx {
    _dir: tempfile::TempDir,
    pub store: std::sync::Arc<dyn Backend>,
    pub catalog: Catalog,
}

/// Teams, users, accounts and a pipeline: the references most fixtures need.
///
/// Pipeline p1: s1 Start (1, probability not given), s2 Discovery (2, 0.5), s3 Demo (3, not
/// given), won (4), lost (5).
pub const BASE: &[(&str, &str)] = &[
    ("teams", "id,name\nt1,North\nt2,South\n"),
    ("users", "id,name,team_id,created_at\nu1,Ann,t1,2025-01-01\nu2,Bob,t2,2025-01-01\n"),
    (
        "accounts",
        "id,name,segment,industry,region,created_at\na1,Acme,smb,retail,north,2025-01-01\na2,Bigco,enterprise,energy,south,2025-01-01\n",
    ),
    ("pipelines", "id,name\np1,Sales\n"),
    (
        "stages",
        "id,pipeline_id,name,position,probability,kind\ns1,p1,Start,1,,open\ns2,p1,Discovery,2,0.5,open\ns3,p1,Demo,3,,open\nwon,p1,Won,4,,won\nlost,p1,Lost,5,,lost\n",
    ),
];

impl Fx {
    pub fn new(zone: &str) -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let store = traction_store::open(&dir.path().join("t.db")).unwrap();
        store.set_setting(Key::Timezone, None, zone).unwrap();
        let fx = Fx { _dir: dir, store, catalog: Catalog::builtin() };
        for (entity, csv) in BASE {
            fx.import(entity, csv);
        }
        fx
    }

    pub fn import(&self, entity: &str, csv: &str) {
        let entity = Entity::parse(entity).unwrap();
        let options = ImportOptions {
            file_name: format!("{entity}.csv"),
            format: Format::Csv,
            max_errors: 20,
            now: 1_767_225_600_000_000,
        };
        import(&*self.store, entity, csv.as_bytes(), &options, &mut |_| {})
            .unwrap_or_else(|e| panic!("{entity}: {e}"));
    }

    pub fn at(&self, text: &str) -> Micros {
        parse_instant(text, &self.store.workspace().unwrap().zone).unwrap()
    }

    /// A query with the clock at 2030-01-01, far after every fixture.
    pub fn query(&self, metric: &str, from: &str, to: &str, grain: Grain) -> Query {
        Query::new(metric, self.at(from), self.at(to), grain, self.at("2030-01-01"))
    }

    pub fn run(&self, query: &Query) -> MetricResult {
        run(&*self.store, &self.catalog, query).unwrap_or_else(|e| panic!("{}: {e}", query.metric))
    }

    /// The one value of a metric over a range (grain all); `None` when there is no row.
    pub fn value(&self, metric: &str, from: &str, to: &str) -> Option<f64> {
        let res = self.run(&self.query(metric, from, to, Grain::All));
        assert!(res.rows.len() <= 1, "{metric}: {:?}", res.rows);
        res.rows.first().and_then(|r| r.value)
    }

    /// The value at a given clock.
    pub fn value_at(&self, metric: &str, from: &str, to: &str, at: &str) -> Option<f64> {
        let mut q = self.query(metric, from, to, Grain::All);
        q.at = self.at(at);
        let res = self.run(&q);
        res.rows.first().and_then(|r| r.value)
    }

    /// `(period, value)` per row.
    pub fn series(
        &self,
        metric: &str,
        from: &str,
        to: &str,
        grain: Grain,
    ) -> Vec<(String, Option<f64>)> {
        self.run(&self.query(metric, from, to, grain))
            .rows
            .into_iter()
            .map(|r| (r.period.unwrap_or_default(), r.value))
            .collect()
    }

    /// Rows as `(dimension values joined by /, value)`, grain all.
    pub fn by(
        &self,
        metric: &str,
        from: &str,
        to: &str,
        by: &[&str],
    ) -> Vec<(String, Option<f64>)> {
        let mut q = self.query(metric, from, to, Grain::All);
        q.by = by.iter().map(|s| s.to_string()).collect();
        self.run(&q)
            .rows
            .into_iter()
            .map(|r| (r.dims.iter().map(|d| d.text()).collect::<Vec<_>>().join("/"), r.value))
            .collect()
    }

    pub fn compare(
        &self,
        metric: &str,
        from: &str,
        to: &str,
        grain: Grain,
        compare: Compare,
    ) -> MetricResult {
        let mut q = self.query(metric, from, to, grain);
        q.compare = Some(compare);
        self.run(&q)
    }
}

/// Asserts two optional floats are equal to within rounding.
#[track_caller]
pub fn close(got: Option<f64>, want: f64) {
    match got {
        Some(v) if (v - want).abs() <= 1e-9 * want.abs().max(1.0) => {}
        other => panic!("expected {want}, got {other:?}"),
    }
}
