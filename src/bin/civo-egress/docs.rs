//! `completions` and `man`, generated from the same clap definition.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::Cli;
use crate::failure::Failure;

/// `completions`' arguments.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    shell: clap_complete::Shell,
}

/// The completion script for a shell, on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<ExitCode, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "civo-egress", &mut script);
    say_raw!("{}", String::from_utf8_lossy(&script));
    Ok(ExitCode::SUCCESS)
}

/// The roff man page, on stdout.
pub fn man() -> Result<ExitCode, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Failure::Runtime(format!("cannot render the man page: {e}")))?;
    say_raw!("{}", String::from_utf8_lossy(&page));
    Ok(ExitCode::SUCCESS)
}
