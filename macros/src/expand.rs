//! Parse the argument, check the folder with the runtime's scanner, and
//! emit a static array of `Migration`s: data, not code.

use std::path::{Path, PathBuf};

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use strata_runtime::Migration;
use strata_runtime::source::{self, Folder, FolderMigration};
use syn::LitStr;

/// Set by strata's own UI tests: trybuild compiles them in a crate of its
/// own, whose `CARGO_MANIFEST_DIR` does not hold the fixture folders.
const MANIFEST_DIR_OVERRIDE: &str = "STRATA_MANIFEST_DIR_OVERRIDE";

pub fn embed_migrations(input: TokenStream) -> syn::Result<TokenStream> {
    let literal = parse(input)?;
    let written = literal.value();
    if Path::new(&written).is_absolute() {
        return Err(syn::Error::new(
            literal.span(),
            format!(
                "the migrations folder must be relative to the crate's Cargo.toml, not absolute (write it as `embed_migrations!(\"migrations\")`; {written:?} is absolute)"
            ),
        ));
    }
    let base = manifest_dir(&literal)?;
    let folder = match source::scan(&base, &written, "the directory of the crate's Cargo.toml") {
        Ok(folder) => folder,
        Err(problems) => return Ok(report(&literal, &problems)),
    };
    Ok(emit(&folder))
}

/// Every problem as its own compile error, then a placeholder value so
/// that the caller's `static` gets no second, confusing type error.
fn report(literal: &LitStr, problems: &[source::Problem]) -> TokenStream {
    let errors = problems
        .iter()
        .map(|problem| syn::Error::new(literal.span(), problem).into_compile_error());
    quote! {
        {
            #(#errors)*
            ::strata::__private::Migrations::__embedded("", &[])
        }
    }
}

fn parse(input: TokenStream) -> syn::Result<LitStr> {
    const USAGE: &str = "expected the migrations folder as a string literal, relative to the crate's Cargo.toml: `embed_migrations!(\"migrations\")`";
    if input.is_empty() {
        return Err(syn::Error::new(Span::call_site(), USAGE));
    }
    syn::parse2::<LitStr>(input).map_err(|e| syn::Error::new(e.span(), USAGE))
}

fn manifest_dir(literal: &LitStr) -> syn::Result<PathBuf> {
    std::env::var_os(MANIFEST_DIR_OVERRIDE)
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .ok_or_else(|| {
            syn::Error::new(
                literal.span(),
                "CARGO_MANIFEST_DIR is not set: build with cargo, which sets it",
            )
        })
}

fn emit(folder: &Folder) -> TokenStream {
    let count = folder.migrations.len();
    let entries = folder.migrations.iter().map(entry);
    let shown = &folder.shown;
    quote! {
        {
            static __STRATA_EMBEDDED: [::strata::__private::Migration; #count] = [#(#entries),*];
            ::strata::__private::Migrations::__embedded(#shown, &__STRATA_EMBEDDED)
        }
    }
}

fn entry(m: &FolderMigration) -> TokenStream {
    let version = Literal::u64_suffixed(m.version);
    let stem = &m.stem;
    let up = path_literal(&m.up.path);
    let down = path_literal(&m.down.path);
    let checksum = Literal::byte_string(m.checksum.as_bytes());
    let chain = Literal::byte_string(m.chain.as_bytes());
    let flags = Literal::u8_suffixed(Migration::__flags(m));
    quote! {
        ::strata::__private::Migration::__embedded(
            #version,
            #stem,
            ::core::include_str!(#up),
            ::core::include_str!(#down),
            *#checksum,
            *#chain,
            #flags,
        )
    }
}

fn path_literal(path: &Path) -> Literal {
    Literal::string(&path.to_string_lossy())
}
