static MIGRATIONS: strata::Migrations = strata::embed_migrations!("migrations", "more");

fn main() {}
