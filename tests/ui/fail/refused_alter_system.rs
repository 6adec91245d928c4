static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/refused_alter_system");

fn main() {}
