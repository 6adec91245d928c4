//! verify's description of its scratch database, kept from one snapshot
//! to the next and read again only where the database changed, so that a
//! migration costs what it touched, not the size of the schema.
//!
//! What changed is known without reading the whole catalog:
//!
//! - A relation (table, index, view, sequence...) is locked by every
//!   statement that creates, alters or drops it or anything of it (a
//!   column, constraint, default, trigger, rule, policy), in `SHARE UPDATE
//!   EXCLUSIVE` mode or stronger, and the lock is held to the end of the
//!   transaction. Before each transaction ends, and before a snapshot
//!   inside one, verify reads the relations its session holds locks on,
//!   and those whose description names one of them (a foreign key to a
//!   renamed table, a view over it: from `pg_depend`). Those are read
//!   again at the next snapshot.
//! - The objects of the database as a whole (functions, types, schemas,
//!   extensions...) are few: a fingerprint of their catalog rows (each
//!   row's oid and `xmin`, which a rollback restores) tells whether any
//!   changed, and the transaction's counts of updated and deleted rows in
//!   their catalogs tell it for those the system made (`ALTER SCHEMA
//!   public RENAME`). When one did, everything is read again, because
//!   relations name them (a column's type, a default's function).
//! - Everything is read again after a file that ran outside a transaction,
//!   where no lock outlives the statement, that writes a system catalog's
//!   rows itself (`UPDATE pg_attribute ...`; from then on at every
//!   snapshot when it makes a function that may do so), or that changed a
//!   setting strata put back (`track_counts`), and at every snapshot while
//!   the session looks names up in more than one schema or has temporary
//!   objects, where a new table can hide another of its name.
//! - Deferred triggers fire before the commit is noted (`SET CONSTRAINTS
//!   ALL IMMEDIATE`, as the commit would), so that what they do is seen.
//!
//! What another session does in the scratch database (through `dblink`)
//! is not seen.
//!
//! Locks taken after a savepoint are released when the transaction rolls
//! back to it; verify takes no snapshot between a savepoint and its
//! rollback (a file's own savepoints roll back inside the file), so what
//! such a rollback undoes was never read.
//!
//! A change this could not see would be compared as it was before, so
//! `tests/postgres_verify_incremental.rs` checks that verify finds exactly
//! what it finds when it reads the whole catalog at every step (as it does
//! inside verify's one transaction, where locks are held from the first
//! migration to the last and cannot say what one migration touched): for
//! every kind of object, and for changes that reach other objects (renamed
//! tables, columns, sequences, indexes, schemas, types and functions that
//! foreign keys, views, defaults, checks, triggers and columns name).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write;

use tokio_postgres::error::SqlState;

use crate::pg::PgClient;

use super::{Global, Owned, Prepared, assemble, describe_global, describe_relations};
use crate::schema::Schema;

