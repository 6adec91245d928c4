//! The PostgreSQL side of `verify`: where the round trips run, so that
//! nothing is ever left behind, and the description of every schema that
//! the user owns, from the catalog.
//!
//! Migrations that all run in transactions are verified inside one
//! transaction of the given connection that is always rolled back: a kill,
//! a panic or an error leaves the database as it was. A scratch schema,
//! created inside that transaction and first in its search path, takes the
//! objects that migrations create without naming a schema; objects named
//! with their schema (`public.users`, as `pg_dump` writes them) are created
//! where they say and seen there, because the comparison covers every
//! schema that is not the system's.
//!
//! A migration that runs outside a transaction cannot be rolled back, so a
//! folder that holds one is verified in a scratch database that verify
//! creates and drops. A scratch database that a killed verify left is
//! dropped by the next one, which names it.

use std::time::{SystemTime, UNIX_EPOCH};

use postgres::error::SqlState;
use postgres::tls::{MakeTlsConnect, TlsConnect};
use postgres::{Client, Config, Row, Socket, Statement};
use sha2::{Digest, Sha256};

use super::{Pg, quote_identifier};
use crate::backend::Backend;
use crate::report::{VerifyFailure, VerifyReport};
use crate::verify::{Column, Object, Schema, fold};
use crate::{DEFAULT_LOCK_TIMEOUT, DatabaseError, Direction, Error, Migrations, Result};

/// The names of scratch databases and schemas: this prefix, the process id
/// and a clock reading.
const SCRATCH: &str = "strata_verify";

impl Migrations {
    /// [`verify`](Migrations::verify) on PostgreSQL: every down file must
    /// restore the schema that its up file changed, compared in the catalog
    /// of every schema that is not the system's (schemas, tables and
    /// columns, constraints, indexes, sequences, views, functions,
    /// procedures and aggregates, triggers, rules, policies, types and
    /// enums, extensions, and more: see the README).
    ///
    /// Everything runs inside one transaction of `client` that is always
    /// rolled back, also after an error or a panic, and which a killed
    /// process never commits: `client`'s database is left as it was
    /// (sequences aside, which no rollback turns back). The migrations run
    /// as `up` would run them there, with the session's search path, so
    /// give it a database that does not hold them yet, such as an empty
    /// test database. Each migration's end is checked as its commit would
    /// be: deferred constraints are checked then.
    ///
    /// Some folders can only be verified with real commits: one with a
    /// migration outside a transaction, or one that uses an enum value
    /// that an earlier migration added (PostgreSQL refuses that before the
    /// value is committed). For those, verify says so: use
    /// [`verify_postgres_scratch`](Migrations::verify_postgres_scratch).
    ///
    /// Before it starts, verify drops the scratch databases that an
    /// interrupted `verify_postgres_scratch` left, where it may; the report
    /// names them.
    ///
    /// # Errors
    ///
    /// [`Error::VerifyNeedsScratchDatabase`] for the folders above,
    /// [`Error::InTransaction`] when `client` is inside a transaction,
    /// [`Error::VerifyFailed`] with every problem found, and database
    /// errors.
    pub fn verify_postgres(&self, client: &mut Client) -> Result<VerifyReport> {
        if let Some((version, file)) = self.first_outside_transaction() {
            return Err(Error::VerifyNeedsScratchDatabase {
                version,
                file,
                new_enum_value: false,
            });
        }
        Pg::new(client, SCRATCH, DEFAULT_LOCK_TIMEOUT, None).check_idle()?;
        let leftovers = drop_leftovers(client, None)?;
        client.batch_execute("BEGIN")?;
        let outer = RolledBack { client };
        let mut db = Pg::new(&mut *outer.client, SCRATCH, DEFAULT_LOCK_TIMEOUT, None);
        db.nested = Some(0);
        db.in_transaction = true;
        let result = crate::verify::verify(self, &mut db);
        drop(db);
        drop(outer);
        with_leftovers(needs_commits(self, result), leftovers)
    }

