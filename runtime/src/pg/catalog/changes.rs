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
//!   changed. When one did, everything is read again, because relations
//!   name them (a column's type, a default's function).
//! - Whatever runs outside a transaction, where no lock outlives the
//!   statement, has everything read again.
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

use postgres::Client;

use super::{Global, Owned, Prepared, assemble, describe_global, describe_relations};
use crate::verify::Schema;

/// The relations (`pg_class` oids) the session holds locks on in its
/// transaction, and those whose description names one of them, an index
/// standing for its table. Only the locks that change a relation's
/// catalog rows take count: `SHARE UPDATE EXCLUSIVE` or stronger, as
/// every `CREATE`, `ALTER` and `DROP` of a relation or of anything of it
/// takes; reading and writing rows (`ACCESS SHARE`, `ROW SHARE`, `ROW
/// EXCLUSIVE`) does not describe a relation anew. A row with oid 0: something that is described
/// with the database as a whole depends on one of them (a function that
/// returns a table's row type, a statistics object, a publication), or a
/// standalone composite type changed; everything must be read again.
const TOUCHED: &str = "
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
      AND d.refobjid IN (SELECT c.reltype FROM pg_class c WHERE c.oid IN (SELECT oid FROM locked) AND c.reltype <> 0)
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
    OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid IN (SELECT oid FROM locked) AND c.relkind = 'c')";

/// One text that changes when any catalog row that describes an object of
/// the database as a whole changes (each row's oid and `xmin`): schemas,
/// functions and aggregates, types (not the row types of relations, nor
/// arrays, which change with them), enum labels, ranges, domain
/// constraints, collations, text search, operators, casts, foreign data
/// wrappers and servers, publications, extensions, event triggers,
/// statistics objects, the database's settings, roles (a policy names
/// them), and the search path, which decides how names are written. Rows
/// the system made (oid below 16384) never change here.
pub(super) const FINGERPRINT: &str = "
SELECT md5(concat_ws('|', current_setting('search_path'),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_namespace x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_proc x WHERE x.oid >= 16384),
    (SELECT string_agg(x.aggfnoid::oid || ':' || x.xmin, ',' ORDER BY x.aggfnoid::oid) FROM pg_aggregate x WHERE x.aggfnoid::oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_type x
     WHERE x.oid >= 16384 AND x.typrelid = 0 AND x.typcategory <> 'A'),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_enum x WHERE x.oid >= 16384),
    (SELECT string_agg(x.rngtypid || ':' || x.xmin, ',' ORDER BY x.rngtypid) FROM pg_range x WHERE x.rngtypid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_constraint x WHERE x.contypid > 0),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_collation x WHERE x.oid >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_ts_config x WHERE x.oid >= 16384),
    (SELECT string_agg(x.mapcfg || ':' || x.xmin, ',' ORDER BY x.mapcfg, x.maptokentype, x.mapseqno) FROM pg_ts_config_map x WHERE x.mapcfg >= 16384),
    (SELECT string_agg(x.oid || ':' || x.xmin, ',' ORDER BY x.oid) FROM pg_ts_dict x WHERE x.oid >= 16384),
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
    (SELECT string_agg(x.oid || ':' || x.rolname, ',' ORDER BY x.oid) FROM pg_roles x WHERE x.oid >= 16384)))";

/// The standalone composite types' relations, whose description is the
/// type's.
const COMPOSITES: &str = "SELECT c.oid FROM pg_class c WHERE c.relkind = 'c' AND c.oid >= 16384";

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
    /// See [`COMPOSITES`].
    composites: HashSet<u32>,
    /// Relations that may have changed since the last snapshot.
    changed: BTreeSet<u32>,
    /// Anything may have changed: read everything again.
    everything: bool,
}

impl Described {
    /// Notes what the open transaction touched, before it ends (a commit
    /// or a rollback releases its locks). When that cannot be read (the
    /// transaction failed), everything is read again at the next
    /// snapshot. Behind a savepoint: an error here must not end the
    /// transaction's use, whose commit would then roll the migration back.
    pub(in crate::pg) fn note_touched(&mut self, client: &mut Client) {
        if self.everything || self.fingerprint.is_none() {
            return;
        }
        let guarded =
            format!("SAVEPOINT strata_touched; {TOUCHED}; RELEASE SAVEPOINT strata_touched");
        if self.touched(client, &guarded).is_err() {
            self.everything = true;
            let _ = client.batch_execute(
                "ROLLBACK TO SAVEPOINT strata_touched; RELEASE SAVEPOINT strata_touched",
            );
        }
    }

    /// Something ran outside a transaction, where no lock says what it
    /// touched: everything is read again at the next snapshot.
    pub(in crate::pg) fn note_everything(&mut self) {
        self.everything = true;
    }

    /// Runs `sql`, which holds [`TOUCHED`], and notes the relations. Not
    /// prepared: a migration's `DEALLOCATE ALL` cannot take it away.
    fn touched(
        &mut self,
        client: &mut Client,
        sql: &str,
    ) -> std::result::Result<(), postgres::Error> {
        for message in client.simple_query(sql)? {
            let postgres::SimpleQueryMessage::Row(row) = message else {
                continue;
            };
            match row.get(0).and_then(|oid| oid.parse::<u32>().ok()) {
                Some(oid) if oid != 0 && !self.composites.contains(&oid) => {
                    self.changed.insert(oid);
                }
                _ => self.everything = true,
            }
        }
        Ok(())
    }

    /// The schema now, as a snapshot's text (see [`Described`]), read
    /// where it may have changed since the last snapshot.
    /// `in_transaction`: a transaction is open, whose locks say what it
    /// touched so far.
    pub(in crate::pg) fn snapshot(
        &mut self,
        client: &mut Client,
        cache: &mut Prepared,
        in_transaction: bool,
    ) -> std::result::Result<String, postgres::Error> {
        if let Err(e) = self.read(client, cache, in_transaction) {
            self.fingerprint = None;
            return Err(e);
        }
        let mut text = self.globals.len().saturating_sub(1).to_string();
        for (oid, version) in &self.relations {
            text.push_str(&format!(" {oid}:{version}"));
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

    fn read(
        &mut self,
        client: &mut Client,
        cache: &mut Prepared,
        in_transaction: bool,
    ) -> std::result::Result<(), postgres::Error> {
        // Inside the transaction, behind verify's savepoint already.
        if in_transaction && self.fingerprint.is_some() {
            self.touched(client, TOUCHED)?;
        }
        let (statements, _) = cache.prepare(client)?;
        let fingerprint: String = client.query_one(&statements.fingerprint, &[])?.try_get(0)?;
        let (oids, fresh) = if self.everything || self.fingerprint.as_ref() != Some(&fingerprint) {
            self.fingerprint = None;
            let global = describe_global(client, cache)?;
            if self.globals.last() != Some(&global) {
                self.globals.push(global);
            }
            self.composites = client
                .query(COMPOSITES, &[])?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
            let fresh = describe_relations(client, cache, None)?;
            let oids: BTreeSet<u32> = self.relations.keys().chain(fresh.keys()).copied().collect();
            (oids, fresh)
        } else if self.changed.is_empty() {
            return Ok(());
        } else {
            let oids: Vec<u32> = self.changed.iter().copied().collect();
            let fresh = describe_relations(client, cache, Some(&oids))?;
            (self.changed.clone(), fresh)
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
