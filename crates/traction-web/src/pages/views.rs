//! Saved views: a list page with its filters (the URL holds them all), saved under a name by
//! the signed-in user, listed on `/views` and opened from there, deleted there. Views are each
//! person's own: nobody else lists, opens or deletes them (store: `ViewStore::saved_views`).
//!
//! - every list page carries a small "Save this view" form (`save_form`)
//! - `GET /views` lists the user's views; `POST /views` saves one (a name used again replaces
//!   its filters); `POST /views/{id}/delete` deletes one

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use traction_server::AppState;

use super::Ws;
use crate::forms::{self, Form};
use crate::layout::{self, Nav};
use crate::{Req, Result, WebError, respond};

/// The list pages a view may be of.
pub const LISTS: &[(&str, &str)] = &[
    ("/deals", "Deals"),
    ("/pipeline", "Pipeline board"),
    ("/leads", "Leads"),
    ("/customers", "Customers"),
    ("/orders", "Orders"),
    ("/products", "Products"),
    ("/campaigns", "Campaigns"),
    ("/costs", "Costs"),
];

/// The list a path is of, when it is one.
fn list_of(path: &str) -> Option<&'static str> {
    let base = path.split_once('?').map_or(path, |(b, _)| b);
    LISTS.iter().find(|(p, _)| *p == base).map(|(_, label)| *label)
}

/// The "Save this view" form of a list page: the page's URL as it is now, under a name.
pub fn save_form(req: &Req) -> Markup {
    let Some(_user) = &req.user else { return html! {} };
    if list_of(&req.path).is_none() {
        return html! {};
    }
    html! {
        form.filters.save-view method="post" action="/views" {
            @if let Some(c) = &req.csrf { input type="hidden" name="_csrf" value=(c); }
            input type="hidden" name="path" value=(req.path);
            label for="view-name" { "Save this view as" }
            input type="text" name="name" id="view-name" maxlength=(traction_store::MAX_VIEW_NAME) placeholder="e.g. My open deals" required;
            button.secondary type="submit" { "Save view" }
            " " a href="/views" { "My views" }
        }
    }
}

pub async fn list(State(state): State<AppState>, req: Req) -> Result<Response> {
    respond(state, move |state, _| page(state, &req, None)).await
}

fn page(state: &AppState, req: &Req, problem: Option<&str>) -> Result<Markup> {
    let Some(user) = &req.user else {
        return Err(WebError::bad(
            "saved views belong to a signed-in user: this server runs without sign-in",
        ));
    };
    let ws = Ws::load(&*state.store, req)?;
    let views = state.store.saved_views(&user.id)?;
    let body = html! {
        div.page-head {
            h1 { "My views" }
            p.sub { "Lists with their filters, saved by you and seen only by you. Save one from any list: Deals, Leads, Customers, Orders, Products, Campaigns, Costs." }
        }
        @if let Some(p) = problem { p.notice.bad role="alert" { "Not saved: " (p) } }
        @if views.is_empty() {
            (layout::empty("No saved views yet — filter a list, then save it under a name.", Some(("/deals", "Go to deals"))))
        } @else {
            div.card.scroll #views {
                table {
                    thead { tr { th scope="col" { "View" } th scope="col" { "List" } th scope="col" { "Saved" } th scope="col" {} } }
                    tbody {
                        @for v in &views {
                            tr {
                                th scope="row" { a href=(v.path) { (v.name) } }
                                td { (list_of(&v.path).unwrap_or("–")) }
                                td { (ws.when(v.created_at)) }
                                td {
                                    form method="post" action={"/views/" (v.id) "/delete"} {
                                        @if let Some(c) = &req.csrf { input type="hidden" name="_csrf" value=(c); }
                                        button.secondary type="submit" aria-label={"Delete the view " (v.name)} { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(req, "My views", Nav::Settings, body))
}

pub async fn save(State(state): State<AppState>, req: Req, body: Bytes) -> Result<Response> {
    let form = Form::parse(&body)?;
    let name = form.get("name").unwrap_or("").trim().to_string();
    let path = form.get("path").unwrap_or("").trim().to_string();
    respond(state, move |state, now| {
        let Some(user) = &req.user else {
            return Err(WebError::bad(
                "saved views belong to a signed-in user: this server runs without sign-in",
            ));
        };
        if path.len() > 2000 {
            return Err(WebError::bad("path: a view's address is at most 2,000 characters"));
        }
        if !forms::is_local_path(&path) || list_of(&path).is_none() {
            return Err(WebError::bad(format!(
                "path: {path:?} is not a list page; save a view from Deals, Leads, Customers, Orders, Products, Campaigns or Costs"
            )));
        }
        match state.store.save_view(&user.id, &name, &path, now) {
            Ok(_) => Ok(forms::see_other(&path)),
            Err(traction_store::Error::Invalid(problems)) => {
                let message: Vec<String> = problems.into_iter().map(|p| p.message).collect();
                let markup = page(state, &req, Some(&message.join("; ")))?;
                Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    req: Req,
    Path(id): Path<String>,
) -> Result<Response> {
    respond(state, move |state, _| {
        let Some(user) = &req.user else {
            return Err(WebError::bad("saved views belong to a signed-in user"));
        };
        let id: i64 = id.parse().map_err(|_| WebError::not_found("there is no such view"))?;
        match state.store.delete_view(&user.id, id) {
            Ok(()) => Ok(forms::see_other("/views")),
            Err(traction_store::Error::NotFound) => {
                Err(WebError::not_found("You have no such view: it may have been deleted already."))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}
