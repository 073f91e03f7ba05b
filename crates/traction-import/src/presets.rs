//! The compiled-in mappings for other tools' exports (spec: importers.md, Presets). Each is an
//! ordinary mapping file, shipped in `presets/` and printed by `traction mapping show NAME`.

use traction_domain::schema::Entity;

use crate::mapping::Mapping;

/// One preset: its name, the tool, the entity its file mainly holds, and its TOML text.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub name: &'static str,
    pub tool: &'static str,
    pub entity: Entity,
    /// For Salesforce: the object file it reads (`Opportunity.csv`).
    pub file: Option<&'static str>,
    pub text: &'static str,
}

/// Every preset. Salesforce's are in the order its folder imports (references first).
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "hubspot-deals",
        tool: "hubspot",
        entity: Entity::Deals,
        file: None,
        text: include_str!("../presets/hubspot-deals.toml"),
    },
    Preset {
        name: "hubspot-contacts",
        tool: "hubspot",
        entity: Entity::Contacts,
        file: None,
        text: include_str!("../presets/hubspot-contacts.toml"),
    },
    Preset {
        name: "hubspot-companies",
        tool: "hubspot",
        entity: Entity::Accounts,
        file: None,
        text: include_str!("../presets/hubspot-companies.toml"),
    },
    Preset {
        name: "pipedrive-deals",
        tool: "pipedrive",
        entity: Entity::Deals,
        file: None,
        text: include_str!("../presets/pipedrive-deals.toml"),
    },
    Preset {
        name: "pipedrive-activities",
        tool: "pipedrive",
        entity: Entity::Activities,
        file: None,
        text: include_str!("../presets/pipedrive-activities.toml"),
    },
    Preset {
        name: "salesforce-account",
        tool: "salesforce",
        entity: Entity::Accounts,
        file: Some("Account.csv"),
        text: include_str!("../presets/salesforce-account.toml"),
    },
    Preset {
        name: "salesforce-contact",
        tool: "salesforce",
        entity: Entity::Contacts,
        file: Some("Contact.csv"),
        text: include_str!("../presets/salesforce-contact.toml"),
    },
    Preset {
        name: "salesforce-campaign",
        tool: "salesforce",
        entity: Entity::Campaigns,
        file: Some("Campaign.csv"),
        text: include_str!("../presets/salesforce-campaign.toml"),
    },
    Preset {
        name: "salesforce-opportunity",
        tool: "salesforce",
        entity: Entity::Deals,
        file: Some("Opportunity.csv"),
        text: include_str!("../presets/salesforce-opportunity.toml"),
    },
    Preset {
        name: "salesforce-lead",
        tool: "salesforce",
        entity: Entity::Leads,
        file: Some("Lead.csv"),
        text: include_str!("../presets/salesforce-lead.toml"),
    },
    Preset {
        name: "salesforce-task",
        tool: "salesforce",
        entity: Entity::Activities,
        file: Some("Task.csv"),
        text: include_str!("../presets/salesforce-task.toml"),
    },
];

impl Preset {
    /// The compiled mapping (presets are checked by a test, so this does not fail).
    pub fn mapping(&self) -> Result<Mapping, Vec<String>> {
        Mapping::parse(&format!("preset {}", self.name), self.text)
    }
}

/// A preset by its name (`hubspot-deals`).
pub fn by_name(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name.eq_ignore_ascii_case(name.trim()))
}

/// The preset of `tool` for `entity`, or a message listing what there is.
pub fn for_entity(tool: &str, entity: Entity) -> Result<&'static Preset, PresetError> {
    let tool = tool.trim().to_ascii_lowercase();
    let of_tool: Vec<&'static Preset> = PRESETS.iter().filter(|p| p.tool == tool).collect();
    if of_tool.is_empty() {
        return Err(PresetError::UnknownTool { tool });
    }
    of_tool.iter().find(|p| p.entity == entity).copied().ok_or(PresetError::NoneFor {
        tool,
        entity,
        presets: of_tool,
    })
}

/// Why no preset fits a tool and an entity.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PresetError {
    #[error(
        "{tool:?} has no preset: use hubspot, salesforce or pipedrive, or write a mapping file (--mapping)"
    )]
    UnknownTool { tool: String },
    /// The tool's presets, none for the entity.
    #[error("{tool} has no preset for {entity}: its presets give {}", list(presets))]
    NoneFor { tool: String, entity: Entity, presets: Vec<&'static Preset> },
}

fn list(presets: &[&Preset]) -> String {
    presets.iter().map(|p| format!("{} ({})", p.entity, p.name)).collect::<Vec<_>>().join(", ")
}

/// The presets whose columns a header holds best, best first (at least half their columns).
pub fn guess(header: &[String]) -> Vec<(&'static Preset, f64)> {
    let mut out: Vec<(&'static Preset, f64)> = PRESETS
        .iter()
        .filter_map(|p| Some((p, p.mapping().ok()?.fit(header))))
        .filter(|(_, fit)| *fit >= 0.5)
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// The presets a file's first bytes fit best: its header is read as CSV with a comma, a
/// semicolon or a tab, whichever gives the most columns.
pub fn guess_from_bytes(start: &[u8]) -> Vec<(&'static Preset, f64)> {
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    let mut best: Vec<String> = Vec::new();
    for delimiter in [b',', b';', b'\t'] {
        let mut reader =
            csv::ReaderBuilder::new().has_headers(false).delimiter(delimiter).from_reader(start);
        if let Some(Ok(record)) = reader.records().next()
            && record.len() > best.len()
        {
            best = record.iter().map(|c| c.trim().to_string()).collect();
        }
    }
    guess(&best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_compiles() {
        for p in PRESETS {
            let m = p.mapping().unwrap_or_else(|e| panic!("{}: {}", p.name, e.join("\n")));
            assert!(m.targets.iter().any(|t| t.entity == p.entity), "{}", p.name);
        }
    }

    #[test]
    fn a_header_guesses_its_preset() {
        let header: Vec<String> = "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Status,Deal - Pipeline,Deal - Stage,Deal - Owner,Deal - Organization,Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Expected close date,Deal - Lost reason"
            .split(',')
            .map(str::to_string)
            .collect();
        assert_eq!(guess(&header)[0].0.name, "pipedrive-deals");
        assert!(guess(&["a".to_string(), "b".to_string()]).is_empty());
    }
}
