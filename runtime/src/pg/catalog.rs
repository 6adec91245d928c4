//! The catalog of a PostgreSQL database as verify compares it: every
//! schema that is not the system's, read in three prepared statements.

use postgres::{Client, Row, Statement};

use crate::verify::{Column, Object, Schema};

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
fn text(row: &Row, i: usize) -> std::result::Result<String, postgres::Error> {
    Ok(row.try_get::<_, Option<String>>(i)?.unwrap_or_default())
}

/// Every schema that is not the system's, as verify compares it. Its
/// three statements are prepared once, in `cache`.
pub(super) fn describe(
    client: &mut Client,
    cache: &mut Prepared,
) -> std::result::Result<Schema, postgres::Error> {
    if cache.statements.is_empty() {
        let row = client.query_one(
            "SELECT current_setting('server_version_num')::int, coalesce(current_schema()::text, '')",
            &[],
        )?;
        let version: i32 = row.get(0);
        cache.bare = row.get(1);
        for sql in queries(version) {
            cache.statements.push(client.prepare(&sql)?);
        }
    }
    let bare: &(dyn postgres::types::ToSql + Sync) = &cache.bare;
    let mut schema = Schema::default();

    for row in client.query(&cache.statements[0], &[bare])? {
        schema
            .tables
            .entry(text(&row, 0)?)
            .or_default()
            .columns
            .push(Column {
                name: text(&row, 1)?,
                properties: column_properties(&row)?,
            });
    }

    // A table's constraints, and what else about it changes behaviour, one
    // line each. Tables without columns appear here too.
    for row in client.query(&cache.statements[1], &[bare])? {
        let table = schema.tables.entry(text(&row, 0)?).or_default();
        let line = text(&row, 1)?.trim().to_owned();
        if !line.is_empty() {
            table.constraints.insert(line);
        }
    }

    for row in client.query(&cache.statements[2], &[bare])? {
        let kind = text(&row, 0)?;
        let name = text(&row, 1)?;
        let exact = text(&row, 2)?;
        schema.objects.insert(
            (kind, name),
            Object {
                definition: fold(&exact),
                shown: row.try_get::<_, Option<bool>>(3)?.unwrap_or(false),
                exact: Some(exact),
            },
        );
    }
    Ok(schema)
}

/// A column's properties, from a row of the first statement: each one
/// the column has, as verify names it.
fn column_properties(
    row: &Row,
) -> std::result::Result<Vec<(&'static str, String)>, postgres::Error> {
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
        if let Some(value) = row.try_get::<_, Option<String>>(i + 2)? {
            properties.push((property, value));
        }
    }
    Ok(properties)
}

/// The statements of [`describe`], prepared once per connection, and the
/// schema whose objects messages name without it (the current one when
/// they were prepared, whatever schema a migration then creates).
#[derive(Default)]
pub(super) struct Prepared {
    statements: Vec<Statement>,
    bare: String,
}

impl Prepared {
    /// Forgets the statements, which a migration deallocated.
    pub(super) fn clear(&mut self) {
        self.statements.clear();
    }
}

/// The statements of [`describe`]: columns; constraints and table
/// properties; every other object. `version`: the server's
/// (`server_version_num`), for catalog columns that came later.
fn queries(version: i32) -> [String; 3] {
    let tables = format!(
        "{USER_SCHEMA} AND c.relkind IN ('r', 'p', 'f') AND {}",
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
            "SELECT {NAME} || c.relname, a.attname::text,
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
            "SELECT {NAME} || c.relname,
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
        objects_sql(version),
    ]
}

/// Everything else, in one query: (kind, name, definition, whether
/// messages show the definition).
fn objects_sql(version: i32) -> String {
    let view_options = sorted("c.reloptions");
    let index_options = sorted("i.reloptions");
    let statistics_target = if version >= 130000 {
        " || CASE WHEN coalesce(s.stxstattarget, -1) >= 0 THEN ' statistics ' || s.stxstattarget ELSE '' END"
    } else {
        ""
    };
    // Column lists and row filters (15), publishing through the root (13).
    let publication_filter = if version >= 150000 {
        " || coalesce(' (' || (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a
                               WHERE a.attrelid = r.prrelid AND a.attnum = ANY (r.prattrs)) || ')', '')
          || coalesce(' where ' || pg_get_expr(r.prqual, r.prrelid), '')"
    } else {
        ""
    };
    let via_root = if version >= 130000 {
        "CASE WHEN p.pubviaroot THEN ' via root' ELSE '' END"
    } else {
        "''"
    };
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
                    regexp_replace(pg_get_indexdef(i.oid), ' WITH [(][^)]*[)]', '')
                    || coalesce(' with ' || {index_options}, '')
                    || coalesce((SELECT ' statistics ' || string_agg(a.attnum || '=' || a.attstattarget, ', ' ORDER BY a.attnum)
                                 FROM pg_attribute a WHERE a.attrelid = i.oid AND coalesce(a.attstattarget, -1) >= 0), '')
                    || CASE WHEN x.indisclustered THEN ' (clustered)' ELSE '' END, true
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
                    || coalesce(' with ' || {view_options}, '')
                    || CASE WHEN c.relispopulated THEN '' ELSE ' (not populated)' END
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
                    || CASE WHEN c.relpersistence = 'u' THEN ' unlogged' ELSE '' END
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
            "SELECT 'statistics', {NAME} || s.stxname, pg_get_statisticsobjdef(s.oid){statistics_target}, true
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
                    (SELECT p.prsname::text FROM pg_ts_parser p WHERE p.oid = f.cfgparser) || ' '
                    || coalesce((SELECT string_agg(coalesce((SELECT k.alias FROM ts_token_type(f.cfgparser) AS k
                                                             WHERE k.tokid = m.maptokentype), m.maptokentype::text)
                                                   || ' ' || m.mapdict::regdictionary::text, ', '
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
                    o.oprcode::text || ' commutator ' || o.oprcom::regoper::text || ' negator ' || o.oprnegate::regoper::text
                    || ' restrict ' || o.oprrest::text || ' join ' || o.oprjoin::text
                    || CASE WHEN o.oprcanhash THEN ' hashes' ELSE '' END || CASE WHEN o.oprcanmerge THEN ' merges' ELSE '' END,
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
                         ELSE coalesce((SELECT string_agg(r.prrelid::regclass::text{publication_filter}, ', ' ORDER BY 1)
                                        FROM pg_publication_rel r WHERE r.prpubid = p.oid), '') END
                    || ' publishes ' || concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                                                  CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END)
                    || {via_root},
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
        "SELECT 'database setting', coalesce(r.rolname::text, 'every role'), (SELECT string_agg(o, ', ' ORDER BY o) FROM unnest(s.setconfig) AS o), true
         FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
         WHERE s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())"
            .to_owned(),
    ];
    parts.join("\nUNION ALL\n")
}
