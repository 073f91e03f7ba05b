//! A target's scope (`company`, `team:ID`, `user:ID`), the users whose records it counts, and its
//! heads (spec: kpis.md, Per head and Pace).

use std::collections::{BTreeMap, BTreeSet};

use crate::error::ValueError;

/// Who a target is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Company,
    Team(String),
    User(String),
}

impl Scope {
    pub fn parse(text: &str) -> Result<Scope, ValueError> {
        let text = text.trim();
        if text == "company" {
            return Ok(Scope::Company);
        }
        if let Some(id) = text.strip_prefix("team:").filter(|id| !id.is_empty()) {
            return Ok(Scope::Team(id.to_string()));
        }
        if let Some(id) = text.strip_prefix("user:").filter(|id| !id.is_empty()) {
            return Ok(Scope::User(id.to_string()));
        }
        Err(ValueError::Scope { text: text.to_string() })
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Company => f.write_str("company"),
            Scope::Team(id) => write!(f, "team:{id}"),
            Scope::User(id) => write!(f, "user:{id}"),
        }
    }
}

/// A user as the KPI layer needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub team: Option<String>,
    pub role: String,
    pub active: bool,
}

/// The organisation: users and the team tree.
#[derive(Clone, Debug, Default)]
pub struct Org {
    pub users: Vec<Member>,
    /// Team → parent team.
    pub parents: BTreeMap<String, Option<String>>,
}

impl Org {
    /// `team` and every team below it.
    pub fn subtree(&self, team: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::from([team.to_string()]);
        // The tree is small; iterate to a fixed point (the store refuses cycles).
        loop {
            let before = out.len();
            for (child, parent) in &self.parents {
                if parent.as_ref().is_some_and(|p| out.contains(p)) {
                    out.insert(child.clone());
                }
            }
            if out.len() == before {
                return out;
            }
        }
    }

    /// The users whose records the scope counts: everyone for the company; the users of the team
    /// and its sub-teams (by their current team); the user. `None` means no restriction.
    pub fn owners(&self, scope: &Scope) -> Option<Vec<String>> {
        match scope {
            Scope::Company => None,
            Scope::User(id) => Some(vec![id.clone()]),
            Scope::Team(team) => {
                let teams = self.subtree(team);
                Some(
                    self.users
                        .iter()
                        .filter(|u| u.team.as_ref().is_some_and(|t| teams.contains(t)))
                        .map(|u| u.id.clone())
                        .collect(),
                )
            }
        }
    }

    /// The heads a target is shared among: active users with the role `rep` in the scope (a user
    /// scope is its one user, whatever the role).
    pub fn heads(&self, scope: &Scope) -> Vec<String> {
        match scope {
            Scope::User(id) => vec![id.clone()],
            Scope::Company => self
                .users
                .iter()
                .filter(|u| u.active && u.role == "rep")
                .map(|u| u.id.clone())
                .collect(),
            Scope::Team(team) => {
                let teams = self.subtree(team);
                self.users
                    .iter()
                    .filter(|u| u.active && u.role == "rep")
                    .filter(|u| u.team.as_ref().is_some_and(|t| teams.contains(t)))
                    .map(|u| u.id.clone())
                    .collect()
            }
        }
    }

    /// The team whose calendar applies to a scope (`None`: the workspace's).
    pub fn calendar_team(&self, scope: &Scope) -> Option<String> {
        match scope {
            Scope::Company => None,
            Scope::Team(team) => Some(team.clone()),
            Scope::User(id) => self.users.iter().find(|u| &u.id == id).and_then(|u| u.team.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Org {
        let member = |id: &str, team: &str, role: &str, active: bool| Member {
            id: id.into(),
            team: Some(team.into()),
            role: role.into(),
            active,
        };
        Org {
            users: vec![
                member("ann", "north", "rep", true),
                member("bob", "north-east", "rep", true),
                member("cat", "north", "manager", true),
                member("dan", "north", "rep", false),
                member("eve", "south", "rep", true),
            ],
            parents: BTreeMap::from([
                ("north".into(), None),
                ("north-east".into(), Some("north".into())),
                ("south".into(), None),
            ]),
        }
    }

    #[test]
    fn heads_are_active_reps_of_the_team_and_its_sub_teams() {
        let org = org();
        assert_eq!(org.heads(&Scope::Team("north".into())), ["ann", "bob"]);
        assert_eq!(org.heads(&Scope::Company), ["ann", "bob", "eve"]);
        assert_eq!(org.heads(&Scope::User("cat".into())), ["cat"]);
        // Owners count everyone's records, managers and inactive users too.
        assert_eq!(org.owners(&Scope::Team("north".into())).unwrap(), ["ann", "bob", "cat", "dan"]);
        assert_eq!(org.owners(&Scope::Company), None);
        assert_eq!(org.calendar_team(&Scope::User("bob".into())), Some("north-east".into()));
    }

    #[test]
    fn scopes_parse() {
        assert_eq!(Scope::parse("team:north").ok(), Some(Scope::Team("north".into())));
        assert!(Scope::parse("team:").is_err());
        assert_eq!(
            Scope::parse(" squad:x ").unwrap_err().to_string(),
            r#""squad:x" is not a scope: write company, team:ID or user:ID"#
        );
    }
}
