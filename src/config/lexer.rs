//! keepalived.conf lexing: comments, quoting, braces, `include`, and keepalived's parameters
//! (`@id` lines, `$NAME=value`, `${NAME}`, `~SEQ`, `~LST`: see params.rs).
//!
//! The output is a stream of items, each with the file and line it came from, handed to the
//! parser's [`Tree`] as they are found (a list of the whole file's items was the parse's biggest
//! allocation). As keepalived does, every `{` and `}` outside quotes is an item of its own, so
//! `unicast_peer { 192.0.2.2 }` becomes `unicast_peer`, `{`, `192.0.2.2`, `}`. `include` is
//! textual: the lines of the included files take its place (sorted glob order), so an include
//! may sit anywhere, also inside a block.
//! Lines a parameter or a sequence generates carry the place of the line that generated them.

mod params;

use super::model::{ConfigError, ConfigErrorDetail, ConfigErrorKind, Location};
use super::parser::{Node, Tree};
// Reading files and listing directories are syscalls: they live in the io edge.
use crate::io::fs;
use params::{Params, Repeat};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Deepest chain of includes (the main file is depth 0).
const MAX_INCLUDE_DEPTH: usize = 8;
/// Longest include pattern: Linux's PATH_MAX. Every path it expands to is shorter, and the
/// brace expansion copies it once per group and path.
const MAX_INCLUDE_PATTERN: usize = 4096;
/// Most paths the `{a,b}` groups of one include pattern may expand to. glob(3) has no limit:
/// 24 groups of two would build 2^24 paths before the file system is looked at.
const MAX_BRACE_PATHS: usize = 1024;
/// Most `{a,b}` groups one expanded path goes through (`{a{b{c,},},}` nests them): bounds
/// the recursion and the copies of the pattern it makes.
const MAX_BRACE_GROUPS: usize = 32;
/// Most directory entries the include globs of one load may examine: `include /*/*/*/*/*`
/// would otherwise walk the whole file system.
const MAX_INCLUDE_DIR_ENTRIES: usize = 100_000;
/// Most files the includes of one load may read: a file that includes another twice, nested
/// eight deep, reads it 2^8 times without ever making a loop.
const MAX_INCLUDED_FILES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// The words of (part of) a line, quotes removed.
    Words(Vec<String>),
    Open,
    Close,
}

pub(crate) fn invalid(at: &Location, keyword: Option<&str>, message: String) -> ConfigError {
    ConfigErrorDetail {
        kind: ConfigErrorKind::Invalid,
        at: Some(at.clone()),
        keyword: keyword.map(str::to_string),
        message,
    }
    .into()
}

/// Reads and lexes the main file into statements; a file that cannot be read is `FileMissing`.
pub(crate) fn lex_file(path: &Path) -> Result<Vec<Node>, ConfigError> {
    let bytes = fs::read_file(path).map_err(|e| {
        ConfigError::from(ConfigErrorDetail {
            kind: ConfigErrorKind::FileMissing,
            at: None,
            keyword: None,
            message: format!("cannot read configuration file {}: {e}", path.display()),
        })
    })?;
    let mut lexer = Lexer::new(default_config_id());
    lexer.enter(path);
    lexer.text(&String::from_utf8_lossy(&bytes), path)?;
    lexer.out.finish()
}

/// Lexes `text` as if it were the file `file` (includes are relative to its directory).
pub(crate) fn lex_str(text: &str, file: &Path) -> Result<Vec<Node>, ConfigError> {
    lex_str_as(text, file, default_config_id())
}

/// [`lex_str`] with the given config id (what `@ID` lines and `${_INSTANCE}` see).
pub(crate) fn lex_str_as(
    text: &str,
    file: &Path,
    config_id: Option<String>,
) -> Result<Vec<Node>, ConfigError> {
    let mut lexer = Lexer::new(config_id);
    lexer.enter(file);
    lexer.text(text, file)?;
    lexer.out.finish()
}

/// keepalived's config id when `-i` does not set one: the host name up to its first '.'.
pub(crate) fn default_config_id() -> Option<String> {
    let host = fs::host_name()?;
    Some(host.split('.').next().unwrap_or_default().to_string())
}

struct Lexer {
    out: Tree,
    /// The files being read, outermost first (canonical where possible), to find include loops.
    stack: Vec<PathBuf>,
    /// What is left of [`MAX_INCLUDE_DIR_ENTRIES`] and [`MAX_INCLUDED_FILES`].
    dir_entries_left: usize,
    files_left: usize,
    params: Params,
}

