//! strata's operations on a connection of any driver the suites run with
//! (PostgreSQL's in `drivers`, SQLite's in `lite`): each the synchronous
//! operation or its `_async` form, as the connection's driver asks:
//! `runner.run_on(&mut conn)`.

/// How a test connection is driven: through the synchronous API, or the
/// `_async` one on the runtime that drives the connection.
pub enum Driven<'a> {
    Sync(&'a mut dyn strata::Database),
    #[cfg(any(feature = "tokio-postgres", feature = "sqlx-sqlite"))]
    Async(
        &'a tokio::runtime::Runtime,
        &'a mut dyn strata::AsyncDatabase,
    ),
}

/// A test connection of some driver.
pub trait Drive {
    fn driven(&mut self) -> Driven<'_>;
}

/// What the operations run on: a set of migrations or a runner.
pub trait On {
    fn runner_of(&self) -> strata::Runner<'_>;
}

impl On for strata::Migrations {
    fn runner_of(&self) -> strata::Runner<'_> {
        self.runner()
    }
}

impl On for strata::Runner<'_> {
    fn runner_of(&self) -> strata::Runner<'_> {
        self.clone()
    }
}

macro_rules! operations {
    ($($name:ident => $sync:ident / $async:ident ($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        /// The operations of [`On`], on any [`Drive`] connection.
        pub trait Operations: On {
            $(
                fn $name(&self, conn: &mut impl Drive $(, $arg: $ty)*) -> strata::Result<$out> {
                    let runner = self.runner_of();
                    match conn.driven() {
                        Driven::Sync(db) => runner.$sync(db $(, $arg)*),
                        #[cfg(any(feature = "tokio-postgres", feature = "sqlx-sqlite"))]
                        Driven::Async(runtime, db) => runtime.block_on(runner.$async(db $(, $arg)*)),
                    }
                }
            )*
        }
    };
}

operations! {
    run_on => run / run_async () -> strata::Report;
    down_on => down / down_async (steps: usize) -> strata::Report;
    down_to_on => down_to / down_to_async (version: u64) -> strata::Report;
    down_only_on => down_only / down_only_async (version: u64) -> strata::Report;
    down_all_on => down_all / down_all_async () -> strata::Report;
    redo_on => redo / redo_async () -> strata::Report;
    goto_on => goto / goto_async (version: u64) -> strata::Report;
    status_on => status / status_async () -> strata::Status;
    applied_on => applied / applied_async () -> Vec<strata::AppliedMigration>;
    validate_on => validate / validate_async () -> Vec<u64>;
    baseline_on => baseline / baseline_async (version: u64) -> strata::HistoryChanges;
    force_on => force / force_async (version: Option<u64>) -> strata::HistoryChanges;
    repair_on => repair / repair_async () -> strata::HistoryChanges;
    adopt_on => adopt / adopt_async () -> strata::HistoryChanges;
    adopt_forced_on => adopt_forced / adopt_forced_async (version: Option<u64>) -> strata::HistoryChanges;
    verify_on => verify / verify_async () -> strata::VerifyReport;
}

impl<T: On + ?Sized> Operations for T {}