/// The relations (`pg_class` oids) the session holds locks on in its
/// transaction, and those whose description names one of them or its row
/// type (or an array of it), an index standing for its table. Only the locks that change a relation's
/// catalog rows take count: `SHARE UPDATE EXCLUSIVE` or stronger, as
/// every `CREATE`, `ALTER` and `DROP` of a relation or of anything of it
/// takes; reading and writing rows (`ACCESS SHARE`, `ROW SHARE`, `ROW
/// EXCLUSIVE`) does not describe a relation anew. A row with oid 0: something that is described
/// with the database as a whole depends on one of them (a function that
/// returns a table's row type, a statistics object, a publication), or a
/// standalone composite type changed, or rows of the objects of the
/// database as a whole were updated or deleted in the transaction (which
/// the fingerprint does not see when the system made them: `ALTER SCHEMA
/// public RENAME`, a renamed operator class, `DROP OWNED` taking a role
/// out of a policy); everything must be read again. (The counts may also
/// hold the last second's transactions, not yet sent to the statistics:
/// that reads everything again once more, never less; without
/// `track_counts` there are none, and everything is read again.)
pub(super) const TOUCHED: &str = "
WITH locked AS (
    SELECT DISTINCT l.relation AS oid FROM pg_locks l
    WHERE l.locktype = 'relation' AND l.pid = pg_backend_pid() AND l.relation >= 16384
      AND l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')
      AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
),
dependents AS (
    SELECT d.classid, d.objid, d.deptype FROM pg_depend d
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM locked)
    UNION ALL
    SELECT d.classid, d.objid, d.deptype FROM pg_depend d
    WHERE d.refclassid = 'pg_type'::regclass
      AND d.refobjid IN (SELECT c.reltype FROM pg_class c WHERE c.oid IN (SELECT oid FROM locked) AND c.reltype <> 0
                         UNION ALL
                         SELECT t.typarray FROM pg_type t JOIN pg_class c ON t.oid = c.reltype
                         WHERE c.oid IN (SELECT oid FROM locked) AND t.typarray <> 0)
),
owners AS (
    SELECT oid AS owner FROM locked
    UNION
    SELECT CASE d.classid
               WHEN 'pg_class'::regclass THEN d.objid
               WHEN 'pg_constraint'::regclass THEN (SELECT nullif(k.conrelid, 0) FROM pg_constraint k WHERE k.oid = d.objid)
               WHEN 'pg_attrdef'::regclass THEN (SELECT a.adrelid FROM pg_attrdef a WHERE a.oid = d.objid)
               WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid)
               WHEN 'pg_trigger'::regclass THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = d.objid)
               WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = d.objid)
           END
    FROM dependents d
)
SELECT owner FROM owners WHERE owner IS NOT NULL
UNION
SELECT x.indrelid FROM pg_index x WHERE x.indexrelid IN (SELECT owner FROM owners)
UNION
SELECT 0::oid WHERE EXISTS (
        SELECT 1 FROM dependents d
        WHERE d.classid NOT IN ('pg_class'::regclass, 'pg_constraint'::regclass, 'pg_attrdef'::regclass,
                                'pg_rewrite'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass)
          AND NOT (d.classid = 'pg_type'::regclass AND d.deptype = 'i'))
    OR EXISTS (
        SELECT 1 FROM dependents d JOIN pg_constraint k ON k.oid = d.objid
        WHERE d.classid = 'pg_constraint'::regclass AND k.conrelid = 0)
    OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid IN (SELECT oid FROM locked) AND c.relkind = 'c')
    OR (SELECT sum(pg_stat_get_xact_tuples_updated(k) + pg_stat_get_xact_tuples_deleted(k))
        FROM unnest(ARRAY['pg_proc', 'pg_operator', 'pg_collation', 'pg_opclass', 'pg_opfamily', 'pg_ts_config',
                          'pg_ts_config_map', 'pg_ts_dict', 'pg_namespace', 'pg_policy', 'pg_cast', 'pg_enum',
                          'pg_range', 'pg_extension', 'pg_foreign_data_wrapper', 'pg_foreign_server',
                          'pg_publication', 'pg_publication_rel', 'pg_statistic_ext', 'pg_event_trigger',
                          'pg_aggregate', 'pg_language', 'pg_ts_template', 'pg_ts_parser']::regclass[]) AS k) > 0
    OR pg_stat_get_xact_tuples_updated('pg_type'::regclass) > 0
    OR NOT current_setting('track_counts')::bool";