impl Lexer {
    fn new(config_id: Option<String>) -> Lexer {
        Lexer {
            out: Tree::new(),
            stack: Vec::new(),
            dir_entries_left: MAX_INCLUDE_DIR_ENTRIES,
            files_left: MAX_INCLUDED_FILES,
            params: Params::new(config_id),
        }
    }

    fn enter(&mut self, path: &Path) {
        self.stack.push(fs::canonical(path));
    }

    fn text(&mut self, text: &str, file: &Path) -> Result<(), ConfigError> {
        let shared: Arc<Path> = file.into();
        // split('\n') rather than lines(): a '\r' left at the end is blanks to decomment's
        // callers (trim, split_whitespace), and lines() costs 0.3 KB more.
        for (n, raw) in text.split('\n').enumerate() {
            let at = Location {
                file: shared.clone(),
                line: n as u32 + 1,
            };
            // As keepalived's, an empty line ends a multi-line definition, a comment does not.
            if self.params.collecting() && raw.trim_end_matches('\r').is_empty() {
                self.params.end_definition();
                continue;
            }
            let line = decomment(raw, &at)?;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if self.params.collecting() {
                self.params.collect(line);
                continue;
            }
            self.line(line.to_string(), file, &at, 0)?;
        }
        // A multi-line definition does not go on into the including file.
        self.params.end_definition();
        Ok(())
    }

    /// One decommented line through keepalived's steps (lib/parser.c `read_line`): `@ID`,
    /// `$NAME=value`, `~SEQ`/`~LST`, substitution (and these again while a substitution leaves
    /// a `@` or `$`), then `include` or words. The lines a repeat or a multi-line parameter
    /// generates come back here, `depth` levels deep.
    fn line(
        &mut self,
        mut line: String,
        file: &Path,
        at: &Location,
        depth: usize,
    ) -> Result<(), ConfigError> {
        let err = |m: String| invalid(at, None, m);
        if depth > params::MAX_NESTING {
            return Err(err(format!(
                "parameters and sequences nested deeper than {} levels",
                params::MAX_NESTING
            )));
        }
        // The other lines of the multi-line parameters this line uses: they follow it.
        let mut rest = Vec::new();
        let mut budget = params::MAX_SUBSTITUTIONS;
        loop {
            if line.starts_with('@') {
                match self.params.conditional(&line) {
                    Some(kept) => line = kept.to_string(),
                    None => line.clear(),
                }
            }
            if self.params.define(&line).map_err(err)? {
                line.clear();
            }
            if line.starts_with("~SEQ") || line.starts_with("~LST") {
                let repeat = Repeat::parse(&line, &mut self.params, file, &mut budget)
                    .map_err(|m| invalid(at, Some(&line[..4]), m))?;
                self.params.take_lines(repeat.len()).map_err(err)?;
                for i in 0..repeat.len() {
                    for (var, value) in repeat.vars.iter().zip(repeat.row(i)) {
                        self.params.set(var, &value).map_err(err)?;
                    }
                    self.line(repeat.text.clone(), file, at, depth + 1)?;
                }
                line.clear();
            }
            if line.starts_with('~') || !line.contains('$') {
                break;
            }
            let changed = self
                .params
                .substitute(&mut line, &mut rest, file, &mut budget)
                .map_err(err)?;
            if !changed {
                break;
            }
            line = decomment(&line, at)?.trim().to_string();
            if !line.starts_with('@') && !line.contains('$') {
                break;
            }
        }
        if depth > 0 {
            self.params.take_bytes(line.len()).map_err(err)?;
        }
        if let Some(pattern) = include_pattern(&line) {
            self.include(pattern, file, at)?;
        } else if !line.is_empty() {
            self.words(&line, at)?;
        }
        self.params.take_lines(rest.len()).map_err(err)?;
        for more in rest {
            self.line(more, file, at, depth + 1)?;
        }
        Ok(())
    }