    /// [`verify_postgres`](Migrations::verify_postgres) in a scratch
    /// database that verify creates on the server `config` names, and
    /// drops afterwards, also after an error or a panic: the way to verify
    /// a folder with migrations that run outside a transaction
    /// (`-- strata:no-transaction`), which a transaction cannot roll back.
    /// It works for any folder. The database `config` names is only
    /// connected to, to create and drop the scratch database.
    ///
    /// A verify that is killed leaves its scratch database (named
    /// `strata_verify_<process>_<nanoseconds>`); the next verify on that
    /// server drops it and names it in its report. One that is still
    /// running is left alone: it holds an advisory lock on its name.
    ///
    /// # Errors
    ///
    /// [`Error::ScratchDatabase`] when the role may not create or drop the
    /// scratch database (it needs `CREATEDB`), [`Error::VerifyFailed`] with
    /// every problem found, and database errors.
    pub fn verify_postgres_scratch<T>(&self, config: &Config, tls: T) -> Result<VerifyReport>
    where
        T: MakeTlsConnect<Socket> + Clone + 'static + Send,
        T::TlsConnect: Send,
        T::Stream: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let mut admin = config.connect(tls.clone())?;
        let mut connect = |name: &str| config.clone().dbname(name).connect(tls.clone());
        let leftovers = drop_leftovers(&mut admin, Some(&mut connect))?;
        let name = scratch_name();
        let key = scratch_key(&name);
        admin.execute("SELECT pg_advisory_lock($1)", &[&key])?;
        let mut scratch = ScratchDatabase {
            admin,
            name,
            key,
            created: false,
        };
        scratch.create()?;
        let mut client = config.clone().dbname(&scratch.name).connect(tls)?;
        // Held in the scratch database too, where a verify started from
        // another database looks (advisory locks are per database).
        client.execute("SELECT pg_advisory_lock($1)", &[&key])?;
        let mut db = Pg::new(&mut client, SCRATCH, DEFAULT_LOCK_TIMEOUT, None);
        let result = crate::verify::verify(self, &mut db);
        drop(db);
        drop(client);
        let dropped_now = scratch.drop_now();
        if let (Err(_), Err(e)) = (&result, &dropped_now) {
            log::warn!("{e}");
        }
        with_leftovers(
            result.and_then(|report| dropped_now.map(|()| report)),
            leftovers,
        )
    }

    /// The first migration with a file that runs outside a transaction.
    fn first_outside_transaction(&self) -> Option<(u64, String)> {
        self.iter().find_map(|m| {
            [Direction::Up, Direction::Down]
                .into_iter()
                .find(|&d| m.no_transaction(d))
                .map(|d| (m.version(), self.file_path(m, d)))
        })
    }
}

/// A folder that failed only because PostgreSQL allows a new enum value's
/// use after its commit: say that it needs a scratch database.
fn needs_commits(migrations: &Migrations, result: Result<VerifyReport>) -> Result<VerifyReport> {
    let Err(Error::VerifyFailed(failures)) = &result else {
        return result;
    };
    let enum_value = failures.failures.iter().find_map(|failure| match failure {
        VerifyFailure::UpFailed { version, cause }
        | VerifyFailure::UpAgainFailed { version, cause }
            if matches!(
                &**cause,
                Error::Statement { cause: DatabaseError::Postgres(e), .. }
                    if e.code() == Some(&SqlState::UNSAFE_NEW_ENUM_VALUE_USAGE)
            ) =>
        {
            Some(*version)
        }
        _ => None,
    });
    match enum_value.and_then(|v| migrations.iter().find(|m| m.version() == v)) {
        Some(m) => Err(Error::VerifyNeedsScratchDatabase {
            version: m.version(),
            file: migrations.file_path(m, Direction::Up),
            new_enum_value: true,
        }),
        None => result,
    }
}

/// Scratch databases that killed verifies left: those dropped, and those
/// still in use.
#[derive(Default)]
struct Leftovers {
    dropped: Vec<String>,
    in_use: Vec<String>,
}

