//! A [`Predicate`] as SQLite SQL with `?` parameters: the one place a list's condition becomes
//! SQL. Field names are checked against the entity's schema and written as the schema spells
//! them; every value is a parameter.

use traction_domain::schema::FieldType;
use traction_domain::{Entity, Value};

use crate::predicate::has_owner;
use crate::{ArithOp, CmpOp, Error, Predicate, Problem, Term};

/// SQL over the columns of `entity`'s table and the values of its `?`s, in order.
pub(crate) fn compile(
    entity: Entity,
    predicate: &Predicate,
) -> Result<(String, Vec<Value>), Error> {
    let mut out = Compiler { entity, params: Vec::new() };
    let sql = out.predicate(predicate)?;
    Ok((sql, out.params))
}

struct Compiler {
    entity: Entity,
    params: Vec<Value>,
}

fn invalid(field: &str, message: String) -> Error {
    Error::Invalid(vec![Problem { tag: None, field: field.to_string(), message }])
}

impl Compiler {
    fn param(&mut self, value: Value) -> String {
        self.params.push(value);
        "?".to_string()
    }

    fn predicate(&mut self, p: &Predicate) -> Result<String, Error> {
        Ok(match p {
            Predicate::True => "1".into(),
            Predicate::False => "0".into(),
            Predicate::Compare { left, op, right } => {
                let l = self.term(left)?;
                let r = self.term(right)?;
                let sym = match op {
                    CmpOp::Eq => "=",
                    CmpOp::Ne => "!=",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                };
                format!("({l}) {sym} ({r})")
            }
            Predicate::In { term, values } => {
                if values.is_empty() {
                    return Ok("0".into());
                }
                let t = self.term(term)?;
                let list =
                    values.iter().map(|v| self.term(v)).collect::<Result<Vec<_>, _>>()?.join(", ");
                format!("({t}) IN ({list})")
            }
            Predicate::IsNull(t) => format!("({}) IS NULL", self.term(t)?),
            Predicate::NotNull(t) => format!("({}) IS NOT NULL", self.term(t)?),
            Predicate::Holds(t) => format!("({})", self.term(t)?),
            Predicate::Contains { field, text } => {
                let column = self.text_field(field)?;
                // `instr`, not LIKE: the text is matched literally, `%` and `_` included. SQLite's
                // lower() folds ASCII letters only, so the text is folded the same way.
                let p = self.param(Value::Text(text.to_ascii_lowercase()));
                format!("instr(lower({column}), {p}) > 0")
            }
            Predicate::OwnedBy(owners) => self.owned_by(owners)?,
            Predicate::And(parts) => self.join(parts, " AND ", "1")?,
            Predicate::Or(parts) => self.join(parts, " OR ", "0")?,
            Predicate::Not(inner) => format!("NOT ({})", self.predicate(inner)?),
        })
    }

