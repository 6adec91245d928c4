//! The PostgreSQL side of `verify`: a scratch schema that is always dropped,
//! and the description of a schema from the catalog.

use std::time::{SystemTime, UNIX_EPOCH};

use postgres::Client;

use super::{Pg, quote_identifier};
use crate::report::VerifyReport;
use crate::verify::{Column, Object, Schema, fold};
use crate::{DEFAULT_LOCK_TIMEOUT, Migrations, Result};

impl Migrations {
    /// [`verify`](Migrations::verify) on PostgreSQL: every down file must
    /// restore the schema that its up file changed, compared in the catalog
    /// (tables and columns, constraints, indexes, triggers, views,
    /// functions, sequences and types).
    ///
    /// It works in a scratch schema that it creates in `client`'s database,
    /// puts first in the search path, and always drops afterwards (the
    /// search path is restored). Migrations that name another schema
    /// explicitly, or change the cluster (`CREATE DATABASE`, `ALTER
    /// SYSTEM`), reach beyond the scratch schema: verify such folders
    /// against a database of their own.
    pub fn verify_postgres(&self, client: &mut Client) -> Result<VerifyReport> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("strata_verify_{}_{nanos}", std::process::id());
        let path: String = client
            .query_one("SELECT current_setting('search_path')", &[])?
            .get(0);
        let schema = quote_identifier(&name);
        client.batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema}"
        ))?;
        let scratch = Scratch {
            client,
            schema,
            path,
        };
        let mut db = Pg::new(
            &mut *scratch.client,
            "strata_verify",
            DEFAULT_LOCK_TIMEOUT,
            None,
        );
        crate::verify::verify(self, &mut db)
    }
}

/// Drops the scratch schema and restores the search path on every way out.
struct Scratch<'a> {
    client: &'a mut Client,
    schema: String,
    path: String,
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
        let _ = self.client.batch_execute(&format!(
            "SET search_path TO {}; DROP SCHEMA {} CASCADE",
            self.path, self.schema
        ));
    }
}

/// The schema `current_schema()`, as verify compares it.
pub(super) fn describe(client: &mut Client) -> std::result::Result<Schema, postgres::Error> {
    let mut schema = Schema::default();
    let prefix = format!(
        "{}.",
        client
            .query_one("SELECT quote_ident(current_schema())", &[])?
            .get::<_, String>(0)
    );
    let unqualified = |text: String| fold(&text.replace(&prefix, ""));

    for row in client.query(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid)
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
         ORDER BY c.relname, a.attnum",
        &[],
    )? {
        let table: String = row.get(0);
        schema.tables.entry(table).or_default().columns.push(Column {
            name: row.get(1),
            declared_type: row.get(2),
            not_null: row.get(3),
            default: row.get::<_, Option<String>>(4).map(&unqualified),
            primary_key: 0,
        });
    }

    for row in client.query(
        "SELECT c.relname::text, con.conname::text, pg_get_constraintdef(con.oid)
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema()",
        &[],
    )? {
        let table: String = row.get(0);
        let name: String = row.get(1);
        let definition = unqualified(row.get(2));
        schema
            .tables
            .entry(table)
            .or_default()
            .constraints
            .insert(format!("constraint {name} {definition}"));
    }

    let objects = [
        // Indexes, except those that back a constraint.
        ("index", true, "SELECT i.relname::text, pg_get_indexdef(i.oid)
             FROM pg_index x
             JOIN pg_class i ON i.oid = x.indexrelid
             JOIN pg_namespace n ON n.oid = i.relnamespace
             WHERE n.nspname = current_schema()
               AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid)"),
        ("trigger", false, "SELECT t.tgname::text || ' on ' || c.relname::text, pg_get_triggerdef(t.oid)
             FROM pg_trigger t
             JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND NOT t.tgisinternal"),
        ("view", false, "SELECT c.relname::text, pg_get_viewdef(c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm')"),
        ("sequence", false, "SELECT c.relname::text, ''
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'S'"),
        ("function", false, "SELECT p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                    pg_get_functiondef(p.oid)
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p')"),
        ("type", true, "SELECT t.typname::text,
                    CASE t.typtype
                        WHEN 'e' THEN 'enum (' || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                                   FROM pg_enum e WHERE e.enumtypid = t.oid) || ')'
                        WHEN 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod)
                        ELSE 'composite'
                    END
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = current_schema()
               AND (t.typtype IN ('e', 'd')
                    OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))"),
    ];
    for (kind, shown, sql) in objects {
        for row in client.query(sql, &[])? {
            schema.objects.insert(
                (kind.to_owned(), row.get(0)),
                Object {
                    definition: unqualified(row.get::<_, Option<String>>(1).unwrap_or_default()),
                    shown,
                },
            );
        }
    }
    Ok(schema)
}
