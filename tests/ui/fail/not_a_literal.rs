const FOLDER: &str = "migrations";

static MIGRATIONS: strata::Migrations = strata::embed_migrations!(FOLDER);

fn main() {}
