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

use postgres::tls::{MakeTlsConnect, TlsConnect};
use postgres::{Client, Config, Row, Socket, Statement};
use sha2::{Digest, Sha256};

use super::{Pg, quote_identifier};
use crate::backend::Backend;
use crate::report::VerifyReport;
use crate::verify::{Column, Object, Schema, fold};
use crate::{DEFAULT_LOCK_TIMEOUT, DatabaseError, Direction, Error, Migrations, Result};

/// The names of scratch databases and schemas: this prefix, the process id
/// and a clock reading.
const SCRATCH: &str = "strata_verify";

impl Migrations {
    /// [`verify`](Migrations::verify) on PostgreSQL: every down file must
    /// restore the schema that its up file changed, compared in the catalog
    /// of every schema that is not the system's (schemas themselves,
    /// tables and columns, constraints, indexes, sequences, views,
    /// functions and procedures, triggers, rules, policies, types and
    /// enums, extensions).
    ///
    /// Everything runs inside one transaction of `client` that is always
    /// rolled back, also after an error or a panic, and which a killed
    /// process never commits: `client`'s database is left as it was. Within
    /// it, a scratch schema put first in the search path takes what
    /// migrations create without naming a schema, so the database may
    /// already hold the application's tables (and the extensions whose
    /// functions migrations call, which are still found where they are). Objects that a migration names with their
    /// schema (`CREATE TABLE public.users`) are created there, inside the
    /// same transaction: for such a folder, use a database that does not
    /// hold them yet.
    ///
    /// Before it starts, verify drops the scratch databases that an
    /// interrupted [`verify_postgres_scratch`](Migrations::verify_postgres_scratch)
    /// left, where this role may; the report names them.
    ///
    /// # Errors
    ///
    /// [`Error::VerifyNeedsScratchDatabase`] when a migration runs outside
    /// a transaction (use `verify_postgres_scratch`),
    /// [`Error::InTransaction`] when `client` is inside a transaction,
    /// [`Error::VerifyFailed`] with every problem found, and database
    /// errors.
    pub fn verify_postgres(&self, client: &mut Client) -> Result<VerifyReport> {
        if let Some((version, file)) = self.first_outside_transaction() {
            return Err(Error::VerifyNeedsScratchDatabase { version, file });
        }
        Pg::new(client, SCRATCH, DEFAULT_LOCK_TIMEOUT, None).check_idle()?;
        let dropped = drop_leftovers(client)?;
        let name = scratch_name();
        let schema = quote_identifier(&name);
        // The scratch schema first, where unqualified names are created;
        // the session's path after it, where they are also looked up (an
        // extension's functions in `public`, say).
        client.batch_execute(&format!(
            "BEGIN; CREATE SCHEMA {schema};
             SELECT set_config('search_path', '{schema}' || coalesce(', ' || nullif(current_setting('search_path'), ''), ''), false)"
        ))?;
        let outer = RolledBack { client };
        let mut db = Pg::new(&mut *outer.client, SCRATCH, DEFAULT_LOCK_TIMEOUT, None);
        db.nested = Some(0);
        db.in_transaction = true;
        db.scratch_schema = Some(name);
        let result = crate::verify::verify(self, &mut db);
        drop(db);
        drop(outer);
        with_dropped(result, dropped)
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
        let dropped = drop_leftovers(&mut admin)?;
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
        let mut db = Pg::new(&mut client, SCRATCH, DEFAULT_LOCK_TIMEOUT, None);
        let result = crate::verify::verify(self, &mut db);
        drop(db);
        drop(client);
        let dropped_now = scratch.drop_now();
        if let (Err(_), Err(e)) = (&result, &dropped_now) {
            log::warn!("{e}");
        }
        with_dropped(
            result.and_then(|report| dropped_now.map(|()| report)),
            dropped,
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

/// The scratch databases dropped, in the report or in the failure's.
fn with_dropped(result: Result<VerifyReport>, dropped: Vec<String>) -> Result<VerifyReport> {
    match result {
        Ok(mut report) => {
            report.dropped = dropped;
            Ok(report)
        }
        Err(Error::VerifyFailed(mut failures)) => {
            failures.report.dropped = dropped;
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

/// Drops the scratch databases that killed verifies left: those whose
/// name's advisory lock nobody holds. Returns their names.
fn drop_leftovers(client: &mut Client) -> Result<Vec<String>> {
    let names: Vec<String> = client
        .query(
            "SELECT datname::text FROM pg_database WHERE datname ~ $1 ORDER BY 1",
            &[&format!("^{SCRATCH}_[0-9]+_[0-9]+$")],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut dropped = Vec::new();
    for name in names {
        let key = scratch_key(&name);
        let free: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
            .get(0);
        if !free {
            continue;
        }
        let result = client.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {}",
            quote_identifier(&name)
        ));
        client.execute("SELECT pg_advisory_unlock($1)", &[&key])?;
        match result {
            Ok(()) => {
                log::warn!(
                    "dropped the scratch database {name}, left by a verify that was interrupted"
                );
                dropped.push(name);
            }
            Err(e) => log::warn!(
                "could not drop the scratch database {name}, left by a verify that was interrupted: {e}"
            ),
        }
    }
    Ok(dropped)
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

/// Every schema that is not the system's, as verify compares it. The
/// `scratch` schema's name is left out of definitions: it is first in the
/// search path, and messages show its objects unqualified. Its three
/// statements are prepared once, in `cache`.
pub(super) fn describe(
    client: &mut Client,
    scratch: Option<&str>,
    cache: &mut Vec<Statement>,
) -> std::result::Result<Schema, postgres::Error> {
    let prefix = scratch.map(|s| format!("{s}."));
    let unqualified = |text: String| match &prefix {
        Some(prefix) => fold(&text.replace(prefix.as_str(), "")),
        None => fold(&text),
    };
    if cache.is_empty() {
        for sql in queries() {
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
/// properties; every other object.
fn queries() -> [String; 3] {
    let tables = format!(
        "{USER_SCHEMA} AND c.relkind IN ('r', 'p', 'f') AND {}",
        own("pg_class", "c.oid")
    );
    [
        format!("SELECT {NAME} || c.relname, a.attname::text,
                    format_type(a.atttypid, a.atttypmod)
                      || CASE WHEN a.attcollation <> t.typcollation
                              THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END,
                    a.attnotnull,
                    CASE WHEN a.attgenerated = 's'
                              THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
                         WHEN a.attidentity = 'a' THEN 'GENERATED ALWAYS AS IDENTITY'
                         WHEN a.attidentity = 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY'
                         ELSE pg_get_expr(d.adbin, d.adrelid) END
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_collation co ON co.oid = a.attcollation
             LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
             WHERE {tables}
             ORDER BY 1, a.attnum"),
        format!("SELECT {NAME} || c.relname, 'constraint ' || con.conname::text || ' ' || pg_get_constraintdef(con.oid)
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
                            ELSE '' END
                    || CASE WHEN c.relrowsecurity THEN ' row level security' ELSE '' END
                    || CASE WHEN c.relforcerowsecurity THEN ' forced' ELSE '' END
                    || CASE WHEN c.relpersistence = 'u' THEN ' unlogged' ELSE '' END
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {tables}"),
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
    let parts = [
        // Indexes, except those that back a constraint (compared there).
        format!(
            "SELECT 'index', {NAME} || i.relname, pg_get_indexdef(i.oid), true
             FROM pg_index x
             JOIN pg_class i ON i.oid = x.indexrelid
             JOIN pg_class c ON c.oid = x.indrelid
             JOIN pg_namespace n ON n.oid = i.relnamespace
             WHERE {} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
            relation("'r', 'p', 'm', 'f'")
        ),
        format!(
            "SELECT 'trigger', t.tgname::text || ' on ' || {NAME} || c.relname,
                    pg_get_triggerdef(t.oid) || CASE t.tgenabled WHEN 'D' THEN ' (disabled)' ELSE '' END, false
             FROM pg_trigger t
             JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {} AND NOT t.tgisinternal",
            relation("'r', 'p', 'v', 'm', 'f'")
        ),
        format!(
            "SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,
                    {NAME} || c.relname, pg_get_viewdef(c.oid), false
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {}",
            relation("'v', 'm'")
        ),
        // Sequences, except those of identity columns (compared there).
        format!(
            "SELECT 'sequence', {NAME} || c.relname,
                    format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement
                    || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache
                    || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
                    || coalesce((SELECT ' owned by ' || d.refobjid::regclass::text || '.' || a.attname
                                 FROM pg_depend d
                                 JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a'
                                   AND d.refclassid = 'pg_class'::regclass LIMIT 1), ''),
                    false
             FROM pg_sequence s
             JOIN pg_class c ON c.oid = s.seqrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {} AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')",
            relation("'S'")
        ),
        format!(
            "SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
                    {NAME} || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                    CASE WHEN p.prokind = 'a'
                         THEN (SELECT g.aggtransfn::text || ' ' || format_type(g.aggtranstype, NULL) || ' '
                                      || g.aggfinalfn::text || ' ' || coalesce(g.agginitval, '')
                               FROM pg_aggregate g WHERE g.aggfnoid = p.oid)
                         ELSE pg_get_functiondef(p.oid) END,
                    false
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE {USER_SCHEMA} AND {}",
            own("pg_proc", "p.oid")
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
                        WHEN 'r' THEN 'range of ' || coalesce((SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid), '')
                        ELSE 'composite (' || coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                                                        FROM pg_attribute a
                                                        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'
                    END,
                    true
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE {USER_SCHEMA} AND {}
               AND (t.typtype IN ('e', 'd', 'r')
                    OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))",
            own("pg_type", "t.oid")
        ),
        format!(
            "SELECT 'rule', r.rulename::text || ' on ' || {NAME} || c.relname, pg_get_ruledef(r.oid), false
             FROM pg_rewrite r
             JOIN pg_class c ON c.oid = r.ev_class
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {} AND r.rulename <> '_RETURN'",
            relation("'r', 'p', 'v', 'm', 'f'")
        ),
        format!(
            "SELECT 'policy', p.polname::text || ' on ' || {NAME} || c.relname,
                    p.polcmd::text || CASE WHEN p.polpermissive THEN ' permissive' ELSE ' restrictive' END
                    || ' to ' || p.polroles::text
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
    ];
    parts.join("\nUNION ALL\n")
}
