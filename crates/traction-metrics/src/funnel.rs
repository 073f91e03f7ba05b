//! The pipeline funnel, a built-in special kind (spec: metrics.md, `funnel`).
//!
//! For the deals created in `[from, to)` (optionally one pipeline, optionally filtered by
//! `where`), per pipeline and per step — its open stages by position, then its won stage — the
//! number of deals that *reached* the step: that entered it or any later step. A deal's steps
//! entered are the stages of its history up to `at`; a deal without any history entered its
//! current stage at creation (data-model.md). Deals can skip stages, and the won stage counts
//! as later than all open stages; lost stages are not steps.

use std::collections::{BTreeMap, HashMap};

use traction_domain::Entity;
use traction_domain::time::Micros;
use traction_store::Backend;
use traction_store::SqlValue;

use crate::Error;
use crate::eval::{local_text, read_rows};
use crate::expr::compile::{Env, Param};
use crate::filter::Filter;
use crate::source::{Placed, Source, SourceScope};

/// A funnel query.
#[derive(Clone, Debug)]
pub struct FunnelQuery {
    pub pipeline: Option<String>,
    pub from: Micros,
    pub to: Micros,
    /// A filter on deals.
    pub filter: Filter,
    pub at: Micros,
}

/// One step of a pipeline's funnel.
#[derive(Clone, Debug, PartialEq)]
pub struct FunnelRow {
    pub pipeline: String,
    pub stage: String,
    pub position: i64,
    pub reached: u64,
    /// reached(next) / reached(this); null for the last step or when nothing reached this one.
    pub conversion_to_next: Option<f64>,
    /// 1 − conversion_to_next.
    pub leakage: Option<f64>,
}

/// The funnel's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct FunnelResult {
    pub from: String,
    pub to: String,
    pub rows: Vec<FunnelRow>,
}

fn text(v: &SqlValue) -> String {
    match v {
        SqlValue::Text(s) => s.clone(),
        SqlValue::Integer(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Computes the funnel.
pub fn funnel(store: &dyn Backend, query: &FunnelQuery) -> Result<FunnelResult, Error> {
    funnel_in(store, query, &crate::eval::workspace_env(store)?)
}

/// Computes the funnel in a workspace already read ([`crate::workspace_env`]).
pub fn funnel_in(
    store: &dyn Backend,
    query: &FunnelQuery,
    env: &Env,
) -> Result<FunnelResult, Error> {
    if query.from >= query.to {
        return Err(crate::Input::EmptyRange.into());
    }
    let scope = SourceScope::placed(Source::Entity(Entity::Deals), Placed::Unbucketed);
    let mut params: Vec<Param> = Vec::new();
    let mut cond = format!("t.created_at >= {} AND t.created_at < {}", query.from, query.to);
    if let Some(f) = query.filter.compile(&scope, env)? {
        cond.push_str(&format!(" AND ({})", f.sql));
        params.extend(f.params);
    }
    if let Some(p) = &query.pipeline {
        cond.push_str(" AND t.pipeline_id = ?");
        params.push(Param::Text(p.clone()));
    }
    let joins = Source::Entity(Entity::Deals).joins_sql(&scope.joins.borrow(), query.at);
    let deals_sql =
        format!("SELECT t.id, t.pipeline_id, t.stage_id FROM deals t{joins} WHERE {cond}");
    // The history of those deals, and whether each change happened by the clock.
    let entered_sql = format!(
        "SELECT t.id, sc.stage_id, sc.changed_at <= {} FROM deals t{joins} \
         JOIN stage_changes sc ON sc.deal_id = t.id WHERE {cond}",
        query.at
    );
    let (stages, deals, entered, known) = (|| -> Result<_, Error> {
        let stages = read_rows(
            store,
            "SELECT pipeline_id, id, position, kind FROM stages ORDER BY pipeline_id, position, id",
            &[],
        )?;
        let deals = read_rows(store, &deals_sql, &params)?;
        let entered = read_rows(store, &entered_sql, &params)?;
        let known = match &query.pipeline {
            None => true,
            Some(p) => !read_rows(
                store,
                "SELECT 1 FROM pipelines WHERE id = ?",
                &[Param::Text(p.clone())],
            )?
            .is_empty(),
        };
        Ok((stages, deals, entered, known))
    })()?;
    if !known {
        return Err(Error::NotFound(format!(
            "no pipeline {:?}: `traction export pipelines` lists them",
            query.pipeline.as_deref().unwrap_or_default()
        )));
    }

    // Steps per pipeline: open stages by position, then the won stage.
    let mut steps: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    let mut won: HashMap<String, (String, i64)> = HashMap::new();
    for row in &stages {
        let pipeline = text(&row[0]);
        let stage = text(&row[1]);
        let position = match row[2] {
            SqlValue::Integer(n) => n,
            _ => 0,
        };
        match text(&row[3]).as_str() {
            "open" => steps.entry(pipeline).or_default().push((stage, position)),
            "won" => {
                won.insert(pipeline.clone(), (stage, position));
                steps.entry(pipeline).or_default();
            }
            _ => {}
        }
    }
    for (pipeline, list) in steps.iter_mut() {
        if let Some(w) = won.remove(pipeline) {
            list.push(w);
        }
    }
    let step_of: HashMap<&str, usize> = steps
        .values()
        .flat_map(|list| list.iter().enumerate().map(|(idx, (stage, _))| (stage.as_str(), idx)))
        .collect();

    // Each deal's furthest step: from its history up to the clock, or, without any history,
    // its current stage.
    let with_history: std::collections::HashSet<String> =
        entered.iter().map(|r| text(&r[0])).collect();
    let mut furthest: HashMap<String, (String, Option<usize>)> = HashMap::new();
    for row in &deals {
        let id = text(&row[0]);
        let step = if with_history.contains(&id) {
            None
        } else {
            step_of.get(text(&row[2]).as_str()).copied()
        };
        furthest.insert(id, (text(&row[1]), step));
    }
    for row in &entered {
        let in_time = matches!(row[2], SqlValue::Integer(1));
        if let (true, Some(entry), Some(step)) =
            (in_time, furthest.get_mut(&text(&row[0])), step_of.get(text(&row[1]).as_str()))
        {
            entry.1 = Some(entry.1.map_or(*step, |s| s.max(*step)));
        }
    }
    let mut reached: HashMap<&str, Vec<u64>> = HashMap::new();
    for (pipeline, step) in furthest.values() {
        let Some(list) = steps.get(pipeline) else { continue };
        let counts = reached.entry(pipeline.as_str()).or_insert_with(|| vec![0; list.len()]);
        if let Some(step) = step {
            for c in counts.iter_mut().take(step + 1) {
                *c += 1;
            }
        }
    }

    let mut rows = Vec::new();
    for (pipeline, list) in &steps {
        if let Some(p) = &query.pipeline
            && p != pipeline
        {
            continue;
        }
        let counts = reached.get(pipeline.as_str()).cloned().unwrap_or_else(|| vec![0; list.len()]);
        for (idx, (stage, position)) in list.iter().enumerate() {
            let conversion = counts
                .get(idx + 1)
                .and_then(|next| (counts[idx] > 0).then(|| *next as f64 / counts[idx] as f64));
            rows.push(FunnelRow {
                pipeline: pipeline.clone(),
                stage: stage.clone(),
                position: *position,
                reached: counts[idx],
                conversion_to_next: conversion,
                leakage: conversion.map(|c| 1.0 - c),
            });
        }
    }
    Ok(FunnelResult {
        from: local_text(query.from, &env.zone),
        to: local_text(query.to, &env.zone),
        rows,
    })
}