/// The leftovers, in the report or in the failure's.
fn with_leftovers(result: Result<VerifyReport>, leftovers: Leftovers) -> Result<VerifyReport> {
    let fill = |report: &mut VerifyReport| {
        report.dropped = leftovers.dropped;
        report.in_use = leftovers.in_use;
    };
    match result {
        Ok(mut report) => {
            fill(&mut report);
            Ok(report)
        }
        Err(Error::VerifyFailed(mut failures)) => {
            fill(&mut failures.report);
            Err(Error::VerifyFailed(failures))
        }
        Err(e) => Err(e),
    }
}

/// A name no other verify uses at the same time.
fn scratch_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{SCRATCH}_{}_{nanos}", std::process::id())
}

/// The advisory lock that a verify holds on its scratch database's name
/// while it uses it.
fn scratch_key(name: &str) -> i64 {
    let mut hasher = Sha256::new();
    for part in [SCRATCH, name] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let mut key = [0u8; 8];
    key.copy_from_slice(&hasher.finalize()[..8]);
    i64::from_be_bytes(key)
}

/// Opens a session in a database of the same server, by name.
type Connect<'a> = &'a mut dyn FnMut(&str) -> std::result::Result<Client, postgres::Error>;

/// Drops the scratch databases that killed verifies left. A verify that
/// runs holds an advisory lock on its database's name, in the database it
/// started from and in the scratch database (advisory locks are per
/// database). With `connect`, a leftover whose locks are free is dropped
/// `WITH (FORCE)`: the session of a killed verify may still be finishing
/// a statement. Without, only one that no session uses.
fn drop_leftovers(client: &mut Client, mut connect: Option<Connect<'_>>) -> Result<Leftovers> {
    let names: Vec<String> = client
        .query(
            "SELECT datname::text FROM pg_database WHERE datname ~ $1 ORDER BY 1",
            &[&format!("^{SCRATCH}_[0-9]+_[0-9]+$")],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut leftovers = Leftovers::default();
    for name in names {
        let key = scratch_key(&name);
        let free: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
            .get(0);
        if !free {
            // A verify that runs, from this database.
            continue;
        }
        let quoted = quote_identifier(&name);
        let result = match connect.as_mut() {
            Some(connect) => match free_inside(connect, &name, key) {
                Some(true) => drop_database(client, &quoted, true),
                Some(false) => Ok(false),
                // Gone meanwhile, or not open to this role.
                None => Ok(true),
            },
            None => drop_database(client, &quoted, false),
        };
        client.execute("SELECT pg_advisory_unlock($1)", &[&key])?;
        match result {
            Ok(true) => {
                log::warn!(
                    "dropped the scratch database {name}, left by a verify that was interrupted"
                );
                leftovers.dropped.push(name);
            }
            Ok(false) => leftovers.in_use.push(name),
            Err(e) => {
                log::warn!("could not drop the scratch database {name}: {e}");
                leftovers.in_use.push(name);
            }
        }
    }
    Ok(leftovers)
}

/// Whether the lock on `name` is free inside the database `name`: `None`
/// when that database cannot be opened.
fn free_inside(connect: Connect<'_>, name: &str, key: i64) -> Option<bool> {
    let mut inside = connect(name).ok()?;
    let row = inside
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .ok()?;
    Some(row.get(0))
}

/// `DROP DATABASE`, `WITH (FORCE)` where asked and the server has it
/// (PostgreSQL 13): `Ok(false)` when sessions still use it.
fn drop_database(
    client: &mut Client,
    quoted: &str,
    force: bool,
) -> std::result::Result<bool, postgres::Error> {
    let plain = format!("DROP DATABASE IF EXISTS {quoted}");
    let result = if force {
        match client.batch_execute(&format!("{plain} WITH (FORCE)")) {
            Err(e) if e.code() == Some(&SqlState::SYNTAX_ERROR) => client.batch_execute(&plain),
            other => other,
        }
    } else {
        client.batch_execute(&plain)
    };
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Rolls back verify's outer transaction on every way out.
struct RolledBack<'a> {
    client: &'a mut Client,
}

impl Drop for RolledBack<'_> {
    fn drop(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
    }
}

