//! The events list and the schema-driven event form (issue 20): the demo's community kitchen
//! listed, filtered by a kind written as people write it, and an event added in the form.

use traction_domain::{Entity, Value};

use crate::app::App;
use crate::pages::post_form;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_listed_by_kind_and_added_in_the_form() {
    let app = App::spawn().await;
    let page = app.api().get(app.url("/events?kind=Meals%20Served")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("lunch service"), "the kitchen's meals are listed");
    assert!(!body.contains("kitchen shift"), "only the kind asked for");
    let form = app.api().get(app.url("/records/events/new")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(form.contains("name=\"kind\"") && form.contains("name=\"quantity\""));
    // A kind with capitals and spaces is stored normalised; the quantity keeps its decimals.
    let before = app.count(Entity::Events);
    let r = post_form(
        &app,
        "/records/events",
        &[
            ("id", "web-e1"),
            ("kind", "Volunteer Hours"),
            ("occurred_at", "2026-11-02 09:00"),
            ("quantity", "2.75"),
            ("owner_id", "web-admin"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let stored = app.get(Entity::Events, "web-e1").unwrap();
    assert_eq!(stored.get("kind"), &Value::Text("volunteer_hours".into()));
    assert_eq!(stored.get("quantity"), &Value::Real(2.75));
    // A bad kind is shown at its field and nothing is stored.
    let r = post_form(
        &app,
        "/records/events",
        &[("kind", "meals/served"), ("occurred_at", "2026-11-02 09:00"), ("owner_id", "web-admin")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("is not a kind"));
    assert_eq!(app.count(Entity::Events), before + 1);
}
