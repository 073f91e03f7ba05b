//! `traction mapping show NAME` and `traction mapping check FILE`.

use std::path::PathBuf;

use traction_import::mapping::Mapping;
use traction_import::presets::{self, PRESETS};

use super::{Context, Failure, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Print a preset's mapping file, to start your own from: a tool (hubspot, salesforce,
    /// pipedrive) prints all of its presets; a preset's name (pipedrive-deals) prints one.
    Show { name: String },
    /// Check a mapping file and report every problem in it at once.
    Check { file: PathBuf },
    /// List the presets.
    List,
}

pub fn run(_ctx: &Context, args: Args) -> Result<()> {
    match args.command {
        Sub::List => {
            for p in PRESETS {
                println!("{:<24} {} {} export", p.name, p.tool, p.entity);
            }
            Ok(())
        }
        Sub::Show { name } => {
            let wanted = name.trim().to_ascii_lowercase();
            let chosen: Vec<_> = match presets::by_name(&wanted) {
                Some(p) => vec![p],
                None => PRESETS.iter().filter(|p| p.tool == wanted).collect(),
            };
            if chosen.is_empty() {
                return Err(Failure::Input(format!(
                    "no preset is called {name:?}: name a tool (hubspot, salesforce, pipedrive) or one of {}",
                    PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                )));
            }
            for (i, p) in chosen.iter().enumerate() {
                if chosen.len() > 1 {
                    if i > 0 {
                        println!();
                    }
                    println!("# ---- preset {} ({} export) ----", p.name, p.entity);
                }
                print!("{}", p.text);
            }
            Ok(())
        }
        Sub::Check { file } => {
            let mapping = read_mapping(&file)?;
            let entities: Vec<&str> = mapping.targets.iter().map(|t| t.entity.name()).collect();
            println!(
                "{}: ok; it fills {} from the columns {}",
                file.display(),
                entities.join(", "),
                mapping.columns().iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
            );
            Ok(())
        }
    }
}

/// Reads and compiles a mapping file, with every problem in the error.
pub fn read_mapping(file: &std::path::Path) -> Result<Mapping> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Input(format!("cannot read the mapping {}: {e}", file.display())))?;
    let name = file
        .file_name()
        .map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    Mapping::parse(&name, &text).map_err(|problems| {
        Failure::Input(format!(
            "{}\n{} problem{} in the mapping {name}: fix them and check again",
            problems.join("\n"),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ))
    })
}
