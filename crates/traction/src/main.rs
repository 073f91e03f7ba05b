//! The `traction` binary: the command line, and the glue between the crates.
//!
//! `main` parses the command line, runs one command and turns its outcome into an exit status:
//! 0 on success, 1 on a runtime failure, 2 on bad usage or bad input. Errors are one clear
//! message on stderr, never a panic or a backtrace.

mod cli;
mod output;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match cli::parse() {
        Ok(args) => args,
        Err(e) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(cli::Failure::Input(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(cli::Failure::Runtime(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
        Err(cli::Failure::BrokenPipe) => ExitCode::SUCCESS,
    }
}
