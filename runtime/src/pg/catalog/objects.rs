//! The objects verify compares besides tables: those of one relation
//! (indexes, triggers, views, sequences, rules, policies), which verify
//! can describe for a few relations, and the others, of the database as a
//! whole (functions, types, schemas, extensions...).

use super::{NAME, USER_SCHEMA, own, sorted};

/// The objects of relations, in one query: (relation, kind, name,
/// definition, whether messages show the definition). `only`: a filter
/// on the relation `c` appended to each part (`""`: every relation).
pub(super) fn relation_objects_sql(only: &str) -> String {
    let view_options = sorted("c.reloptions");
    let index_options = sorted("i.reloptions");
    let relation = |kinds: &str| {
        format!(
            "{USER_SCHEMA} AND c.relkind IN ({kinds}) AND {}{only}",
            own("pg_class", "c.oid")
        )
    };
    let parts = [
        // Indexes, except those that back a constraint (compared there;
        // such an index depends on its constraint internally).
        format!(
            "SELECT c.oid, 'index', {NAME} || i.relname,
                    regexp_replace(pg_get_indexdef(i.oid), ' WITH [(][^)]*[)]', '')
                    || coalesce(' with ' || {index_options}, '')
                    || coalesce((SELECT ' statistics ' || string_agg(a.attnum || '=' || a.attstattarget, ', ' ORDER BY a.attnum)
                                 FROM pg_attribute a WHERE a.attrelid = i.oid AND coalesce(a.attstattarget, -1) >= 0), '')
                    || CASE WHEN x.indisclustered THEN ' (clustered)' ELSE '' END, true
             FROM pg_index x
             JOIN pg_class i ON i.oid = x.indexrelid
             JOIN pg_class c ON c.oid = x.indrelid
             JOIN pg_namespace n ON n.oid = i.relnamespace
             WHERE {}
               AND NOT EXISTS (SELECT 1 FROM pg_depend k WHERE k.classid = 'pg_class'::regclass AND k.objid = x.indexrelid
                                                          AND k.refclassid = 'pg_constraint'::regclass AND k.deptype = 'i')",
            relation("'r', 'p', 'm', 'f'")
        ),
        format!(
            "SELECT c.oid, 'trigger', t.tgname::text || ' on ' || {NAME} || c.relname,
                    pg_get_triggerdef(t.oid) || ' (enabled: ' || t.tgenabled::text || ')', false
             FROM pg_trigger t
             JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {} AND NOT t.tgisinternal",
            relation("'r', 'p', 'v', 'm', 'f'")
        ),
        format!(
            "SELECT c.oid, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,
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
            "SELECT c.oid, 'sequence', {NAME} || c.relname,
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
            "SELECT c.oid, 'rule', r.rulename::text || ' on ' || {NAME} || c.relname,
                    pg_get_ruledef(r.oid) || ' (enabled: ' || r.ev_enabled::text || ')', false
             FROM pg_rewrite r
             JOIN pg_class c ON c.oid = r.ev_class
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {} AND r.rulename <> '_RETURN'",
            relation("'r', 'p', 'v', 'm', 'f'")
        ),
        format!(
            "SELECT c.oid, 'policy', p.polname::text || ' on ' || {NAME} || c.relname,
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
    ];
    parts.join("\nUNION ALL\n")
}

/// Every object of the database as a whole, in one query: (kind, name,
/// definition, whether messages show the definition). `version`: the
/// server's (`server_version_num`), for catalog columns that came later.
pub(super) fn global_objects_sql(version: i32) -> String {
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
