//! Compile-time checks of `embed_migrations!`: one mistake per file under
//! `tests/ui/fail`, with the compiler's output in the `.stderr` beside it.

#[test]
fn ui() {
    // trybuild compiles each case in a crate of its own, elsewhere; the
    // macro resolves the fixture folders against this override instead.
    // SAFETY: this test binary has this one test, so no other thread reads
    // or writes the environment while it changes.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("STRATA_MANIFEST_DIR_OVERRIDE", env!("CARGO_MANIFEST_DIR"));
    }
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
