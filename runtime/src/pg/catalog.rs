//! The catalog of a PostgreSQL database as verify compares it: every
//! schema that is not the system's, read in prepared statements, for all
//! relations or for a few (see `changes`).

mod changes;
mod objects;

use std::collections::{BTreeMap, HashMap};

use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};

use super::PgClient;

pub(super) use changes::{Described, Writes, writes_catalog};

use crate::schema::{Column, Object, Schema, Table};

/// Schemas that are the system's, not the user's.
const USER_SCHEMA: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'";

/// An object's name as messages show it: bare in the schema `$1` (see
/// [`Prepared`]), else with its schema.
const NAME: &str = "CASE WHEN n.nspname = $1 THEN '' ELSE n.nspname::text || '.' END";

/// A text array as a sorted list (`reloptions` keep the order they were
/// set in, which does not matter).
fn sorted(array: &str) -> String {
    format!("(SELECT string_agg(o, ', ' ORDER BY o) FROM unnest({array}) AS o)")
}

/// Not part of an extension (which is compared as a whole).
fn own(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass AND x.objid = {oid} AND x.deptype = 'e')"
    )
}

/// White space folded to single spaces.
fn fold(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text of column `i`; NULL reads as empty.
fn text(row: &Row, i: usize) -> std::result::Result<String, tokio_postgres::Error> {
    Ok(row.try_get::<_, Option<String>>(i)?.unwrap_or_default())
}

/// What verify compares of one relation (its owner, for the objects of
/// relations): the table, if it is one, and its indexes, triggers, rules
/// and policies, or the view or sequence it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Owned {
    pub(super) table: Option<(String, Table)>,
    pub(super) objects: Vec<((String, String), Object)>,
}

/// The objects of the database as a whole, by (kind, name).
pub(super) type Global = BTreeMap<(String, String), Object>;

/// Every schema that is not the system's, as verify compares it.
pub(super) async fn describe(
    client: &mut impl PgClient,
    cache: &mut Prepared,
) -> std::result::Result<Schema, tokio_postgres::Error> {
    let relations = describe_relations(client, cache, None).await?;
    let global = describe_global(client, cache).await?;
    Ok(assemble(relations.values(), &global))
}

/// The relations that are not the system's, by oid: all of them, or
/// `only` those of these oids (a relation that is gone, or is the
/// system's, is left out).
pub(super) async fn describe_relations(
    client: &mut impl PgClient,
    cache: &mut Prepared,
    only: Option<&[u32]>,
) -> std::result::Result<HashMap<u32, Owned>, tokio_postgres::Error> {
    let (prepared, bare) = cache.prepare(client).await?;
    let bare: &(dyn ToSql + Sync) = bare;
    let (statements, params): (&[Statement], Vec<&(dyn ToSql + Sync)>) = match &only {
        None => (&prepared.every, vec![bare]),
        Some(oids) => (&prepared.only, vec![bare, oids]),
    };
    let mut relations: HashMap<u32, Owned> = HashMap::new();
    for row in client.query(&statements[0], &params).await? {
        let column = Column {
            name: text(&row, 2)?,
            properties: column_properties(&row)?,
        };
        table(&mut relations, &row)?.columns.push(column);
    }
    // A table's constraints, and what else about it changes behaviour, one
    // line each. Tables without columns appear here too.
    for row in client.query(&statements[1], &params).await? {
        let line = text(&row, 2)?.trim().to_owned();
        let table = table(&mut relations, &row)?;
        if !line.is_empty() {
            table.constraints.insert(line);
        }
    }
    for row in client.query(&statements[2], &params).await? {
        let owned = relations.entry(row.try_get(0)?).or_default();
        let (key, object) = object(&row, 1)?;
        owned.objects.push((key, object));
    }
    Ok(relations)
}

/// The table of a row of the first two statements (relation, name, ...).
fn table<'r>(
    relations: &'r mut HashMap<u32, Owned>,
    row: &Row,
) -> std::result::Result<&'r mut Table, tokio_postgres::Error> {
    let owned = relations.entry(row.try_get(0)?).or_default();
    let name = text(row, 1)?;
    Ok(&mut owned
        .table
        .get_or_insert_with(|| (name, Table::default()))
        .1)
}

