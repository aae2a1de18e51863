//! keepalived.conf: lexer (includes, comments, quoting), keyword tables, and the typed
//! immutable [`Config`].

mod model;

pub use model::*;
