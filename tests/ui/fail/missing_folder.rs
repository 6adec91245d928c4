static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/does_not_exist");

fn main() {}
