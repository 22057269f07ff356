//! `civo-egress man [COMMAND]`: a page per command, each with its flags,
//! its environment and the exit codes, and a top page whose references all
//! name pages that exist.

use std::process::{Command, Stdio};

use super::{assert_bad_input, run, stderr, stdout};

/// Every command with a page (clap's `help` has none).
const COMMANDS: [&str; 10] =
    ["classify", "whitelist", "audit", "discover", "resolve", "probe", "watch", "diff", "completions", "man"];

/// The page's text with roff's escaped hyphens plain, for searching.
fn plain(roff: &str) -> String {
    roff.replace("\\-", "-")
}

fn page(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// The body of section `name` (up to the next `.SH`).
fn section<'a>(page: &'a str, name: &str) -> &'a str {
    let heading = if name.contains(' ') { format!(".SH \"{name}\"\n") } else { format!(".SH {name}\n") };
    let start = page.find(&heading).unwrap_or_else(|| panic!("no section {name}: {page}")) + heading.len();
    let rest = &page[start..];
    &rest[..rest.find("\n.SH ").map_or(rest.len(), |end| end + 1)]
}

/// `groff -man -ww -z` as a judge, where it is installed: the page formats
/// without a warning.
fn judge(name: &str, page: &str) {
    let Ok(mut child) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("no groff here: the page of {name} was not formatted");
        return;
    };
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), page.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "groff on {name}: {}", stderr(&out));
    assert!(stderr(&out).is_empty(), "groff warns on {name}: {}", stderr(&out));
}

#[test]
fn each_command_has_a_page_with_its_flags_environment_and_exit_codes() {
    for command in COMMANDS {
        let roff = page(&["man", command]);
        let text = plain(&roff);
        let title = format!("civo-egress-{command}");
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!(".TH {title} 1")) || l.starts_with(&format!(".TH \"{title}\" 1"))),
            "{command}: {roff}"
        );
        assert!(section(&text, "NAME").starts_with(&title), "{command}: {roff}");
        assert!(section(&text, "SYNOPSIS").contains(&format!("civo-egress {command}")), "{command}: {roff}");
        // Every long flag its --help shows.
        let help = stdout(&run(&[command, "--help"]));
        let flags: Vec<&str> = help
            .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '=')
            .filter(|w| {
                w.starts_with("--") && w.len() > 2 && w[2..].chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            .collect();
        assert!(flags.contains(&"--help"), "{command}: {help}");
        let options = section(&text, "OPTIONS");
        for flag in flags {
            assert!(options.contains(&format!("\\fB{flag}\\fR")), "{command}: no {flag} in {options}");
        }
        // The environment its --help names, and the exit codes.
        if let Some((_, environment)) = help.split_once("Environment:\n") {
            // An entry's line is indented by two; a deeper one continues it.
            let names = environment
                .split("\n\n")
                .next()
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("   "))
                .filter_map(|l| l.split_whitespace().next());
            let body = section(&text, "ENVIRONMENT");
            for name in names {
                assert!(body.contains(&format!(".TP\n\\fB{name}\\fR\n")), "{command}: no {name} in {body}");
            }
        }
        let exit = section(&text, "EXIT STATUS");
        for code in ["0", "1", "2", "3"] {
            assert!(exit.contains(&format!(".TP\n\\fB{code}\\fR\n")), "{command}: no exit code {code} in {exit}");
        }
        assert!(exit.contains("bad input or usage"), "{command}: {exit}");
        assert!(section(&text, "SEE ALSO").contains("\\fBcivo-egress\\fR(1)"), "{command}: {roff}");
        judge(command, &roff);
    }
}

#[test]
fn the_environment_of_the_api_commands_is_on_their_pages() {
    let discover = plain(&page(&["man", "discover"]));
    for name in ["CIVO_TOKEN", "CIVO_CONFIG", "CIVO_REGION", "CIVO_API_URL"] {
        assert!(section(&discover, "ENVIRONMENT").contains(name), "{discover}");
    }
    let resolve = plain(&page(&["man", "resolve"]));
    assert!(section(&resolve, "ENVIRONMENT").contains("KUBECONFIG"), "{resolve}");
    let classify = plain(&page(&["man", "classify"]));
    assert!(section(&classify, "ENVIRONMENT").contains("CIVO_EGRESS_TOPOLOGY"), "{classify}");
}

#[test]
fn the_top_page_refers_only_to_pages_that_exist() {
    let roff = page(&["man"]);
    let text = plain(&roff);
    assert!(text.lines().any(|l| l.starts_with(".TH civo-egress 1")), "{roff}");
    assert!(text.contains(".SH \"EXIT STATUS\""), "{roff}");
    // Every civo-egress-NAME(1) it names, anywhere, is a page `man NAME` prints.
    let mut named: Vec<String> = text
        .split("civo-egress-")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '-').collect();
            rest[name.len()..].trim_start_matches("\\fR").starts_with("(1)").then_some(name)
        })
        .collect();
    named.sort();
    named.dedup();
    let mut expected: Vec<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
    expected.sort();
    assert_eq!(named, expected, "{roff}");
    for name in &named {
        assert!(page(&["man", name]).contains(&format!("civo\\-egress\\-{name}")), "{name}");
    }
    assert!(section(&text, "SEE ALSO").contains("\\fBcivo-egress-classify\\fR(1)"), "{roff}");
    judge("civo-egress", &roff);
}

#[test]
fn an_unknown_command_has_no_page() {
    assert_bad_input(&run(&["man", "frobnicate"]), "no command \"frobnicate\"");
    assert_bad_input(&run(&["man", "help"]), "no command \"help\"");
    assert_bad_input(&run(&["man", "classify", "whitelist"]), "whitelist");
}

/// A wrapped line of the environment or the exit codes continues its entry:
/// every tagged entry is a variable or an exit code, never a stray word.
#[test]
fn wrapped_lines_are_not_entries_of_their_own() {
    for command in ["classify", "whitelist", "audit", "discover", "resolve", "probe", "watch", "diff"] {
        let roff = page(&["man", command]);
        let environment = if roff.contains(".SH ENVIRONMENT\n") { section(&roff, "ENVIRONMENT") } else { "" };
        let tail = format!("{environment}{}", section(&roff, "EXIT STATUS"));
        let lines: Vec<&str> = tail.lines().collect();
        for (i, line) in lines.iter().enumerate().filter(|(_, l)| l.starts_with(".TP")) {
            let tag = lines.get(i + 1).copied().unwrap_or_default();
            let word = tag.trim_start_matches("\\fB").split("\\f").next().unwrap_or_default();
            let entry = word.chars().all(|c| c.is_ascii_uppercase() || c == '_') || word.parse::<u8>().is_ok();
            assert!(entry, "{command}: a stray entry {tag:?} after {line:?}");
        }
    }
}