/// One text that changes when any catalog row that describes an object of
/// the database as a whole changes (each row's oid and `xmin`): schemas
/// (also those the system made: `public`), functions and aggregates,
/// types (not the row types of relations, nor arrays, which change with
/// them; the standalone composite types, whose oids are `$1`), enum
/// labels, ranges, domain constraints, collations, operator classes and
/// families, text search, languages, operators, casts, foreign data wrappers and
/// servers, publications, extensions, event triggers, statistics objects,
/// the database's settings, roles (a policy names them), and the schemas
/// names are looked up in and the user, which decide how names are
/// written. Rows of the system (oid below 16384) change here only when
/// updated, which [`TOUCHED`] sees. Also the rows that say which objects
/// an extension holds (`ALTER EXTENSION ... ADD FUNCTION` changes only
/// `pg_depend`). The second column: the session looks names up in more
/// than one schema, or has made temporary objects (whose schema then comes
/// first for the rest of the session), where a new relation can hide
/// another of its name (`public.t` is then written with its schema):
/// everything is read at every snapshot.
pub(super) const FINGERPRINT: &str = "
SELECT md5(concat_ws('|', current_schemas(true)::text, current_user,
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_namespace x),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_proc x WHERE x.oid >= 16384),
    (SELECT string_agg(x.aggfnoid::oid || ':' || x.xmin, ',' ORDER BY x.aggfnoid::oid) FROM pg_aggregate x WHERE x.aggfnoid::oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_type x
     WHERE x.oid >= 16384 AND (x.typrelid = 0 AND NOT (x.typtype = 'b' AND x.typcategory = 'A') OR x.oid = ANY ($1::oid[]))),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_enum x WHERE x.oid >= 16384),
    (SELECT string_agg(x.rngtypid || ':' || x.xmin, ',' ORDER BY x.rngtypid) FROM pg_range x WHERE x.rngtypid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_constraint x WHERE x.contypid > 0),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_collation x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_opclass x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_opfamily x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_ts_config x WHERE x.oid >= 16384),
    (SELECT string_agg(x.mapcfg || ':' || x.xmin, ',' ORDER BY x.mapcfg, x.maptokentype, x.mapseqno) FROM pg_ts_config_map x WHERE x.mapcfg >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_ts_dict x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_ts_template x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_ts_parser x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_language x WHERE x.oid >= 16384),
    (SELECT string_agg(x.classid || ':' || x.objid || ':' || x.xmin, ',' ORDER BY x.refobjid, x.classid, x.objid)
     FROM pg_depend x WHERE x.refclassid = 'pg_extension'::regclass AND x.deptype = 'e'),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_operator x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_cast x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_foreign_data_wrapper x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_foreign_server x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_publication x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_publication_rel x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_extension x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_event_trigger x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_statistic_ext x WHERE x.oid >= 16384),
    (SELECT string_agg(x.setrole || ':' || x.xmin, ',' ORDER BY x.setrole) FROM pg_db_role_setting x
     WHERE x.setdatabase IN (0, (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()))),
    (SELECT string_agg(x.oid || ':' || x.rolname, ',' ORDER BY x.oid) FROM pg_roles x WHERE x.oid >= 16384))),
    coalesce(array_length(current_schemas(false), 1), 0) > 1 OR pg_my_temp_schema() <> 0";

/// The standalone composite types: their relations (whose description is
/// the type's) and their types.
const COMPOSITES: &str =
    "SELECT c.oid, c.reltype FROM pg_class c WHERE c.relkind = 'c' AND c.oid >= 16384";

/// verify's description of its scratch database, kept between snapshots:
/// see the module's text.
///
/// A snapshot is a text naming, for each relation, the version of its
/// description (and that of the objects of the database as a whole): two
/// snapshots of the same schema are the same text, and a snapshot is
/// expanded into its schema only when it differs from the one it is
/// compared with. Every version read stays, so any snapshot expands.
#[derive(Default)]
pub(in crate::pg) struct Described {
    /// Each relation's description now (`pg_class` oid -> index in
    /// `versions`).
    relations: BTreeMap<u32, usize>,
    /// Every description of a relation read, once each as long as it does
    /// not change.
    versions: Vec<Owned>,
    /// Every description of the objects of the database as a whole read;
    /// the last is now's.
    globals: Vec<Global>,
    /// [`FINGERPRINT`] when the last of `globals` was read; `None`:
    /// nothing read yet, or a read failed.
    fingerprint: Option<String>,
    /// The relations of [`COMPOSITES`].
    composites: HashSet<u32>,
    /// Their types.
    composite_types: Vec<u32>,
    /// Relations that may have changed since the last snapshot.
    changed: BTreeSet<u32>,
    /// Anything may have changed: read everything again.
    everything: bool,
    /// Read everything at every snapshot from now on.
    always: bool,
    /// Everything was read inside the open transaction for a reason that
    /// locks do not show (a catalog written, counts off): read everything
    /// again after it, whose end may undo what was read.
    everything_after_transaction: bool,
}