    /// Splits a decommented line into words and braces.
    fn words(&mut self, line: &str, at: &Location) -> Result<(), ConfigError> {
        let mut words = Vec::new();
        let mut chars = line.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
            } else if c == '{' || c == '}' {
                chars.next();
                if !words.is_empty() {
                    self.out.push(at, Item::Words(core::mem::take(&mut words)));
                }
                self.out
                    .push(at, if c == '{' { Item::Open } else { Item::Close });
            } else if c == '"' {
                // A quoted word runs to the next quote, spaces and braces included.
                chars.next();
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => word.push(c),
                        None => {
                            return Err(invalid(
                                at,
                                None,
                                format!("unterminated quote in '{line}'"),
                            ))
                        }
                    }
                }
                words.push(word);
            } else {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '"' | '{' | '}') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                words.push(word);
            }
        }
        if !words.is_empty() {
            self.out.push(at, Item::Words(words));
        }
        Ok(())
    }

    fn include(&mut self, pattern: &str, file: &Path, at: &Location) -> Result<(), ConfigError> {
        let err = |m: String| invalid(at, Some("include"), m);
        if self.stack.len() > MAX_INCLUDE_DEPTH {
            return Err(err(format!(
                "includes nested deeper than {MAX_INCLUDE_DEPTH} levels at '{pattern}'"
            )));
        }
        if pattern.len() > MAX_INCLUDE_PATTERN {
            return Err(err(format!(
                "pattern longer than {MAX_INCLUDE_PATTERN} bytes"
            )));
        }
        let base = file.parent().unwrap_or(Path::new(""));
        let paths = expand(pattern, base, &mut self.dir_entries_left).map_err(err)?;
        if paths.is_empty() {
            // keepalived logs this and carries on.
            warn!("{at}: include: no configuration file matches '{pattern}'");
        }
        for path in paths {
            match fs::is_plain_file(&path) {
                Ok(true) => {}
                Ok(false) => {
                    warn!(
                        "{at}: include: {} is not a regular non-executable file - skipping",
                        path.display()
                    );
                    continue;
                }
                Err(e) => {
                    warn!("{at}: include: {}: {e} - skipping", path.display());
                    continue;
                }
            }
            let canonical = fs::canonical(&path);
            if self.stack.contains(&canonical) {
                return Err(err(format!(
                    "include loop: {} is already being read",
                    path.display()
                )));
            }
            if self.files_left == 0 {
                return Err(err(format!(
                    "more than {MAX_INCLUDED_FILES} included files in all at '{pattern}'"
                )));
            }
            self.files_left -= 1;
            let bytes = match fs::read_file(&path) {
                Ok(b) => b,
                Err(e) => {
                    warn!(
                        "{at}: include: cannot read {}: {e} - skipping",
                        path.display()
                    );
                    continue;
                }
            };
            self.stack.push(canonical);
            self.text(&String::from_utf8_lossy(&bytes), &path)?;
            self.stack.pop();
        }
        Ok(())
    }
}

/// Removes a `#` or `!` comment (outside quotes) and the `\` of `\#` and `\!`.
fn decomment(raw: &str, at: &Location) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(raw.len());
    let mut quoted = false;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if !quoted && matches!(chars.peek(), Some('#' | '!')) => {
                out.extend(chars.next());
                continue;
            }
            '#' | '!' if !quoted => break,
            _ => {}
        }
        out.push(c);
    }
    if quoted {
        return Err(invalid(
            at,
            raw.split_whitespace().next(),
            format!("unterminated quote in '{}'", raw.trim()),
        ));
    }
    Ok(out)
}

/// `include PATTERN` (also keepalived's `includer`, `includem`, ... variants): the pattern.
fn include_pattern(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("include")?;
    let rest = match rest.chars().next()? {
        c if c.is_whitespace() => rest,
        'r' | 'm' | 'w' | 'b' | 'a' if rest[1..].starts_with([' ', '\t']) => &rest[1..],
        _ => return None,
    };
    Some(rest.trim())
}

