//! The page shell: the navigation (every page two clicks from the dashboard), the live
//! indicator, the stylesheet and the one script.

use maud::{DOCTYPE, Markup, html};

use crate::Req;

/// The sections of the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    Dashboard,
    Today,
    Pipeline,
    Leads,
    Log,
    Explore,
    Targets,
    Customers,
    Products,
    Campaigns,
    Events,
    Import,
    Settings,
    /// Alerts, scheduled reports and the notification list.
    Alerts,
    /// The search page (reached from the box in the top bar, not the list of sections).
    Search,
}

const ITEMS: &[(Nav, &str, &str)] = &[
    (Nav::Dashboard, "/", "Dashboard"),
    (Nav::Today, "/today", "Today"),
    (Nav::Pipeline, "/pipeline", "Pipeline"),
    (Nav::Leads, "/leads", "Leads"),
    (Nav::Explore, "/explore", "Explore"),
    (Nav::Targets, "/targets", "Targets"),
    (Nav::Customers, "/customers", "Customers"),
    (Nav::Products, "/products", "Products"),
    (Nav::Campaigns, "/campaigns", "Campaigns"),
    (Nav::Events, "/events", "Events"),
    (Nav::Alerts, "/alerts", "Alerts"),
    (Nav::Import, "/import", "Import"),
    (Nav::Settings, "/settings", "Settings"),
];

/// A whole page: `title` names it in the tab and the heading; `body` is the main content.
pub fn page(req: &Req, title: &str, nav: Nav, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                @if let Some(token) = &req.csrf {
                    meta name="csrf-token" content=(token);
                }
                title { (title) " · Traction" }
                link rel="stylesheet" href="/assets/app.css";
                link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
                script src="/assets/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" aria-label="Traction, the dashboard" { "Traction" }
                    nav aria-label="Sections" {
                        ul {
                            // A viewer imports nothing: no Import in their navigation.
                            @for (item, href, label) in ITEMS.iter().filter(|(i, _, _)| *i != Nav::Import || req.user.as_ref().is_none_or(|u| u.role != "viewer")) {
                                li {
                                    a href=(href) aria-current=[(*item == nav).then_some("page")] { (label) }
                                }
                            }
                        }
                    }
                    form.search method="get" action="/search" role="search" {
                        input type="search" name="q" aria-label="Search deals, leads, customers and contacts" placeholder="Search";
                    }
                    @if req.user.as_ref().is_none_or(|u| u.role != "viewer") {
                        a.button.log href="/log" aria-current=[(nav == Nav::Log).then_some("page")] { "+ Log activity" }
                    }
                    @if let Some(n) = req.unread {
                        // The bell: the unread count, kept live by the script (a `notification`
                        // event on the one event stream); a link to the list without it.
                        a #bell .bell href="/notifications" aria-label={"Notifications: " (n) " unread"} data-unread=(n) {
                            svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" {
                                path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z" {}
                            }
                            span #bell-count .count hidden[n == 0] { (n) }
                        }
                    }
                    span #live .live role="status" aria-live="polite" title="Live updates" { "offline" }
                    @if let Some(user) = &req.user {
                        form.signout method="post" action="/logout" {
                            @if let Some(token) = &req.csrf { input type="hidden" name="_csrf" value=(token); }
                            span.who { (user.name) " · " (user.role) }
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// An empty state: what is missing and what to do next.
pub fn empty(message: &str, action: Option<(&str, &str)>) -> Markup {
    html! {
        div.empty {
            p { (message) }
            @if let Some((href, label)) = action { a.button href=(href) { (label) } }
        }
    }
}
