static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/no_version");

fn main() {}
