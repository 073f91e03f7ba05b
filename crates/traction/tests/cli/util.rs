//! Running the binary on a temporary database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary folder with a database file in it.
pub struct Env {
    pub dir: tempfile::TempDir,
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap() }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("traction.db")
    }

    /// Writes a file in the folder and returns its path.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Runs `traction --db <db> args…`.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(&self.db(), args)
    }

    /// Runs and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "traction {args:?} failed: {}", run.stderr);
        run.stdout
    }
}

pub fn run_in(db: &Path, args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_traction"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("TRACTION_DB")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
