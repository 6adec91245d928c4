//! Ctrl-C (SIGINT) or SIGTERM during `strata verify` on PostgreSQL: the
//! scratch database this process made is dropped before it exits, as its
//! own ways out drop it, instead of being left for the next verify.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::database;

/// Set once an interruption began its clean-up.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// From now on, an interruption drops the scratch databases this process
/// made on the server of `url` (named `strata_verify_<pid>_<nanos>`), says
/// so, and exits with status 130. Without a handler (one was set already)
/// nothing changes.
pub fn drop_scratch_on_interrupt(url: String) {
    let _ = ctrlc::set_handler(move || {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            return;
        }
        let dropped = drop_own_scratch(&url);
        eprintln!(
            "interrupted: {}",
            match dropped {
                Ok(0) => "no scratch database to drop".to_owned(),
                Ok(_) => "dropped the scratch database of this verify".to_owned(),
                Err(e) =>
                    format!("could not drop the scratch database ({e}); the next verify drops it"),
            }
        );
        std::process::exit(130);
    });
}

/// Drops this process's scratch databases, ending the sessions in them
/// (this process's own included); returns how many it dropped.
fn drop_own_scratch(url: &str) -> Result<usize, String> {
    let mut client = database::connect_postgres(url).map_err(|e| e.to_string())?;
    let pattern = format!("strata\\_verify\\_{}\\_%", std::process::id());
    let rows = client
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE $1",
            &[&pattern],
        )
        .map_err(|e| database::postgres_message(&e))?;
    for row in &rows {
        let name: String = row.get(0);
        client
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                name.replace('"', "\"\"")
            ))
            .map_err(|e| database::postgres_message(&e))?;
    }
    Ok(rows.len())
}

/// When an interruption's clean-up runs, waits for it to end the process:
/// the work it cut off fails meanwhile, and that failure is not the one
/// to report.
pub fn wait_if_interrupted() {
    if INTERRUPTED.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}
