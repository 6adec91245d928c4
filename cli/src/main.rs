//! `strata`: SQL schema migrations over a folder on disk, with the rules and
//! messages of the `embed_migrations!` macro.

mod args;
mod create;
mod database;
mod interrupt;
mod output;

use std::fmt;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Parser;
use strata::{Migrations, Runner};

use crate::args::{Change, Cli, Command};
use crate::database::{Access, Target};
use crate::output::Output;

/// Why the command failed, and so its exit status.
#[derive(Debug)]
pub enum Failure {
    /// Wrong usage: exit status 2.
    Usage(String),
    /// From the library.
    Strata(strata::Error),
    /// Anything else: exit status 1.
    Other(String),
    /// Nothing to print, exit status 1 (`status --check`).
    Silent,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(text) | Failure::Other(text) => f.write_str(text),
            Failure::Strata(e) => write!(f, "{e}"),
            Failure::Silent => Ok(()),
        }
    }
}

impl From<strata::Error> for Failure {
    fn from(e: strata::Error) -> Self {
        Failure::Strata(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.quiet);
    if cli.verbose {
        static LOGGER: output::Logger = output::Logger;
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    }
    let result = run(&cli, &out);
    let dry_run = cli.command.dry_run();
    // An interrupted verify's failure is the interruption's: its handler
    // ends the process once the scratch database is dropped.
    interrupt::wait_if_interrupted();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Silent) => ExitCode::from(1),
        // What the run committed before it failed, as a run that succeeds
        // prints it; then the failure; then where the database is now.
        Err(Failure::Strata(strata::Error::Partial { report, cause, .. })) => {
            out.say(output::partial_steps(&report));
            out.error(&cause);
            out.note(output::now_at(&report, &cause));
            ExitCode::from(1)
        }
        Err(failure) => {
            out.error(&failure);
            match failure {
                // It names the sequences that moved all the same.
                Failure::Strata(strata::Error::DryRunFailed { .. }) => {
                    out.note("dry run, rolled back: nothing else changed");
                }
                Failure::Strata(_) if dry_run => {
                    out.note("dry run, rolled back: nothing changed");
                }
                _ => {}
            }
            ExitCode::from(if matches!(failure, Failure::Usage(_)) {
                2
            } else {
                1
            })
        }
    }
}

fn run(cli: &Cli, out: &Output) -> Result<(), Failure> {
    match &cli.command {
        Command::Create { name, timestamp } => {
            let [up, down] = create::create(&cli.dir, name, *timestamp, SystemTime::now())?;
            out.say(format!("created {}", up.display()));
            out.say(format!("created {}", down.display()));
            Ok(())
        }
        Command::Verify => {
            let migrations = load(cli)?;
            // With `--table`'s history table, as `up` would create it.
            let runner = migrations.runner().table(cli.table.clone());
            // On PostgreSQL when the database is one; SQLite needs none.
            // A URL that cannot be used is an error, never a reason to
            // verify somewhere else.
            let target = match cli.database.as_deref() {
                Some(url) if !url.trim().is_empty() => Some(Target::parse(Some(url))?),
                _ => None,
            };
            let report = match target {
                Some(Target::Postgres(url)) => {
                    let config: strata::postgres::Config = url.trim().parse().map_err(|e| {
                        Failure::Usage(format!(
                            "cannot read the database URL {:?}: {}",
                            database::redacted(url.trim()),
                            database::postgres_message(&e)
                        ))
                    })?;
                    out.say("verifying on PostgreSQL");
                    let mut client = database::connect_postgres(&url)?;
                    interrupt::drop_scratch_on_interrupt(url.clone());
                    // In a scratch database, where each migration commits
                    // as in `up`; without the right to create one, inside
                    // one transaction of the database, rolled back.
                    match runner.verify_postgres_scratch(&config, strata::postgres::NoTls) {
                        Err(strata::Error::ScratchDatabase {
                            created: false,
                            cause: strata::DatabaseError::Postgres(e),
                            ..
                        }) if e.code()
                            == Some(&strata::postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) =>
                        {
                            match runner.verify(&mut client) {
                                Err(e @ strata::Error::VerifyNeedsScratchDatabase { .. }) => {
                                    out.say("the role may not create databases (CREATEDB), which this folder needs for verify");
                                    return Err(e.into());
                                }
                                result => {
                                    out.say("the role may not create a scratch database: verifying inside one transaction of the database, rolled back");
                                    result?
                                }
                            }
                        }
                        result => result?,
                    }
                }
                Some(Target::Sqlite(path)) => {
                    out.say(format!(
                        "verifying on a new in-memory SQLite database ({} is not opened: verify needs no database)",
                        database::redacted(&path.display().to_string())
                    ));
                    runner.verify(&mut in_memory()?)?
                }
                None => {
                    out.say("verifying on a new in-memory SQLite database (no --database given; pass a postgres:// URL to verify on PostgreSQL)");
                    runner.verify(&mut in_memory()?)?
                }
            };
            out.say(report);
            Ok(())
        }
        // Without a database, the folder alone: every rule the macro checks
        // at build time, so CI can check a folder before a database exists.
        Command::Validate { .. } if cli.database.as_deref().is_none_or(|d| d.trim().is_empty()) => {
            let migrations = load(cli)?;
            out.say(format!(
                "ok: the folder follows the rules ({}); no database was given, so no history was checked",
                match migrations.len() {
                    1 => "1 migration".to_owned(),
                    n => format!("{n} migrations"),
                }
            ));
            Ok(())
        }
        command => {
            let migrations = load(cli)?;
            let target = Target::parse(cli.database.as_deref())?;
            let wait = Duration::from_secs(cli.lock_timeout);
            let runner = migrations
                .runner()
                .table(cli.table.clone())
                .lock_timeout(wait)
                .table_lock_timeout(
                    Some(Duration::from_secs(cli.table_lock_timeout)).filter(|t| !t.is_zero()),
                );
            on_database(out, command, &target, runner, wait)
        }
    }
}

