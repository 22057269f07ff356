//! `completions` and `man`, generated from the same clap definition.

use std::process::ExitCode;

use clap::CommandFactory;
use clap_mangen::roff::{Roff, bold, roman};

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

/// `man`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The command whose page to print, `civo-egress-COMMAND(1)` (e.g. `classify`). Default: the
    /// page of civo-egress itself, which lists the commands.
    #[arg(value_name = "COMMAND")]
    command: Option<String>,
}

/// A roff man page, on stdout: `civo-egress(1)`, or `civo-egress-COMMAND(1)`.
pub fn man(args: &ManArgs) -> Result<ExitCode, Failure> {
    let top = pages();
    let page = match &args.command {
        None => page(&top, &top),
        Some(name) => {
            let command = top.find_subcommand(name).ok_or_else(|| {
                let names: Vec<&str> = top.get_subcommands().map(clap::Command::get_name).collect();
                Failure::Usage(format!("no command {name:?} (commands: {})", names.join(", ")))
            })?;
            page(&top, command)
        }
    }
    .map_err(|e| Failure::Runtime(format!("cannot render the man page: {e}")))?;
    say_raw!("{}", String::from_utf8_lossy(&page));
    Ok(ExitCode::SUCCESS)
}

/// The command tree the pages are made of: built (so that each command
/// knows its page's name, `civo-egress-classify`, and its synopsis,
/// `civo-egress classify`), and without clap's `help` command, which has
/// no page.
fn pages() -> clap::Command {
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    top
}

/// The page of `command` (`top` itself, or one of its commands): clap_mangen's
/// sections, then the `after_help` text as ENVIRONMENT and EXIT STATUS, and
/// a SEE ALSO that names only pages `civo-egress man` prints.
fn page(top: &clap::Command, command: &clap::Command) -> std::io::Result<Vec<u8>> {
    let version = top.get_version().unwrap_or_default();
    let man = clap_mangen::Man::new(command.clone()).source(format!("{} {version}", top.get_name()));
    // Each piece is written with roff's preamble (two lines that define a
    // string): the page keeps the first only.
    let mut preamble = Vec::new();
    Roff::default().to_writer(&mut preamble)?;
    let mut page = preamble.clone();
    let mut add = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut piece = Vec::new();
        render(&mut piece)?;
        page.extend_from_slice(piece.strip_prefix(preamble.as_slice()).unwrap_or(&piece));
        Ok::<(), std::io::Error>(())
    };
    add(&|w| man.render_title(w))?;
    add(&|w| man.render_name_section(w))?;
    add(&|w| man.render_synopsis_section(w))?;
    add(&|w| man.render_description_section(w))?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        add(&|w| man.render_options_section(w))?;
    }
    if command.get_subcommands().any(|c| !c.is_hide_set()) {
        add(&|w| man.render_subcommands_section(w))?;
    }
    if let Some(text) = command.get_after_long_help().or_else(|| command.get_after_help()) {
        let mut roff = Roff::default();
        after_help(&mut roff, &text.to_string());
        add(&|w| roff.to_writer(w))?;
    }
    if command.get_version().or_else(|| command.get_long_version()).is_some() {
        add(&|w| man.render_version_section(w))?;
    }
    let mut roff = Roff::default();
    roff.control("SH", ["SEE ALSO"]);
    let name = top.get_name();
    if std::ptr::eq(top, command) {
        let commands: Vec<&str> = top.get_subcommands().filter(|c| !c.is_hide_set()).map(|c| c.get_name()).collect();
        for (i, sub) in commands.iter().enumerate() {
            let sep = if i + 1 < commands.len() { "," } else { "" };
            roff.text([bold(format!("{name}-{sub}")), roman(format!("(1){sep}"))]);
        }
        roff.control("PP", []);
        roff.text([roman(format!("Each command's page is printed by `{name} man COMMAND`."))]);
    } else {
        roff.text([bold(name), roman("(1)")]);
    }
    add(&|w| roff.to_writer(w))?;
    Ok(page)
}

/// The `after_help` paragraphs as sections: `Environment:` as ENVIRONMENT,
/// `Exit codes:` as EXIT STATUS, each `  NAME  what it is` line as a tagged
/// paragraph.
fn after_help(roff: &mut Roff, text: &str) {
    for paragraph in text.split("\n\n") {
        let mut lines = paragraph.lines();
        let Some(heading) = lines.next() else { continue };
        let section = match heading.trim().trim_end_matches(':') {
            "Environment" => "ENVIRONMENT".to_owned(),
            "Exit codes" => "EXIT STATUS".to_owned(),
            other => other.to_uppercase(),
        };
        roff.control("SH", [section.as_str()]);
        for line in lines {
            // A line indented past the tag column continues the entry above.
            let continues = line.starts_with("   ");
            match line.trim().split_once(char::is_whitespace) {
                Some((tag, what)) if line.starts_with(char::is_whitespace) && !continues => {
                    roff.control("TP", []);
                    roff.text([bold(tag)]);
                    roff.text([roman(what.trim())]);
                }
                _ => {
                    roff.text([roman(line.trim())]);
                }
            }
        }
    }
}
