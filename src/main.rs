//! The `graceline` binary: parses flags and hands over to the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `COMPLETE=bash graceline ...`: the shell asks for its script or for candidates; answered, exits.
    graceline::cli::complete::answer_shell();
    let cli = graceline::cli::Cli::parse();
    let stdout = std::io::stdout();
    match graceline::cli::run(cli, &mut stdout.lock()) {
        Ok(code) => ExitCode::from(code as u8),
        // A closed pipe (`graceline man | head`) is the reader's choice, not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(graceline::cli::Exit::Error as u8)
        }
    }
}
