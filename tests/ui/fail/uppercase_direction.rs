static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/uppercase_direction");

fn main() {}