impl Described {
    /// Notes what the open transaction touched, before it ends (a commit
    /// or a rollback releases its locks). When that cannot be read (the
    /// transaction failed), everything is read again at the next
    /// snapshot. Behind a savepoint: an error here must not end the
    /// transaction's use, whose commit would then roll the migration back.
    pub(in crate::pg) async fn note_touched(
        &mut self,
        client: &mut impl PgClient,
        cache: &mut Prepared,
    ) {
        if std::mem::take(&mut self.everything_after_transaction) {
            self.everything = true;
        }
        if self.everything || self.fingerprint.is_none() {
            return;
        }
        let noted = match self.touched_guarded(client, cache).await {
            // A migration's `DEALLOCATE ALL` took the statement away.
            Err(e) if e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME) => {
                cache.clear();
                self.touched_guarded(client, cache).await
            }
            noted => noted,
        };
        if noted.is_err() {
            self.everything = true;
        }
    }

    /// Something ran outside a transaction, where no lock says what it
    /// touched: everything is read again at the next snapshot.
    pub(in crate::pg) fn note_everything(&mut self) {
        self.everything = true;
    }

    /// Everything is read again at every snapshot from now on (a function
    /// that may write the catalog's rows was made: any file may call it).
    pub(in crate::pg) fn note_always(&mut self) {
        self.always = true;
        self.everything = true;
    }

    /// [`touched`](Self::touched) behind a savepoint.
    async fn touched_guarded(
        &mut self,
        client: &mut impl PgClient,
        cache: &mut Prepared,
    ) -> std::result::Result<(), tokio_postgres::Error> {
        client.batch_execute("SAVEPOINT strata_touched").await?;
        let result = self.touched(client, cache).await;
        client
            .batch_execute(match result {
                Ok(()) => "RELEASE SAVEPOINT strata_touched",
                Err(_) => "ROLLBACK TO SAVEPOINT strata_touched; RELEASE SAVEPOINT strata_touched",
            })
            .await?;
        result
    }

    /// Runs [`TOUCHED`] and notes the relations.
    async fn touched(
        &mut self,
        client: &mut impl PgClient,
        cache: &mut Prepared,
    ) -> std::result::Result<(), tokio_postgres::Error> {
        let (statements, _) = cache.prepare(client).await?;
        for row in client.query(&statements.touched, &[]).await? {
            let oid: u32 = row.try_get(0)?;
            if oid == 0 || self.composites.contains(&oid) {
                self.everything = true;
            } else {
                self.changed.insert(oid);
            }
        }
        Ok(())
    }

    /// The schema now, as a snapshot's text (see [`Described`]), read
    /// where it may have changed since the last snapshot.
    /// `in_transaction`: a transaction is open, whose locks say what it
    /// touched so far.
    pub(in crate::pg) async fn snapshot(
        &mut self,
        client: &mut impl PgClient,
        cache: &mut Prepared,
        in_transaction: bool,
    ) -> std::result::Result<String, tokio_postgres::Error> {
        if let Err(e) = self.read(client, cache, in_transaction).await {
            self.fingerprint = None;
            return Err(e);
        }
        let mut text = self.globals.len().saturating_sub(1).to_string();
        for (oid, version) in &self.relations {
            let _ = write!(text, " {oid}:{version}");
        }
        Ok(text)
    }

    /// The schema a snapshot's text stands for.
    pub(in crate::pg) fn expand(&self, text: &str) -> Schema {
        let mut words = text.split(' ');
        let global = words
            .next()
            .and_then(|g| g.parse::<usize>().ok())
            .and_then(|g| self.globals.get(g));
        let relations = words.filter_map(|word| {
            let (_, version) = word.split_once(':')?;
            self.versions.get(version.parse::<usize>().ok()?)
        });
        assemble(relations, global.unwrap_or(&Global::new()))
    }

    async fn read(
        &mut self,
        client: &mut impl PgClient,
        cache: &mut Prepared,
        in_transaction: bool,
    ) -> std::result::Result<(), tokio_postgres::Error> {
        if in_transaction && self.fingerprint.is_some() {
            self.touched(client, cache).await?;
        }
        let (statements, _) = cache.prepare(client).await?;
        let row = client
            .query_one(&statements.fingerprint, &[&self.composite_types])
            .await?;
        let fingerprint: String = row.try_get(0)?;
        let several_schemas: bool = row.try_get(1)?;
        let unseen = self.everything || self.always || several_schemas;
        if unseen && in_transaction {
            self.everything_after_transaction = true;
        }
        let (oids, fresh) = if unseen || self.fingerprint.as_ref() != Some(&fingerprint) {
            self.fingerprint = None;
            let global = describe_global(client, cache).await?;
            if self.globals.last() != Some(&global) {
                self.globals.push(global);
            }
            self.composites.clear();
            self.composite_types.clear();
            for row in client.query(COMPOSITES, &[]).await? {
                self.composites.insert(row.try_get(0)?);
                self.composite_types.push(row.try_get(1)?);
            }
            let fresh = describe_relations(client, cache, None).await?;
            let oids: BTreeSet<u32> = self.relations.keys().chain(fresh.keys()).copied().collect();
            (oids, fresh)
        } else if self.changed.is_empty() {
            return Ok(());
        } else {
            let changed = std::mem::take(&mut self.changed);
            let oids: Vec<u32> = changed.iter().copied().collect();
            let fresh = describe_relations(client, cache, Some(&oids)).await?;
            (changed, fresh)
        };
        let mut fresh = fresh;
        for oid in oids {
            match fresh.remove(&oid) {
                Some(owned) => {
                    let same = self.relations.get(&oid).and_then(|&v| self.versions.get(v))
                        == Some(&owned);
                    if !same {
                        self.versions.push(owned);
                        self.relations.insert(oid, self.versions.len() - 1);
                    }
                }
                None => {
                    self.relations.remove(&oid);
                }
            }
        }
        self.changed.clear();
        self.everything = false;
        self.fingerprint = Some(fingerprint);
        Ok(())
    }
}