/// The objects of the database as a whole: functions, types, schemas,
/// extensions...
pub(super) async fn describe_global(
    client: &mut impl PgClient,
    cache: &mut Prepared,
) -> std::result::Result<Global, tokio_postgres::Error> {
    let (prepared, bare) = cache.prepare(client).await?;
    let mut global = Global::new();
    for row in client.query(&prepared.global, &[bare]).await? {
        let (key, object) = object(&row, 0)?;
        global.insert(key, object);
    }
    Ok(global)
}

/// The schema of these relations and objects.
pub(super) fn assemble<'a>(relations: impl Iterator<Item = &'a Owned>, global: &Global) -> Schema {
    let mut schema = Schema {
        tables: BTreeMap::new(),
        objects: global.clone(),
    };
    for owned in relations {
        if let Some((name, table)) = &owned.table {
            schema.tables.insert(name.clone(), table.clone());
        }
        schema.objects.extend(owned.objects.iter().cloned());
    }
    schema
}

/// An object from the row's columns from `at`: kind, name, definition,
/// whether messages show it.
fn object(
    row: &Row,
    at: usize,
) -> std::result::Result<((String, String), Object), tokio_postgres::Error> {
    let exact = text(row, at + 2)?;
    Ok((
        (text(row, at)?, text(row, at + 1)?),
        Object {
            definition: fold(&exact),
            shown: row.try_get::<_, Option<bool>>(at + 3)?.unwrap_or(false),
            exact: Some(exact),
        },
    ))
}

/// A column's properties, from a row of the first statement: each one
/// the column has, as verify names it.
fn column_properties(
    row: &Row,
) -> std::result::Result<Vec<(&'static str, String)>, tokio_postgres::Error> {
    let mut properties = Vec::new();
    // Each in the column the first statement gives it; NULL: not there.
    let named = ["type", "not null", "default", "collation", "storage"];
    let more = [
        "compression",
        "statistics",
        "options",
        "foreign options",
        "generated",
    ];
    for (i, property) in named.into_iter().chain(more).enumerate() {
        if let Some(value) = row.try_get::<_, Option<String>>(i + 3)? {
            properties.push((property, value));
        }
    }
    Ok(properties)
}

/// The statements verify reads the catalog with, prepared once per
/// connection, and the schema whose objects messages name without it (the
/// current one when they were prepared, whatever schema a migration then
/// creates).
#[derive(Default)]
pub(super) struct Prepared {
    statements: Option<Statements>,
    bare: String,
}

/// See [`Prepared`].
pub(super) struct Statements {
    /// [`relation_queries`] for every relation.
    every: Vec<Statement>,
    /// [`relation_queries`] for the relations of the oids in `$2`.
    only: Vec<Statement>,
    global: Statement,
    pub(super) fingerprint: Statement,
    pub(super) touched: Statement,
}

impl Prepared {
    /// Forgets the statements, which a migration deallocated.
    pub(super) fn clear(&mut self) {
        self.statements = None;
    }

    /// The statements, prepared if they are not, and the schema `$1`.
    pub(super) async fn prepare(
        &mut self,
        client: &mut impl PgClient,
    ) -> std::result::Result<(&Statements, &String), tokio_postgres::Error> {
        let statements = match self.statements.take() {
            Some(statements) => statements,
            None => self.prepare_now(client).await?,
        };
        Ok((self.statements.insert(statements), &self.bare))
    }