/// The scratch database, dropped on every way out; its name's advisory
/// lock is held on `admin` until then.
struct ScratchDatabase {
    admin: Client,
    name: String,
    key: i64,
    created: bool,
}

impl ScratchDatabase {
    fn create(&mut self) -> Result<()> {
        let sql = format!("CREATE DATABASE {}", quote_identifier(&self.name));
        self.admin
            .batch_execute(&sql)
            .map_err(|e| Error::ScratchDatabase {
                database: self.name.clone(),
                created: false,
                cause: DatabaseError::Postgres(e),
            })?;
        self.created = true;
        Ok(())
    }

    /// Drops the database now; an error says so.
    fn drop_now(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.created) {
            return Ok(());
        }
        let sql = format!("DROP DATABASE IF EXISTS {}", quote_identifier(&self.name));
        let result = self.admin.batch_execute(&sql);
        let _ = self
            .admin
            .execute("SELECT pg_advisory_unlock($1)", &[&self.key]);
        result.map_err(|e| Error::ScratchDatabase {
            database: self.name.clone(),
            created: true,
            cause: DatabaseError::Postgres(e),
        })
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Err(e) = self.drop_now() {
            log::warn!("{e}");
        }
    }
}

/// Schemas that are the system's, not the user's.
const USER_SCHEMA: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'";

/// An object's name as messages show it: bare in the current schema (the
/// scratch schema), else with its schema.
const NAME: &str = "CASE WHEN n.nspname = current_schema() THEN '' ELSE n.nspname::text || '.' END";

/// Not part of an extension (which is compared as a whole).
fn own(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass AND x.objid = {oid} AND x.deptype = 'e')"
    )
}

/// Text of column `i`; NULL reads as empty.
fn text(row: &Row, i: usize) -> std::result::Result<String, postgres::Error> {
    Ok(row.try_get::<_, Option<String>>(i)?.unwrap_or_default())
}

/// Inside verify's one transaction, at the end of a migration: what its
/// commit would check. Deferred constraints and constraint triggers fire
/// now (an error here is the error the commit would give), then those
/// that are initially deferred are deferred again for the next migration.
pub(super) fn checks_at_commit(client: &mut Client) -> std::result::Result<(), postgres::Error> {
    client.batch_execute("SET CONSTRAINTS ALL IMMEDIATE")?;
    let deferred: Option<String> = client
        .query_one(
            "SELECT string_agg(DISTINCT quote_ident(n.nspname) || '.' || quote_ident(con.conname), ', ')
             FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
             WHERE con.condeferred",
            &[],
        )?
        .get(0);
    if let Some(names) = deferred {
        client.batch_execute(&format!("SET CONSTRAINTS {names} DEFERRED"))?;
    }
    Ok(())
}

/// Every schema that is not the system's, as verify compares it. Its
/// three statements are prepared once, in `cache`.
pub(super) fn describe(
    client: &mut Client,
    cache: &mut Vec<Statement>,
) -> std::result::Result<Schema, postgres::Error> {
    let unqualified = |text: String| fold(&text);
    if cache.is_empty() {
        let version: i32 = client
            .query_one("SELECT current_setting('server_version_num')::int", &[])?
            .get(0);
        for sql in queries(version) {
            cache.push(client.prepare(&sql)?);
        }
    }
    let mut schema = Schema::default();

    for row in client.query(&cache[0], &[])? {
        let default = row.try_get::<_, Option<String>>(4)?.map(unqualified);
        schema
            .tables
            .entry(text(&row, 0)?)
            .or_default()
            .columns
            .push(Column {
                name: text(&row, 1)?,
                declared_type: text(&row, 2)?,
                not_null: row.try_get::<_, Option<bool>>(3)?.unwrap_or(false),
                default,
                primary_key: 0,
            });
    }

    // A table's constraints, and what else about it changes behaviour, one
    // line each. Tables without columns appear here too.
    for row in client.query(&cache[1], &[])? {
        let table = schema.tables.entry(text(&row, 0)?).or_default();
        let line = unqualified(text(&row, 1)?);
        if !line.is_empty() {
            table.constraints.insert(line);
        }
    }

    for row in client.query(&cache[2], &[])? {
        let kind = text(&row, 0)?;
        let name = text(&row, 1)?;
        schema.objects.insert(
            (kind, name),
            Object {
                definition: unqualified(text(&row, 2)?),
                shown: row.try_get::<_, Option<bool>>(3)?.unwrap_or(false),
            },
        );
    }
    Ok(schema)
}

