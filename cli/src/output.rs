//! What the command prints: plain text for people, colour only on a
//! terminal (and never with `NO_COLOR`), JSON for scripts.

use std::io::{IsTerminal, Write};

use serde_json::{Value, json};
use strata::{MigrationState, Report, Status};

/// How much to print, and whether in colour.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub quiet: bool,
    pub colour_out: bool,
    pub colour_err: bool,
}

impl Output {
    pub fn new(quiet: bool) -> Self {
        let allowed = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Output {
            quiet,
            colour_out: allowed && std::io::stdout().is_terminal(),
            colour_err: allowed && std::io::stderr().is_terminal(),
        }
    }

    /// A result for people; `--quiet` drops it.
    pub fn say(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`strata status | head`) is not an error.
            let _ = writeln!(out, "{text}");
        }
    }

    /// Data a script asked for: printed even with `--quiet`.
    pub fn data(&self, text: impl std::fmt::Display) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// A line that belongs to an error, after it, without the label.
    pub fn note(&self, text: impl std::fmt::Display) {
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}",
            strata_source::sql::shown(&text.to_string())
        );
    }

    pub fn error(&self, text: impl std::fmt::Display) {
        let label = paint(self.colour_err, "1;31", "error:");
        // A database's message may quote what a file held: nothing in it
        // acts on the terminal (its line breaks stay).
        let text: String = text
            .to_string()
            .split('\n')
            .map(|line| strata_source::sql::shown(line).into_owned())
            .collect::<Vec<_>>()
            .join("\n");
        let _ = writeln!(std::io::stderr().lock(), "{label} {text}");
    }

    /// The status table, with the state column coloured on a terminal.
    pub fn status(&self, status: &Status) -> String {
        let text = status.to_string();
        if !self.colour_out {
            return text;
        }
        // Colour each row's state word; the columns stay aligned because
        // the escape codes wrap the padded word.
        let mut lines = text.lines();
        let mut out = vec![lines.next().unwrap_or_default().to_owned()];
        for (line, entry) in lines.by_ref().zip(&status.entries) {
            let word = entry.state.to_string();
            let code = match entry.state {
                MigrationState::Applied => "32",
                MigrationState::Pending => "33",
                _ => "1;31",
            };
            out.push(line.replacen(
                &format!("  {word}  "),
                &format!("  {}  ", paint(true, code, &word)),
                1,
            ));
        }
        out.extend(lines.map(str::to_owned));
        out.join("\n")
    }
}

fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The steps a run committed before it failed, under a line that counts
/// them: the step lines of the report, as a run that succeeds prints them.
pub fn partial_steps(report: &Report) -> String {
    let count = |n: usize| match n {
        1 => "1 migration".to_owned(),
        n => format!("{n} migrations"),
    };
    let mut done = Vec::new();
    if !report.reverted.is_empty() {
        done.push(format!("reverted {}", count(report.reverted.len())));
    }
    if !report.applied.is_empty() {
        done.push(format!("applied {}", count(report.applied.len())));
    }
    let text = report.to_string();
    let steps = text.split_once('\n').map_or("", |(_, steps)| steps);
    format!(
        "before the failure below, this run {}, which {} committed:\n{steps}",
        done.join(" and "),
        if report.reverted.len() + report.applied.len() == 1 {
            "stays"
        } else {
            "stay"
        }
    )
}

/// The last line after a run that failed partway: where the database is.
pub fn now_at(report: &Report, cause: &strata::Error) -> String {
    let dirty = matches!(cause.failure(), strata::Error::LeftDirty { version, .. } if Some(*version) == report.version);
    match report.version {
        Some(v) if dirty => format!("the database is now at version {v}, marked dirty"),
        Some(v) => format!("the database is now at version {v}"),
        None => "the database now has no migration applied".to_owned(),
    }
}

/// `validate --allow-newer`: the applied versions above the folder's
/// newest, as a note after the verdict.
pub fn newer_versions(status: &strata::Status) -> String {
    let newest_file = status
        .entries
        .iter()
        .filter(|e| e.state != strata::MigrationState::Missing)
        .map(|e| e.version)
        .max();
    let newer: Vec<String> = status
        .entries
        .iter()
        .filter(|e| e.state == strata::MigrationState::Missing)
        .filter(|e| newest_file.is_none_or(|n| e.version > n))
        .map(|e| e.version.to_string())
        .collect();
    if newer.is_empty() {
        String::new()
    } else {
        format!(
            "; applied by a newer build, without files here: {}",
            newer.join(", ")
        )
    }
}

/// `status --json`.
pub fn status_json(status: &Status) -> String {
    let migrations: Vec<Value> = status
        .entries
        .iter()
        .map(|e| {
            let mut entry = json!({
                "version": e.version,
                "name": e.name,
                "state": e.state.to_string(),
                "applied_at": e.applied_at,
                "duration_ms": e.duration.map(|d| d.as_millis() as u64),
            });
            if let MigrationState::Modified { applied, current } = e.state {
                entry["applied_checksum"] = json!(applied.to_hex());
                entry["current_checksum"] = json!(current.to_hex());
            }
            entry
        })
        .collect();
    let value = json!({
        "version": status.version(),
        "needs_attention": status.needs_attention(),
        "migrations": migrations,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// `--verbose`: the library's log lines on standard error.
pub struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("strata")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{}: {}",
                record.level().as_str().to_lowercase(),
                strata_source::sql::shown(&record.args().to_string())
            );
        }
    }

    fn flush(&self) {}
}
