static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/name_mismatch");

fn main() {}
