//! The `graceline` binary: parses flags and hands over to the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = graceline::cli::Cli::parse();
    let stdout = std::io::stdout();
    match graceline::cli::run(cli, &mut stdout.lock()) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(graceline::cli::Exit::Error as u8)
        }
    }
}