/// The statements of [`describe`]: columns; constraints and table
/// properties; every other object. `version`: the server's
/// (`server_version_num`), for catalog columns that came later.
fn queries(version: i32) -> [String; 3] {
    let tables = format!(
        "{USER_SCHEMA} AND c.relkind IN ('r', 'p', 'f') AND {}",
        own("pg_class", "c.oid")
    );
    let compression = if version >= 140000 {
        "CASE a.attcompression WHEN 'p' THEN ' COMPRESSION pglz' WHEN 'l' THEN ' COMPRESSION lz4' ELSE '' END"
    } else {
        "''"
    };
    [
        // The type carries what makes the column behave: collation,
        // storage, compression, statistics target, identity, generation.
        format!(
            "SELECT {NAME} || c.relname, a.attname::text,
                    format_type(a.atttypid, a.atttypmod)
                    || CASE WHEN a.attcollation <> t.typcollation
                            THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END
                    || CASE WHEN a.attstorage <> t.typstorage
                            THEN ' STORAGE ' || CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'
                                                                  WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END
                            ELSE '' END
                    || {compression}
                    || CASE WHEN coalesce(a.attstattarget, -1) >= 0 THEN ' STATISTICS ' || a.attstattarget ELSE '' END
                    || CASE WHEN a.attgenerated = 's'
                                 THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
                            WHEN a.attidentity = 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
                            WHEN a.attidentity = 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY'
                            ELSE '' END,
                    a.attnotnull,
                    CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_collation co ON co.oid = a.attcollation
             LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
             WHERE {tables}
             ORDER BY 1, a.attnum"
        ),
        format!(
            "SELECT {NAME} || c.relname,
                    'constraint ' || con.conname::text || ' ' || pg_get_constraintdef(con.oid)
                    || coalesce((SELECT coalesce(' with ' || array_to_string(i.reloptions, ', '), '')
                                        || CASE WHEN x.indisclustered THEN ' clustered' ELSE '' END
                                 FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid
                                 WHERE i.oid = con.conindid), '')
             FROM pg_constraint con
             JOIN pg_class c ON c.oid = con.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {tables}
             UNION ALL
             SELECT {NAME} || c.relname,
                    CASE WHEN c.relkind = 'p' THEN 'partitioned by ' || pg_get_partkeydef(c.oid)
                         WHEN c.relkind = 'f' THEN 'foreign table'
                         ELSE '' END
                    || CASE WHEN c.relispartition
                            THEN ' partition of ' || (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid LIMIT 1)
                                 || ' ' || pg_get_expr(c.relpartbound, c.oid)
                            ELSE coalesce((SELECT ' inherits ' || string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
                                           FROM pg_inherits i WHERE i.inhrelid = c.oid), '') END
                    || CASE WHEN c.reloftype <> 0 THEN ' of type ' || c.reloftype::regtype::text ELSE '' END
                    || CASE WHEN c.relrowsecurity THEN ' row level security' ELSE '' END
                    || CASE WHEN c.relforcerowsecurity THEN ' forced' ELSE '' END
                    || CASE WHEN c.relpersistence = 'u' THEN ' unlogged' ELSE '' END
                    || CASE c.relreplident WHEN 'f' THEN ' replica identity full' WHEN 'n' THEN ' replica identity nothing'
                                           WHEN 'i' THEN ' replica identity index' ELSE '' END
                    || coalesce(' with ' || array_to_string(c.reloptions, ', '), '')
                    || coalesce((SELECT ' options ' || array_to_string(f.ftoptions, ', ')
                                 FROM pg_foreign_table f WHERE f.ftrelid = c.oid), '')
                    || coalesce((SELECT ' server ' || s.srvname FROM pg_foreign_table f
                                 JOIN pg_foreign_server s ON s.oid = f.ftserver WHERE f.ftrelid = c.oid), '')
                    || coalesce((SELECT ' internal triggers disabled: ' || count(*) FROM pg_trigger t
                                 WHERE t.tgrelid = c.oid AND t.tgisinternal AND t.tgenabled = 'D' HAVING count(*) > 0), '')
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {tables}"
        ),
        objects_sql(),
    ]
}