    fn join(&mut self, parts: &[Predicate], word: &str, empty: &str) -> Result<String, Error> {
        if parts.is_empty() {
            return Ok(empty.into());
        }
        let sql = parts
            .iter()
            .map(|p| Ok(format!("({})", self.predicate(p)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(sql.join(word))
    }

    fn term(&mut self, t: &Term) -> Result<String, Error> {
        Ok(match t {
            Term::Field(name) => {
                let field = self.field(name)?;
                // Exact decimals are kept as normalised text; compared as numbers.
                if field.ty == FieldType::Decimal {
                    format!("CAST({} AS REAL)", field.name)
                } else {
                    field.name.to_string()
                }
            }
            Term::Value(Value::Null) => "NULL".into(),
            Term::Value(v) => self.param(v.clone()),
            Term::Neg(inner) => format!("-({})", self.term(inner)?),
            Term::Arith { op, left, right } => {
                let l = self.term(left)?;
                let r = self.term(right)?;
                // SQLite divides integers as integers; a fraction is what is meant.
                let sym = match op {
                    ArithOp::Add => " + ",
                    ArithOp::Sub => " - ",
                    ArithOp::Mul => " * ",
                    ArithOp::Div => " * 1.0 / ",
                };
                format!("({l}){sym}({r})")
            }
            Term::If { cond, then, otherwise } => {
                let c = self.predicate(cond)?;
                let a = self.term(then)?;
                let b = self.term(otherwise)?;
                format!("(CASE WHEN {c} THEN {a} ELSE {b} END)")
            }
            Term::LocalDate { instant, zone } => {
                // The offset repeats its argument, so the argument must carry no parameters.
                let mark = self.params.len();
                let inst = self.term(instant)?;
                if self.params.len() != mark {
                    return Err(invalid(
                        "date",
                        "the local day is taken of a timestamp field, not of a value".into(),
                    ));
                }
                let offset = crate::zone_offset_sql(&inst, zone);
                format!("date((({inst}) + ({offset})) / 1000000.0, 'unixepoch')")
            }
            Term::Truth(p) => format!("({})", self.predicate(p)?),
        })
    }

    fn field(&self, name: &str) -> Result<&'static traction_domain::schema::Field, Error> {
        let entity = self.entity;
        entity.field(name).ok_or_else(|| invalid(name, format!("{entity} has no field {name:?}")))
    }

    fn text_field(&self, name: &str) -> Result<&'static str, Error> {
        let field = self.field(name)?;
        match field.ty {
            FieldType::Id
            | FieldType::Text
            | FieldType::Category
            | FieldType::Enum(_)
            | FieldType::Ref(_)
            | FieldType::Kind => Ok(field.name),
            _ => Err(invalid(name, format!("{} field {name:?} is not text", self.entity))),
        }
    }

    fn owned_by(&mut self, owners: &[String]) -> Result<String, Error> {
        let entity = self.entity;
        if !has_owner(entity) {
            return Err(invalid("owner_id", format!("{entity} records have no owner")));
        }
        let list = if owners.is_empty() {
            "NULL".to_string()
        } else {
            owners.iter().map(|o| self.param(Value::Text(o.clone()))).collect::<Vec<_>>().join(", ")
        };
        let owned = format!("owner_id IS NULL OR owner_id IN ({list})");
        Ok(match entity {
            Entity::StageChanges => {
                format!("deal_id IN (SELECT id FROM deals WHERE owner_id IN ({list}))")
            }
            Entity::OrderLines => format!("order_id IN (SELECT id FROM orders WHERE {owned})"),
            _ => owned,
        })
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;
    use traction_domain::{Entity, Record, Value};

    use crate::sqlite::SqliteStore;
    use crate::{ArithOp, CmpOp, ListQuery, Predicate, Store, Term};

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn record(entity: Entity, fields: &[(&str, Value)]) -> Record {
        let mut r = Record { entity, values: vec![Value::Null; entity.fields().len()] };
        for (name, value) in fields {
            r.set(name, value.clone());
        }
        r
    }

    /// Two users; four accounts (one unowned, one without a region); three products.
    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let mut w = store.writer().unwrap();
        // 2026-06-30T23:30Z is 00:30 on 1 July in London (BST); 22:30Z is still 30 June there.
        for (id, active, at) in [("u1", true, 1_782_862_200), ("u2", false, 1_782_858_600)] {
            let user = record(
                Entity::Users,
                &[
                    ("id", text(id)),
                    ("name", text(id)),
                    ("role", text("rep")),
                    ("active", Value::Bool(active)),
                    ("created_at", Value::Instant(at * 1_000_000)),
                ],
            );
            w.put(0, user).unwrap();
        }
        for (id, name, region, owner) in [
            ("a1", "Acme 50% Off", Some("north"), Some("u1")),
            ("a2", "Acme_Co", None, Some("u2")),
            ("a3", "beta", Some("south"), None),
            ("a4", "ACMEX", Some("north"), Some("u1")),
        ] {
            let account = record(
                Entity::Accounts,
                &[
                    ("id", text(id)),
                    ("name", text(name)),
                    ("region", region.map_or(Value::Null, text)),
                    ("owner_id", owner.map_or(Value::Null, text)),
                    ("created_at", Value::Instant(0)),
                ],
            );
            w.put(0, account).unwrap();
        }
        for (id, price, cost, opening, reorder) in [
            ("p1", 1000, Some(400), 5, Some(10)),
            ("p2", 2000, None, 20, None),
            ("p3", 500, Some(500), 0, Some(0)),
        ] {
            let product = record(
                Entity::Products,
                &[
                    ("id", text(id)),
                    ("name", text(id)),
                    ("unit_price", Value::Int(price)),
                    ("unit_cost", cost.map_or(Value::Null, Value::Int)),
                    ("opening_stock", Value::Int(opening)),
                    ("reorder_level", reorder.map_or(Value::Null, Value::Int)),
                ],
            );
            w.put(0, product).unwrap();
        }
        w.commit().unwrap();
        (dir, store)
    }

    fn ids(store: &SqliteStore, entity: Entity, p: &Predicate) -> Vec<String> {
        let q = ListQuery { filters: &[], condition: Some(p), after: None, limit: 100 };
        store
            .list(entity, &q)
            .unwrap_or_else(|e| panic!("{p:?}: {e}"))
            .iter()
            .map(|r| r.get("id").as_text().unwrap().to_string())
            .collect()
    }

    fn error(store: &SqliteStore, entity: Entity, p: &Predicate) -> String {
        let q = ListQuery { filters: &[], condition: Some(p), after: None, limit: 100 };
        store.list(entity, &q).unwrap_err().to_string()
    }

    fn field(name: &str) -> Box<Term> {
        Box::new(Term::field(name))
    }

    fn int(n: i64) -> Box<Term> {
        Box::new(Term::Value(Value::Int(n)))
    }

    #[test]
    fn comparisons_with_an_absent_value_match_neither_way() {
        let (_dir, store) = store();
        let north = Predicate::compare("region", CmpOp::Eq, text("north"));
        assert_eq!(ids(&store, Entity::Accounts, &north), ["a1", "a4"]);
        // a2 has no region: neither `= north` nor its negation holds for it.
        let ne = Predicate::compare("region", CmpOp::Ne, text("north"));
        assert_eq!(ids(&store, Entity::Accounts, &ne), ["a3"]);
        assert_eq!(ids(&store, Entity::Accounts, &Predicate::Not(Box::new(north))), ["a3"]);
        let missing = Predicate::IsNull(Term::field("region"));
        assert_eq!(ids(&store, Entity::Accounts, &missing), ["a2"]);
        let present = Predicate::NotNull(Term::field("region"));
        assert_eq!(ids(&store, Entity::Accounts, &present), ["a1", "a3", "a4"]);
        // Comparing with an absent value is never true.
        let null = Predicate::compare("region", CmpOp::Eq, Value::Null);
        assert!(ids(&store, Entity::Accounts, &null).is_empty());
        let ge = Predicate::compare("unit_price", CmpOp::Ge, Value::Int(1000));
        assert_eq!(ids(&store, Entity::Products, &ge), ["p1", "p2"]);
        let lt = Predicate::compare("unit_price", CmpOp::Lt, Value::Int(1000));
        assert_eq!(ids(&store, Entity::Products, &lt), ["p3"]);
        let le = Predicate::compare("unit_price", CmpOp::Le, Value::Int(1000));
        assert_eq!(ids(&store, Entity::Products, &le), ["p1", "p3"]);
        let gt = Predicate::compare("unit_price", CmpOp::Gt, Value::Int(1000));
        assert_eq!(ids(&store, Entity::Products, &gt), ["p2"]);
    }

    #[test]
    fn in_and_its_negation_and_the_connectives() {
        let (_dir, store) = store();
        let regions = |list: &[&str]| Predicate::In {
            term: Term::field("region"),
            values: list.iter().map(|r| Term::Value(text(r))).collect(),
        };
        assert_eq!(
            ids(&store, Entity::Accounts, &regions(&["north", "south"])),
            ["a1", "a3", "a4"]
        );
        // NOT IN leaves out the account without a region too.
        assert_eq!(
            ids(&store, Entity::Accounts, &Predicate::Not(Box::new(regions(&["north"])))),
            ["a3"]
        );
        assert!(ids(&store, Entity::Accounts, &regions(&[])).is_empty());
        let owned_by_u1 = Predicate::compare("owner_id", CmpOp::Eq, text("u1"));
        let south = Predicate::compare("region", CmpOp::Eq, text("south"));
        let either = Predicate::Or(vec![owned_by_u1.clone(), south.clone()]);
        assert_eq!(ids(&store, Entity::Accounts, &either), ["a1", "a3", "a4"]);
        let both =
            Predicate::And(vec![owned_by_u1, Predicate::compare("name", CmpOp::Eq, text("ACMEX"))]);
        assert_eq!(ids(&store, Entity::Accounts, &both), ["a4"]);
        assert_eq!(ids(&store, Entity::Accounts, &Predicate::And(vec![])).len(), 4);
        assert!(ids(&store, Entity::Accounts, &Predicate::Or(vec![])).is_empty());
        assert_eq!(ids(&store, Entity::Accounts, &Predicate::True).len(), 4);
        assert!(ids(&store, Entity::Accounts, &Predicate::False).is_empty());
        assert_eq!(Predicate::all([]), None);
        assert_eq!(Predicate::all([Predicate::True, south.clone()]), Some(south));
    }

    #[test]
    fn contains_ignores_ascii_case_and_matches_wildcard_characters_literally() {
        let (_dir, store) = store();
        let contains = |t: &str| Predicate::Contains { field: "name".into(), text: t.into() };
        assert_eq!(ids(&store, Entity::Accounts, &contains("acme")), ["a1", "a2", "a4"]);
        assert_eq!(ids(&store, Entity::Accounts, &contains("ACME")), ["a1", "a2", "a4"]);
        // As LIKE patterns `%` and `_` would match anything; here they are characters.
        assert_eq!(ids(&store, Entity::Accounts, &contains("%")), ["a1"]);
        assert_eq!(ids(&store, Entity::Accounts, &contains("50%")), ["a1"]);
        assert_eq!(ids(&store, Entity::Accounts, &contains("_")), ["a2"]);
        assert_eq!(ids(&store, Entity::Accounts, &contains("e_c")), ["a2"]);
        assert!(ids(&store, Entity::Accounts, &contains("a%x")).is_empty());
        // An absent field contains nothing.
        let region = Predicate::Contains { field: "region".into(), text: "".into() };
        assert_eq!(ids(&store, Entity::Accounts, &region), ["a1", "a3", "a4"]);
        let money = Predicate::Contains { field: "unit_price".into(), text: "1".into() };
        assert!(error(&store, Entity::Products, &money).contains("is not text"));
    }

    #[test]
    fn arithmetic_divides_as_numbers_and_if_chooses() {
        let (_dir, store) = store();
        // Margins: p1 1000 − 400 = 600, p2 has no cost (unknown), p3 0.
        let margin =
            Term::Arith { op: ArithOp::Sub, left: field("unit_price"), right: field("unit_cost") };
        let p =
            Predicate::Compare { left: margin, op: CmpOp::Gt, right: Term::Value(Value::Int(500)) };
        assert_eq!(ids(&store, Entity::Products, &p), ["p1"]);
        // 5 / 2 is 2.5 (not 2), 20 / 2 is 10, 0 / 2 is 0.
        let half = Term::Arith { op: ArithOp::Div, left: field("opening_stock"), right: int(2) };
        let p = Predicate::Compare { left: half, op: CmpOp::Gt, right: Term::Value(Value::Int(2)) };
        assert_eq!(ids(&store, Entity::Products, &p), ["p1", "p2"]);
        // 1000 × 2 + 1 = 2001, 2000 × 2 + 1 = 4001, 500 × 2 + 1 = 1001.
        let sum = Term::Arith {
            op: ArithOp::Add,
            left: Box::new(Term::Arith {
                op: ArithOp::Mul,
                left: field("unit_price"),
                right: int(2),
            }),
            right: int(1),
        };
        let p =
            Predicate::Compare { left: sum, op: CmpOp::Eq, right: Term::Value(Value::Int(2001)) };
        assert_eq!(ids(&store, Entity::Products, &p), ["p1"]);
        let p = Predicate::Compare {
            left: Term::Neg(field("unit_price")),
            op: CmpOp::Lt,
            right: Term::Value(Value::Int(-1500)),
        };
        assert_eq!(ids(&store, Entity::Products, &p), ["p2"]);
        // A missing reorder level counts as 0: p1 10 ≥ 5, p2 0 ≥ 20 no, p3 0 ≥ 0.
        let level = Term::If {
            cond: Box::new(Predicate::IsNull(Term::field("reorder_level"))),
            then: int(0),
            otherwise: field("reorder_level"),
        };
        let p =
            Predicate::Compare { left: level, op: CmpOp::Ge, right: Term::field("opening_stock") };
        assert_eq!(ids(&store, Entity::Products, &p), ["p1", "p3"]);
    }

    #[test]
    fn yes_no_fields_truth_values_and_local_days() {
        let (_dir, store) = store();
        assert_eq!(ids(&store, Entity::Users, &Predicate::Holds(Term::field("active"))), ["u1"]);
        let inactive = Predicate::compare("active", CmpOp::Eq, Value::Bool(false));
        assert_eq!(ids(&store, Entity::Users, &inactive), ["u2"]);
        // (active) = (name = 'u2'): true for neither user (u1 active not u2; u2 inactive but u2).
        let p = Predicate::Compare {
            left: Term::field("active"),
            op: CmpOp::Eq,
            right: Term::Truth(Box::new(Predicate::compare("name", CmpOp::Eq, text("u2")))),
        };
        assert!(ids(&store, Entity::Users, &p).is_empty());
        let london = TimeZone::get("Europe/London").unwrap();
        let day = |zone: &TimeZone, d: &str| Predicate::Compare {
            left: Term::LocalDate { instant: field("created_at"), zone: zone.clone() },
            op: CmpOp::Eq,
            right: Term::Value(Value::Date(d.parse().unwrap())),
        };
        assert_eq!(ids(&store, Entity::Users, &day(&london, "2026-07-01")), ["u1"]);
        assert_eq!(ids(&store, Entity::Users, &day(&london, "2026-06-30")), ["u2"]);
        assert_eq!(ids(&store, Entity::Users, &day(&TimeZone::UTC, "2026-06-30")), ["u1", "u2"]);
        let of_value = Predicate::Compare {
            left: Term::LocalDate { instant: int(0), zone: london },
            op: CmpOp::Eq,
            right: Term::Value(Value::Date("1970-01-01".parse().unwrap())),
        };
        assert!(error(&store, Entity::Users, &of_value).contains("timestamp field"));
    }

    #[test]
    fn owned_by_keeps_a_users_records_and_the_unowned() {
        let (_dir, store) = store();
        let mine = Predicate::OwnedBy(vec!["u1".into()]);
        assert_eq!(ids(&store, Entity::Accounts, &mine), ["a1", "a3", "a4"]);
        let both = Predicate::OwnedBy(vec!["u1".into(), "u2".into()]);
        assert_eq!(ids(&store, Entity::Accounts, &both).len(), 4);
        assert_eq!(ids(&store, Entity::Accounts, &Predicate::OwnedBy(vec![])), ["a3"]);
        assert!(crate::owner_predicate(Entity::Products, &[]).is_none());
        assert!(crate::owner_predicate(Entity::OrderLines, &[]).is_some());
        let err = error(&store, Entity::Products, &Predicate::OwnedBy(vec!["u1".into()]));
        assert!(err.contains("products records have no owner"), "{err}");
    }

    #[test]
    fn field_names_are_checked_against_the_schema() {
        let (_dir, store) = store();
        for name in ["nope", "name; DROP TABLE accounts", "Name"] {
            let p = Predicate::compare(name, CmpOp::Eq, text("x"));
            let err = error(&store, Entity::Accounts, &p);
            assert!(err.contains(&format!("accounts has no field {name:?}")), "{err}");
        }
        let deep =
            Predicate::Not(Box::new(Predicate::Or(vec![Predicate::IsNull(Term::field("colour"))])));
        assert!(error(&store, Entity::Accounts, &deep).contains("no field \"colour\""));
        // The table is untouched.
        assert_eq!(ids(&store, Entity::Accounts, &Predicate::True).len(), 4);
    }
}