    async fn prepare_now(
        &mut self,
        client: &mut impl PgClient,
    ) -> std::result::Result<Statements, tokio_postgres::Error> {
        let row = client
            .query_one(
                "SELECT current_setting('server_version_num')::int, coalesce(current_schema()::text, '')",
                &[],
            )
            .await?;
        let version: i32 = row.get(0);
        self.bare = row.get(1);
        let mut every = Vec::new();
        let mut only = Vec::new();
        let filter = " AND c.oid = ANY ($2::oid[])";
        for (all, some) in relation_queries(version, "")
            .into_iter()
            .zip(relation_queries(version, filter))
        {
            every.push(client.prepare(&all).await?);
            only.push(client.prepare(&some).await?);
        }
        Ok(Statements {
            every,
            only,
            global: client
                .prepare(&objects::global_objects_sql(version))
                .await?,
            fingerprint: client.prepare(changes::FINGERPRINT).await?,
            touched: client.prepare(changes::TOUCHED).await?,
        })
    }
}

/// The statements that describe relations, each row led by the relation
/// (`c.oid`) it belongs to: columns; constraints and table properties;
/// the objects of relations. `version`: the server's
/// (`server_version_num`), for catalog columns that came later; `only`: a
/// filter on the relation `c` (`""`: every relation).
fn relation_queries(version: i32, only: &str) -> [String; 3] {
    let tables = format!(
        "{USER_SCHEMA} AND c.relkind IN ('r', 'p', 'f') AND {}{only}",
        own("pg_class", "c.oid")
    );
    let index_options = sorted("i.reloptions");
    let table_options = sorted("c.reloptions");
    let toast_options = sorted("t.reloptions");
    let foreign_options = sorted("f.ftoptions");
    // The options a user can set on a column (a server may keep others
    // there of its own).
    let column_options = "(SELECT string_agg(o, ', ' ORDER BY o) FROM unnest(a.attoptions) AS o WHERE o LIKE 'n\\_distinct%')";
    let foreign_column_options = sorted("a.attfdwoptions");
    let compression = if version >= 140000 {
        "CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' ELSE '' END"
    } else {
        "''"
    };
    [
        // The type carries what makes the column behave: collation,
        // storage, compression, statistics target, identity, generation.
        format!(
            "SELECT c.oid, {NAME} || c.relname, a.attname::text,
                    format_type(a.atttypid, a.atttypmod),
                    CASE WHEN a.attnotnull THEN 'yes' END,
                    CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
                    CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(co.collname) END,
                    CASE WHEN a.attstorage <> t.typstorage
                         THEN CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'
                                                WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END END,
                    nullif({compression}, ''),
                    CASE WHEN coalesce(a.attstattarget, -1) >= 0 THEN a.attstattarget::text END,
                    {column_options},
                    {foreign_column_options},
                    CASE WHEN a.attgenerated = 's'
                              THEN '(' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
                         WHEN a.attidentity = 'a' THEN 'ALWAYS AS IDENTITY'
                         WHEN a.attidentity = 'd' THEN 'BY DEFAULT AS IDENTITY' END
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
            "SELECT c.oid, {NAME} || c.relname,
                    'constraint ' || con.conname::text || ' ' || pg_get_constraintdef(con.oid)
                    || coalesce((SELECT coalesce(' with ' || {index_options}, '')
                                        || CASE WHEN x.indisclustered THEN ' clustered' ELSE '' END
                                 FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid
                                 WHERE i.oid = con.conindid), '')
             FROM pg_constraint con
             JOIN pg_class c ON c.oid = con.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {tables}
             UNION ALL
             SELECT c.oid, {NAME} || c.relname,
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
                    || coalesce(' with ' || {table_options}, '')
                    || coalesce((SELECT ' toast with ' || {toast_options} FROM pg_class t WHERE t.oid = c.reltoastrelid), '')
                    || coalesce((SELECT ' options ' || {foreign_options}
                                 FROM pg_foreign_table f WHERE f.ftrelid = c.oid), '')
                    || coalesce((SELECT ' server ' || s.srvname FROM pg_foreign_table f
                                 JOIN pg_foreign_server s ON s.oid = f.ftserver WHERE f.ftrelid = c.oid), '')
                    || coalesce((SELECT ' internal triggers disabled: ' || count(*) FROM pg_trigger t
                                 WHERE t.tgrelid = c.oid AND t.tgisinternal AND t.tgenabled = 'D' HAVING count(*) > 0), '')
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {tables}"
        ),
        objects::relation_objects_sql(only),
    ]
}
