use strata::Direction;

static MIGRATIONS: strata::Migrations = strata::embed_migrations!("tests/ui/folders/directives");

fn main() {
    let vacuum = MIGRATIONS.get(2).unwrap();
    assert!(vacuum.no_transaction(Direction::Up));
    assert!(!vacuum.no_transaction(Direction::Down));
    assert!(vacuum.irreversible());
    assert!(!MIGRATIONS.get(1).unwrap().irreversible());
}
