//! keepalived.conf: lexer (includes, comments, quoting), keyword tables, and the typed
//! immutable [`Config`].
//!
//! [`load`] reads a file; [`parse_str`] parses text as if it were that file (for tests).
//! Keywords keepalived knows but we do not act on yet, and words it does not know, are logged
//! as warnings with file:line and recorded in [`Config::unhandled`]; they never fail the load.

mod lexer;
mod model;
mod parser;
#[cfg(test)]
mod tests;

pub use model::*;

use std::path::Path;

/// Reads `path` (unreadable: [`ConfigErrorKind::FileMissing`], exit 4), resolves `include`s
/// relative to the including file's directory, and parses ([`ConfigErrorKind::Invalid`], exit 5).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    parser::parse(lexer::lex_file(path)?)
}

/// Parses `text` as the contents of `file`; `include` is resolved relative to its directory.
pub fn parse_str(text: &str, file: &Path) -> Result<Config, ConfigError> {
    parser::parse(lexer::lex_str(text, file)?)
}