/// What a file may write of the system catalogs' rows itself (`UPDATE
/// pg_attribute SET atttypmod = ...`, a known way to widen a column
/// without a rewrite), which takes no lock that says which relation it
/// changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::pg) enum Writes {
    /// Nothing, as far as its text says.
    No,
    /// Rows, now.
    Rows,
    /// Rows, now or in a function, procedure or rule it makes, which a
    /// later file may call or fire.
    Function,
}

/// What `text` may write of the system catalogs' rows, read as words
/// anywhere in the text, in strings and bodies too (dynamic SQL): a word
/// that writes rows (`UPDATE`, `DELETE`, `INSERT`, `MERGE`) and a name
/// that begins with `pg_` (not a schema's, followed by `.`), anywhere. The
/// file may only read a catalog or call a `pg_` function: then everything
/// is read again, which costs time, never a difference.
pub(in crate::pg) fn writes_catalog(text: &str) -> Writes {
    use crate::source::sql::holds_words;
    if holds_words(text, &[b"pg_"]) == 0
        || holds_words(text, &[b"update", b"delete", b"insert", b"merge"]) == 0
    {
        return Writes::No;
    }
    let bytes = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut at = 0;
    let mut relation = false;
    while at < bytes.len() {
        if !word(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && word(bytes[at]) {
            at += 1;
        }
        let name = &bytes[start..at];
        let next = bytes[at..].iter().find(|c| !c.is_ascii_whitespace());
        if name.len() > 3 && name[..3].eq_ignore_ascii_case(b"pg_") && next != Some(&b'.') {
            relation = true;
            break;
        }
    }
    if !relation {
        return Writes::No;
    }
    if holds_words(text, &[b"function", b"procedure", b"rule"]) != 0 {
        Writes::Function
    } else {
        Writes::Rows
    }
}

#[cfg(test)]
mod tests {
    use super::{Writes, writes_catalog};

    #[test]
    fn a_write_to_a_system_catalog_is_seen() {
        for text in [
            "UPDATE pg_attribute SET atttypmod = 104 WHERE attrelid = 't'::regclass",
            "update pg_catalog.pg_attribute set attnotnull = true",
            "DO $$ BEGIN EXECUTE 'DELETE FROM pg_catalog.pg_depend WHERE false'; END $$;",
            "INSERT INTO\n  \"pg_description\" VALUES (1)",
            "UPDATE ONLY pg_class SET relhasindex = false",
            "MERGE INTO pg_catalog.pg_attribute a USING x ON true WHEN MATCHED THEN UPDATE SET atttypmod = 204",
            "DO $$ BEGIN EXECUTE format('UPDATE %s SET atttypmod = 154', 'pg_catalog.pg_attribute'); END $$;",
            "INSERT INTO pg_catalog.pg_depend(classid) VALUES (1)",
            // Reads, or a function, and writes in one file: read everything
            // again anyway.
            "INSERT INTO t SELECT relname FROM pg_class",
            "SELECT pg_advisory_lock(1); INSERT INTO t VALUES (1)",
        ] {
            assert_eq!(writes_catalog(text), Writes::Rows, "{text}");
        }
        assert_eq!(
            writes_catalog(
                "CREATE FUNCTION widen(t regclass) RETURNS void LANGUAGE sql AS $$
                 UPDATE pg_catalog.pg_attribute SET atttypmod = 204 WHERE attrelid = t $$;"
            ),
            Writes::Function
        );
        for text in [
            "SELECT * FROM pg_attribute",
            "SELECT pg_advisory_lock(1)",
            "UPDATE t SET x = pg_catalog.lower(x)",
            "CREATE TABLE t (id int)",
            "INSERT INTO t VALUES ('pg_')",
        ] {
            assert_eq!(writes_catalog(text), Writes::No, "{text}");
        }
    }
}