/// The existing paths a shell-style pattern names, sorted. `{a,b}` alternatives are expanded
/// first, then `*`, `?` and `[...]` in any component are matched against directory entries,
/// taking what they read from `entries_left`. A relative pattern is taken from `base`.
/// Err: the message saying which limit the pattern exceeds.
pub(crate) fn expand(
    pattern: &str,
    base: &Path,
    entries_left: &mut usize,
) -> Result<Vec<PathBuf>, String> {
    let alternatives = brace_alternatives(pattern)?;
    let mut found = Vec::new();
    for alt in alternatives {
        let mut current = vec![base.to_path_buf()];
        for comp in Path::new(&alt).components() {
            let mut next = Vec::new();
            for dir in &current {
                match comp {
                    Component::RootDir => next.push(PathBuf::from("/")),
                    Component::Normal(name) => {
                        let name = name.to_string_lossy();
                        if !name.contains(['*', '?', '[']) {
                            next.push(dir.join(unescape(&name)));
                            continue;
                        }
                        let dir_or_dot = if dir.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            dir.as_path()
                        };
                        let names = fs::dir_entries(dir_or_dot, *entries_left + 1);
                        if names.len() > *entries_left {
                            return Err(format!(
                                "'{pattern}' examines more than \
                                 {MAX_INCLUDE_DIR_ENTRIES} directory entries in all"
                            ));
                        }
                        *entries_left -= names.len();
                        for entry_name in names {
                            if glob_match(&name, &entry_name.to_string_lossy()) {
                                next.push(dir.join(entry_name));
                            }
                        }
                    }
                    other => next.push(dir.join(other.as_os_str())),
                }
            }
            current = next;
        }
        found.extend(current.into_iter().filter(|p| p.exists()));
    }
    // Insertion sort (stable, like `sort`): a handful of paths, and far less code than
    // the standard library's sort.
    for i in 1..found.len() {
        let mut j = i;
        while j > 0 && found[j - 1].components().gt(found[j].components()) {
            found.swap(j - 1, j);
            j -= 1;
        }
    }
    found.dedup();
    Ok(found)
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

/// The paths `{a,b,...}` groups expand to, as glob's GLOB_BRACE, within [`MAX_BRACE_PATHS`]
/// and [`MAX_BRACE_GROUPS`]; Err says which limit the pattern exceeds.
fn brace_alternatives(pattern: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    braces_into(pattern, &mut out, 0).map_err(|limit| format!("'{pattern}' {limit}"))?;
    Ok(out)
}

/// Expands the first group with a comma and recurses on each alternative (`depth` groups
/// already expanded on the way here). Err: the limit reached.
fn braces_into(pattern: &str, out: &mut Vec<String>, depth: usize) -> Result<(), String> {
    if out.len() >= MAX_BRACE_PATHS {
        return Err(format!("expands to more than {MAX_BRACE_PATHS} paths"));
    }
    if depth > MAX_BRACE_GROUPS {
        return Err(format!(
            "has more than {MAX_BRACE_GROUPS} {{a,b}} groups in a path"
        ));
    }
    let b = pattern.as_bytes();
    let Some(open) = b.iter().position(|&c| c == b'{') else {
        out.push(pattern.to_string());
        return Ok(());
    };
    let mut level = 0;
    let mut commas = Vec::new();
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => level += 1,
            b',' if level == 1 => commas.push(i),
            b'}' => {
                level -= 1;
                if level == 0 {
                    if commas.is_empty() {
                        break;
                    }
                    let (head, tail) = (&pattern[..open], &pattern[i + 1..]);
                    commas.push(i);
                    let mut start = open + 1;
                    for end in commas {
                        let alt = format!("{head}{}{tail}", &pattern[start..end]);
                        braces_into(&alt, out, depth + 1)?;
                        start = end + 1;
                    }
                    return Ok(());
                }
            }
            _ => {}
        }
    }
    out.push(pattern.to_string());
    Ok(())
}