fn load(cli: &Cli) -> Result<Migrations, Failure> {
    let migrations = Migrations::from_dir(&cli.dir)?;
    if migrations.is_empty() && !cli.allow_empty {
        return Err(Failure::Other(create::no_migrations(&cli.dir)));
    }
    Ok(migrations)
}

/// The commands that need the database.
fn on_database(
    out: &Output,
    command: &Command,
    target: &Target,
    runner: Runner<'_>,
    wait: Duration,
) -> Result<(), Failure> {
    let runner = runner.dry_run(command.dry_run());
    let open = |access: Access| target.open(access, wait);
    let change = |c: &Change| {
        if c.dry_run {
            Access::DryRun
        } else {
            Access::Write
        }
    };
    // The reports say themselves when they come from a dry run.
    let report = |_: &Change, text: String| out.say(text);
    match command {
        Command::Up {
            n,
            single_transaction,
            allow_out_of_order,
            allow_newer,
            change: c,
        } => {
            let runner = runner
                .single_transaction(*single_transaction)
                .allow_out_of_order(*allow_out_of_order)
                .allow_newer(*allow_newer);
            let mut db = open(change(c))?;
            let conn = db.conn();
            let runner = match n {
                Some(n) => {
                    let pending = runner.validate(conn)?;
                    let index = usize::try_from(*n).unwrap_or(usize::MAX).min(pending.len());
                    match index.checked_sub(1).map(|i| pending[i]) {
                        Some(version) => runner.target(version),
                        None => runner,
                    }
                }
                None => runner,
            };
            report(c, runner.run(conn)?.to_string());
        }
        Command::Down {
            n,
            all,
            only,
            change: c,
        } => {
            target.must_exist()?;
            let mut db = open(change(c))?;
            let conn = db.conn();
            let done = if *all {
                runner.down_all(conn)?
            } else if let Some(version) = only {
                runner.down_only(conn, *version)?
            } else {
                runner.down(conn, usize::try_from(n.unwrap_or(1)).unwrap_or(usize::MAX))?
            };
            report(c, done.to_string());
        }
        Command::Goto {
            version,
            allow_out_of_order,
            change: c,
        } => {
            target.must_exist()?;
            let mut db = open(change(c))?;
            let conn = db.conn();
            let runner = runner.allow_out_of_order(*allow_out_of_order);
            report(c, runner.goto(conn, *version)?.to_string());
        }
        Command::Redo {
            allow_out_of_order,
            change: c,
        } => {
            target.must_exist()?;
            let mut db = open(change(c))?;
            let conn = db.conn();
            let runner = runner.allow_out_of_order(*allow_out_of_order);
            report(c, runner.redo(conn)?.to_string());
        }
        Command::Status { json, check } => {
            let status = runner.status(open(Access::Read)?.conn())?;
            if *json {
                out.data(output::status_json(&status));
            } else {
                out.say(out.status(&status));
            }
            if *check && status.needs_attention() {
                return Err(Failure::Silent);
            }
        }
        Command::Version => {
            let status = runner.status(open(Access::Read)?.conn())?;
            let unfinished = status.entries.iter().find_map(|e| match e.state {
                strata::MigrationState::Dirty => Some("dirty"),
                strata::MigrationState::InProgress => Some("in progress"),
                _ => None,
            });
            out.data(match status.version() {
                Some(version) => match unfinished {
                    Some(state) => format!("{version} ({state})"),
                    None => version.to_string(),
                },
                None => "none".to_owned(),
            });
        }
        Command::Validate { allow_newer } => {
            let mut db = open(Access::Read)?;
            let pending = runner
                .clone()
                .allow_newer(*allow_newer)
                .validate(db.conn())?;
            let versions: Vec<String> = pending.iter().map(u64::to_string).collect();
            let newer = if *allow_newer {
                output::newer_versions(&runner.status(db.conn())?)
            } else {
                String::new()
            };
            out.say(match pending.len() {
                0 => format!(
                    "ok: the folder follows the rules and the database is up to date{newer}"
                ),
                n => format!(
                    "ok: the folder follows the rules and the history matches it; {n} pending: {}{newer}",
                    versions.join(", ")
                ),
            });
        }
        Command::Baseline { version, change: c } => {
            let mut db = open(change(c))?;
            let conn = db.conn();
            report(c, runner.baseline(conn, *version)?.to_string());
        }
        Command::Force { version, change: c } => {
            target.must_exist()?;
            let mut db = open(change(c))?;
            let conn = db.conn();
            report(c, runner.force(conn, version.0)?.to_string());
        }
        Command::Repair { change: c } => {
            target.must_exist()?;
            let mut db = open(change(c))?;
            let conn = db.conn();
            report(c, runner.repair(conn)?.to_string());
        }
        Command::Adopt {
            force_version,
            change: c,
        } => {
            target.must_exist()?;
            let mut db = open(change(c))?;
            let conn = db.conn();
            let changes = match force_version {
                Some(version) => runner.adopt_forced(conn, version.0)?,
                None => runner.adopt(conn)?,
            };
            report(c, changes.to_string());
        }
        // Handled by `run`: they need no database.
        Command::Create { .. } | Command::Verify => {}
    }
    Ok(())
}

/// A new in-memory SQLite database, where verify runs without a database.
fn in_memory() -> Result<strata::rusqlite::Connection, Failure> {
    Ok(strata::rusqlite::Connection::open_in_memory().map_err(strata::Error::from)?)
}