/// Everything else, in one query: (kind, name, definition, whether
/// messages show the definition).
fn objects_sql() -> String {
    let relation = |kinds: &str| {
        format!(
            "{USER_SCHEMA} AND c.relkind IN ({kinds}) AND {}",
            own("pg_class", "c.oid")
        )
    };
    let in_schema = |catalog: &str, alias: &str| {
        format!(
            "{USER_SCHEMA} AND {}",
            own(catalog, &format!("{alias}.oid"))
        )
    };
    // Objects of no schema that the user made (not the system's, not an
    // extension's).
    let made = |catalog: &str, alias: &str| {
        format!(
            "{alias}.oid >= 16384 AND {}",
            own(catalog, &format!("{alias}.oid"))
        )
    };
    let parts = [
        // Indexes, except those that back a constraint (compared there).
        format!(
            "SELECT 'index', {NAME} || i.relname,
                    pg_get_indexdef(i.oid) || CASE WHEN x.indisclustered THEN ' (clustered)' ELSE '' END, true
             FROM pg_index x
             JOIN pg_class i ON i.oid = x.indexrelid
             JOIN pg_class c ON c.oid = x.indrelid
             JOIN pg_namespace n ON n.oid = i.relnamespace
             WHERE {} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
            relation("'r', 'p', 'm', 'f'")
        ),
        format!(
            "SELECT 'trigger', t.tgname::text || ' on ' || {NAME} || c.relname,
                    pg_get_triggerdef(t.oid) || ' (enabled: ' || t.tgenabled::text || ')', false
             FROM pg_trigger t
             JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {} AND NOT t.tgisinternal",
            relation("'r', 'p', 'v', 'm', 'f'")
        ),
        format!(
            "SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,
                    {NAME} || c.relname,
                    pg_get_viewdef(c.oid)
                    || coalesce(' with ' || array_to_string(c.reloptions, ', '), '')
                    || coalesce((SELECT ' defaults ' || string_agg(a.attname || ' ' || pg_get_expr(d.adbin, d.adrelid), ', ' ORDER BY a.attnum)
                                 FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                                 WHERE d.adrelid = c.oid), ''),
                    false
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {}",
            relation("'v', 'm'")
        ),
        format!(
            "SELECT 'sequence', {NAME} || c.relname,
                    format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement
                    || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache
                    || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
                    || coalesce((SELECT ' owned by ' || d.refobjid::regclass::text || '.' || a.attname
                                 FROM pg_depend d
                                 JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
                                   AND d.refclassid = 'pg_class'::regclass LIMIT 1), ''),
                    false
             FROM pg_sequence s
             JOIN pg_class c ON c.oid = s.seqrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {}",
            relation("'S'")
        ),
        format!(
            "SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
                    {NAME} || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                    CASE WHEN p.prokind = 'a'
                         THEN (SELECT g.aggtransfn::text || ' ' || format_type(g.aggtranstype, NULL)
                                      || ' final ' || g.aggfinalfn::text || ' combine ' || g.aggcombinefn::text
                                      || ' initial ' || coalesce(g.agginitval, '') || ' parallel ' || p.proparallel::text
                               FROM pg_aggregate g WHERE g.aggfnoid = p.oid)
                         ELSE pg_get_functiondef(p.oid) END,
                    false
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE {}",
            in_schema("pg_proc", "p")
        ),
        format!(
            "SELECT 'type', {NAME} || t.typname,
                    CASE t.typtype
                        WHEN 'e' THEN 'enum (' || coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                                            FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')'
                        WHEN 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod)
                                      || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
                                      || coalesce(' DEFAULT ' || t.typdefault, '')
                                      || coalesce((SELECT ' ' || string_agg(pg_get_constraintdef(k.oid), ' ' ORDER BY k.conname)
                                                   FROM pg_constraint k WHERE k.contypid = t.oid), '')
                        WHEN 'r' THEN coalesce((SELECT 'range of ' || format_type(r.rngsubtype, NULL)
                                                       || coalesce(' collate ' || (SELECT quote_ident(k.collname) FROM pg_collation k WHERE k.oid = r.rngcollation), '')
                                                       || ' subtype_diff ' || r.rngsubdiff::text || ' canonical ' || r.rngcanonical::text
                                                FROM pg_range r WHERE r.rngtypid = t.oid), '')
                        ELSE 'composite (' || coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                                                          || CASE WHEN a.attcollation <> y.typcollation
                                                                                  THEN ' COLLATE ' || (SELECT quote_ident(k.collname) FROM pg_collation k WHERE k.oid = a.attcollation)
                                                                                  ELSE '' END,
                                                                          ', ' ORDER BY a.attnum)
                                                        FROM pg_attribute a JOIN pg_type y ON y.oid = a.atttypid
                                                        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'
                    END,
                    true
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE {}
               AND (t.typtype IN ('e', 'd', 'r')
                    OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))",
            in_schema("pg_type", "t")
        ),
        format!(
            "SELECT 'rule', r.rulename::text || ' on ' || {NAME} || c.relname,
                    pg_get_ruledef(r.oid) || ' (enabled: ' || r.ev_enabled::text || ')', false
             FROM pg_rewrite r
             JOIN pg_class c ON c.oid = r.ev_class
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {} AND r.rulename <> '_RETURN'",
            relation("'r', 'p', 'v', 'm', 'f'")
        ),
        format!(
            "SELECT 'policy', p.polname::text || ' on ' || {NAME} || c.relname,
                    CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update'
                                  WHEN 'd' THEN 'delete' ELSE 'all' END
                    || CASE WHEN p.polpermissive THEN ' permissive' ELSE ' restrictive' END
                    || ' to ' || coalesce((SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END, ', ' ORDER BY 1)
                                           FROM unnest(p.polroles) AS r), '')
                    || coalesce(' using (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
                    || coalesce(' with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', ''),
                    true
             FROM pg_policy p
             JOIN pg_class c ON c.oid = p.polrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {}",
            relation("'r', 'p', 'v', 'm', 'f'")
        ),
        format!(
            "SELECT 'statistics', {NAME} || s.stxname, pg_get_statisticsobjdef(s.oid), true
             FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
             WHERE {}",
            in_schema("pg_statistic_ext", "s")
        ),
        format!(
            "SELECT 'collation', {NAME} || k.collname,
                    k.collprovider::text || ' ' || coalesce(k.collcollate, '') || ' ' || coalesce(k.collctype, '')
                    || CASE WHEN k.collisdeterministic THEN '' ELSE ' nondeterministic' END,
                    true
             FROM pg_collation k JOIN pg_namespace n ON n.oid = k.collnamespace
             WHERE {}",
            in_schema("pg_collation", "k")
        ),
        format!(
            "SELECT 'text search configuration', {NAME} || f.cfgname,
                    f.cfgparser::regproc::text || ' '
                    || coalesce((SELECT string_agg(m.maptokentype || ':' || m.mapdict::regdictionary::text, ', '
                                                   ORDER BY m.maptokentype, m.mapseqno)
                                 FROM pg_ts_config_map m WHERE m.mapcfg = f.oid), ''),
                    false
             FROM pg_ts_config f JOIN pg_namespace n ON n.oid = f.cfgnamespace
             WHERE {}",
            in_schema("pg_ts_config", "f")
        ),
        format!(
            "SELECT 'text search dictionary', {NAME} || d.dictname,
                    (SELECT m.tmplname::text FROM pg_ts_template m WHERE m.oid = d.dicttemplate)
                    || coalesce(' ' || d.dictinitoption, ''),
                    true
             FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
             WHERE {}",
            in_schema("pg_ts_dict", "d")
        ),
        format!(
            "SELECT 'operator', {NAME} || o.oprname || '(' || format_type(o.oprleft, NULL) || ', ' || format_type(o.oprright, NULL) || ')',
                    o.oprcode::text || ' commutator ' || o.oprcom::regoper::text || ' negator ' || o.oprnegate::regoper::text,
                    false
             FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
             WHERE {}",
            in_schema("pg_operator", "o")
        ),
        format!(
            "SELECT 'cast', format_type(k.castsource, NULL) || ' as ' || format_type(k.casttarget, NULL),
                    k.castfunc::regprocedure::text || ' context ' || k.castcontext::text || ' method ' || k.castmethod::text,
                    true
             FROM pg_cast k WHERE {}",
            made("pg_cast", "k")
        ),
        format!(
            "SELECT 'foreign data wrapper', w.fdwname::text,
                    w.fdwhandler::regproc::text || ' ' || w.fdwvalidator::regproc::text
                    || coalesce(' ' || array_to_string(w.fdwoptions, ', '), ''),
                    false
             FROM pg_foreign_data_wrapper w WHERE {}",
            made("pg_foreign_data_wrapper", "w")
        ),
        format!(
            "SELECT 'server', s.srvname::text,
                    (SELECT w.fdwname::text FROM pg_foreign_data_wrapper w WHERE w.oid = s.srvfdw)
                    || coalesce(' type ' || s.srvtype, '') || coalesce(' version ' || s.srvversion, '')
                    || coalesce(' ' || array_to_string(s.srvoptions, ', '), ''),
                    true
             FROM pg_foreign_server s WHERE {}",
            made("pg_foreign_server", "s")
        ),
        format!(
            "SELECT 'publication', p.pubname::text,
                    CASE WHEN p.puballtables THEN 'all tables'
                         ELSE coalesce((SELECT string_agg(r.prrelid::regclass::text, ', ' ORDER BY 1)
                                        FROM pg_publication_rel r WHERE r.prpubid = p.oid), '') END
                    || ' ' || p.pubinsert::text || p.pubupdate::text || p.pubdelete::text || p.pubtruncate::text,
                    false
             FROM pg_publication p WHERE {}",
            made("pg_publication", "p")
        ),
        format!(
            "SELECT 'schema', n.nspname::text, '', false
             FROM pg_namespace n WHERE {USER_SCHEMA} AND {}",
            own("pg_namespace", "n.oid")
        ),
        "SELECT 'extension', e.extname::text, e.extversion || ' in schema ' || n.nspname, true
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            .to_owned(),
        "SELECT 'event trigger', e.evtname::text,
                e.evtevent || ' ' || e.evtfoid::regproc::text || ' ' || e.evtenabled::text
                || coalesce(' ' || e.evttags::text, ''),
                false
         FROM pg_event_trigger e"
            .to_owned(),
        "SELECT 'database setting', coalesce(r.rolname::text, 'every role'), array_to_string(s.setconfig, ', '), true
         FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
         WHERE s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())"
            .to_owned(),
    ];
    parts.join("\nUNION ALL\n")
}