/// Shell pattern match of one file name: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`/`[^x]`, `\x`.
/// A leading `.` in the name must be matched by a literal `.` (as glob(3) without GLOB_PERIOD).
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    if n.first() == Some(&'.') && p.first() != Some(&'.') {
        return false;
    }
    // Iterative matching with one backtrack point for the last `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => match class_match(&p[pi..], n[ni]) {
                Some((true, len)) => Some(len),
                Some((false, _)) => None,
                None => (n[ni] == '[').then_some(1),
            },
            Some('\\') if pi + 1 < p.len() => (p[pi + 1] == n[ni]).then_some(2),
            Some(&c) => (c == n[ni]).then_some(1),
            None => None,
        };
        match (step, star) {
            (Some(len), _) => {
                pi += len;
                ni += 1;
            }
            (None, Some((sp, sn))) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            (None, None) => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class at the start of `p` (which begins with `[`): whether it
/// matched and the class's length, or None if the class is not closed.
fn class_match(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&hi| hi != ']') {
            matched |= lo <= c && c <= p[i + 2];
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
}

/// The items the lexer handed to the tree, with the line of each statement (0 for braces).
#[cfg(test)]
pub(crate) fn lex_items(
    text: &str,
    file: &Path,
    config_id: Option<String>,
) -> Result<Vec<(u32, Item)>, ConfigError> {
    fn flatten(nodes: Vec<Node>, out: &mut Vec<(u32, Item)>) {
        for node in nodes {
            out.push((node.at.line, Item::Words(node.words.into_vec())));
            if let Some(block) = node.block {
                out.push((0, Item::Open));
                flatten(block.into_vec(), out);
                out.push((0, Item::Close));
            }
        }
    }
    let mut out = Vec::new();
    flatten(lex_str_as(text, file, config_id)?, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(text: &str) -> Vec<Item> {
        lex_items(text, Path::new("/nonexistent/k.conf"), default_config_id())
            .unwrap()
            .into_iter()
            .map(|(_, item)| item)
            .collect()
    }

    fn w(words: &[&str]) -> Item {
        Item::Words(words.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn braces_split_lines_and_comments_are_removed() {
        assert_eq!(
            lex("unicast_peer { 192.0.2.2 } # peers\n! whole line\nstate MASTER!x\n"),
            vec![
                w(&["unicast_peer"]),
                Item::Open,
                w(&["192.0.2.2"]),
                Item::Close,
                w(&["state", "MASTER"]),
            ]
        );
        assert_eq!(
            lex("a{b}c"),
            vec![w(&["a"]), Item::Open, w(&["b"]), Item::Close, w(&["c"])]
        );
    }

    #[test]
    fn quotes_keep_spaces_braces_and_comment_characters() {
        assert_eq!(
            lex("notify \"/bin/x a {b} #c !d\" tail\nauth_pass \\#x\n"),
            vec![
                w(&["notify", "/bin/x a {b} #c !d", "tail"]),
                w(&["auth_pass", "#x"])
            ]
        );
        assert_eq!(lex("x \"\"\n"), vec![w(&["x", ""])]);
        let e = lex_str("a\nnotify \"/bin/x\n", Path::new("/t/q.conf")).unwrap_err();
        assert_eq!(e.at.as_ref().unwrap().to_string(), "/t/q.conf:2");
        assert!(e.message.contains("unterminated quote"), "{}", e.message);
    }

    #[test]
    fn line_numbers_and_conditionals() {
        let l = lex_items(
            "\n\n  x 1\r\n@node1 y 2\n@^node1 z 3\n@^node2 w 4\n@node2 v 5\n@node2\n",
            Path::new("/t/a.conf"),
            Some("node2".into()),
        )
        .unwrap();
        let got: Vec<(u32, &Item)> = l.iter().map(|(line, item)| (*line, item)).collect();
        assert_eq!(
            got,
            [
                (3, &w(&["x", "1"])),
                (5, &w(&["z", "3"])),
                (7, &w(&["v", "5"]))
            ]
        );
    }

    #[test]
    fn glob_patterns() {
        assert!(glob_match("*.conf", "a.conf"));
        assert!(!glob_match("*.conf", "a.conf.bak"));
        assert!(!glob_match("*.conf", ".hidden.conf"));
        assert!(glob_match(".*.conf", ".hidden.conf"));
        assert!(glob_match("vrrp-?.conf", "vrrp-1.conf"));
        assert!(!glob_match("vrrp-?.conf", "vrrp-12.conf"));
        assert!(glob_match("vrrp-[0-9][a-c].conf", "vrrp-7b.conf"));
        assert!(!glob_match("vrrp-[0-9][a-c].conf", "vrrp-7d.conf"));
        assert!(glob_match("x[!a]", "xb"));
        assert!(!glob_match("x[!a]", "xa"));
        assert!(glob_match("x[]a]", "x]"));
        assert!(glob_match("a*b*c", "aXXbYYbc"));
        assert!(glob_match("a\\*", "a*"));
        assert!(!glob_match("a\\*", "ab"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("[", "["));
        assert_eq!(
            brace_alternatives("/d/{a,b{1,2},}x{y,z}").unwrap(),
            ["/d/axy", "/d/axz", "/d/b1xy", "/d/b1xz", "/d/b2xy", "/d/b2xz", "/d/xy", "/d/xz"]
        );
        assert_eq!(brace_alternatives("/d/{a}.conf").unwrap(), ["/d/{a}.conf"]);
    }

    #[test]
    fn include_keyword_variants() {
        assert_eq!(
            include_pattern("include  /etc/k/*.conf "),
            Some("/etc/k/*.conf")
        );
        assert_eq!(include_pattern("includer x"), Some("x"));
        assert_eq!(include_pattern("include_x y"), None);
        assert_eq!(include_pattern("includes"), None);
    }
}
