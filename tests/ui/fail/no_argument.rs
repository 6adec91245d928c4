static MIGRATIONS: strata::Migrations = strata::embed_migrations!();

fn main() {}
