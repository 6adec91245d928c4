// The expansion is a constant expression: it can initialise a `static`
// anywhere, including inside a function.
fn main() {
    static INNER: strata::Migrations = strata::embed_migrations!("tests/ui/folders/directives");
    assert_eq!(INNER.folder(), "tests/ui/folders/directives");
    assert_eq!(INNER.iter().map(|m| m.version()).collect::<Vec<_>>(), [1, 2]);
}
