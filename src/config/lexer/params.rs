//! keepalived's parameters (keepalived.conf(5) "Conditional configuration", "Parameter
//! substitution", "Sequence blocks", "List blocks"; lib/parser.c `read_line` in 2.2.7):
//! `@ID` lines, `$NAME=value` definitions (a trailing `\` continues one on the next line),
//! `$NAME` / `${NAME}` substitution, the builtins `${_PWD}`, `${_INSTANCE}`,
//! `${_RANDOM [MIN [MAX]]}`, `${_HASH}`, `${_BANG}`, and the `~SEQ(...)` / `~LST(...)` repeats.
//!
//! This file holds the definitions and the text rules; the lexer's `Lexer::line` drives them
//! line by line. Substitution is textual and late, as keepalived's: a value is stored as
//! written, expanded where it is used, and the replacement is scanned again.

use crate::io::fs;
use std::path::Path;

/// Longest line substitution may produce: keepalived's line buffer (MAXBUF, 1024 bytes with
/// the NUL); keepalived gives up on the substitution there, we refuse the line.
const MAX_LINE_LEN: usize = 1023;
/// Most substitutions in one line: `$A=$A` would otherwise never end.
pub(super) const MAX_SUBSTITUTIONS: usize = 1024;
/// Most substitutions over one load: each may move a whole line.
const MAX_TOTAL_SUBSTITUTIONS: usize = 250_000;
/// Most lines `~SEQ`, `~LST` and multi-line parameters may generate over one load, checked
/// before a repeat starts (`~SEQ(i, 1, 1000000000)` fails at once).
const MAX_GENERATED_LINES: usize = 100_000;
/// Most text those lines may hold over one load: as much as a 1 MiB configuration file.
const MAX_GENERATED_BYTES: usize = 1 << 20;
/// Deepest nesting of repeats and multi-line parameters (a repeat inside a repeat, a
/// multi-line parameter using itself).
pub(super) const MAX_NESTING: usize = 32;
/// Most parameters defined at one time (each lookup walks them).
const MAX_PARAMETERS: usize = 1024;
/// `${_RANDOM}`'s range when none is given: [0, 32767].
const RANDOM_MAX: u64 = 32767;

const BLANKS: [char; 2] = [' ', '\t'];

struct Def {
    name: String,
    /// A multi-line value has its lines separated by '\n'.
    value: String,
    multiline: bool,
}

pub(super) struct Params {
    defs: Vec<Def>,
    /// keepalived's config id (its `-i`, by default the host name up to the first '.').
    config_id: Option<String>,
    /// The multi-line definition whose next lines are being read (index in `defs`).
    collecting: Option<usize>,
    /// What is left of the load's MAX_GENERATED_LINES, MAX_GENERATED_BYTES and
    /// MAX_TOTAL_SUBSTITUTIONS.
    lines_left: usize,
    bytes_left: usize,
    substitutions_left: usize,
}

/// What a `$` starts: the length of the reference after the `$`, and what it names.
struct Found<'a> {
    len: usize,
    name: &'a str,
    /// `${_RANDOM 1 6}`: the numbers after the name.
    args: &'a str,
    /// Whether the reference ends the line: only then may a multi-line value be used.
    ends_line: bool,
}

impl Params {
    pub(super) fn new(config_id: Option<String>) -> Params {
        Params {
            defs: Vec::new(),
            config_id,
            collecting: None,
            lines_left: MAX_GENERATED_LINES,
            bytes_left: MAX_GENERATED_BYTES,
            substitutions_left: MAX_TOTAL_SUBSTITUTIONS,
        }
    }

    /// `@ID rest` applies only when ID is the config id, `@^ID rest` only when it is not:
    /// the rest of the line if it applies. A line with nothing after the id never applies.
    pub(super) fn conditional<'a>(&self, line: &'a str) -> Option<&'a str> {
        let tail = line.strip_prefix('@')?;
        let (negated, tail) = match tail.strip_prefix('^') {
            Some(t) => (true, t),
            None => (false, tail),
        };
        let end = tail.find(BLANKS)?;
        let matches = self.config_id.as_deref() == Some(&tail[..end]);
        (matches != negated).then(|| tail[end..].trim_start_matches(BLANKS))
    }

    /// `$NAME=value` (no blank before `=`): stores the definition and returns true. A value
    /// ending in `\` goes on over the next lines ([`Params::collect`]). false: not a definition.
    pub(super) fn define(&mut self, line: &str) -> Result<bool, String> {
        let Some((name, value)) = line
            .strip_prefix('$')
            .and_then(|l| l.split_once('='))
            .filter(|(name, _)| is_name(name))
        else {
            return Ok(false);
        };
        let value = value.trim_start_matches(BLANKS);
        match value.strip_suffix('\\') {
            Some(first) => {
                let mut value = first.trim_end_matches(BLANKS).to_string();
                if !value.is_empty() {
                    value.push('\n');
                }
                self.collecting = Some(self.set_def(name, value, true)?);
            }
            None => {
                self.set_def(name, value.to_string(), false)?;
            }
        }
        Ok(true)
    }

    /// Sets a parameter (a `~SEQ` or `~LST` variable) to a one-line value.
    pub(super) fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        self.set_def(name, value.to_string(), false).map(|_| ())
    }

    fn set_def(&mut self, name: &str, value: String, multiline: bool) -> Result<usize, String> {
        if let Some(i) = self.defs.iter().position(|d| d.name == name) {
            self.defs[i].value = value;
            self.defs[i].multiline = multiline;
            return Ok(i);
        }
        if self.defs.len() >= MAX_PARAMETERS {
            return Err(format!(
                "more than {MAX_PARAMETERS} parameters defined at '${name}'"
            ));
        }
        self.defs.push(Def {
            name: name.to_string(),
            value,
            multiline,
        });
        Ok(self.defs.len() - 1)
    }

    /// Whether the next lines continue a multi-line definition.
    pub(super) fn collecting(&self) -> bool {
        self.collecting.is_some()
    }

    /// The next (decommented, not blank) line of a multi-line definition: one ending in `\`
    /// goes on, any other is the last.
    pub(super) fn collect(&mut self, line: &str) {
        let Some(i) = self.collecting else { return };
        let def = &mut self.defs[i];
        match line.strip_suffix('\\') {
            Some(more) => {
                let more = more.trim_end_matches(BLANKS);
                if !more.is_empty() {
                    def.value.push_str(more);
                    def.value.push('\n');
                }
            }
            None => {
                def.value.push_str(line);
                self.collecting = None;
            }
        }
    }

    /// An empty line (or the end of the file) ends a multi-line definition.
    pub(super) fn end_definition(&mut self) {
        if let Some(i) = self.collecting.take() {
            let def = &mut self.defs[i];
            def.multiline = !def.value.is_empty();
        }
    }

    /// Takes `n` lines from what `~SEQ`, `~LST` and multi-line parameters may still generate.
    pub(super) fn take_lines(&mut self, n: usize) -> Result<(), String> {
        if n > self.lines_left {
            return Err(format!(
                "parameters and sequences generate more than {MAX_GENERATED_LINES} lines"
            ));
        }
        self.lines_left -= n;
        Ok(())
    }

    /// Takes the text of a generated line from what may still be generated.
    pub(super) fn take_bytes(&mut self, n: usize) -> Result<(), String> {
        if n > self.bytes_left {
            return Err(format!(
                "parameters and sequences generate more than {MAX_GENERATED_BYTES} bytes"
            ));
        }
        self.bytes_left -= n;
        Ok(())
    }

    /// Replaces the defined `$NAME` and `${NAME}` in `line` (in `file`, for `${_PWD}`), each
    /// replacement scanned again. A multi-line parameter ending the line puts its first line
    /// there and its other lines in front of `rest`. Each replacement takes one from `budget`.
    /// As keepalived's, stops after a value starting with `~` (a sequence whose variables
    /// are for later). Whether anything was replaced.
    pub(super) fn substitute(
        &mut self,
        line: &mut String,
        rest: &mut Vec<String>,
        file: &Path,
        budget: &mut usize,
    ) -> Result<bool, String> {
        let mut changed = false;
        let mut from = 0;
        while let Some(i) = line[from..].find('$').map(|i| from + i) {
            let Some((len, value, multiline)) = self.value_at(&line[i + 1..], file)? else {
                from = i + 1;
                continue;
            };
            if *budget == 0 {
                return Err(format!(
                    "more than {MAX_SUBSTITUTIONS} parameter substitutions in one line \
                     (does a parameter refer to itself?)"
                ));
            }
            if self.substitutions_left == 0 {
                return Err(format!(
                    "more than {MAX_TOTAL_SUBSTITUTIONS} parameter substitutions in all"
                ));
            }
            *budget -= 1;
            self.substitutions_left -= 1;
            let first = match value.split_once('\n') {
                Some((first, more)) if multiline => {
                    rest.splice(0..0, more.split('\n').map(str::to_string));
                    first
                }
                _ => value.as_str(),
            };
            if line.len() - (1 + len) + first.len() > MAX_LINE_LEN {
                return Err(format!(
                    "line longer than {MAX_LINE_LEN} bytes after parameter substitution"
                ));
            }
            line.replace_range(i..i + 1 + len, first);
            changed = true;
            if value.trim_start_matches(BLANKS).starts_with('~') {
                break;
            }
            from = i;
        }
        Ok(changed)
    }

    /// The parameter `s` (the text after a `$`) starts with, if it is defined: the length of
    /// the reference, the value, and whether it is multi-line.
    fn value_at(&self, s: &str, file: &Path) -> Result<Option<(usize, String, bool)>, String> {
        let Some(found) = reference(s) else {
            return Ok(None);
        };
        if let Some(def) = self.defs.iter().find(|d| d.name == found.name) {
            if !found.args.is_empty() || (def.multiline && !found.ends_line) {
                return Ok(None);
            }
            return Ok(Some((found.len, def.value.clone(), def.multiline)));
        }
        let value = match (found.name, found.args.is_empty()) {
            ("_PWD", true) => {
                let dir = match file.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                fs::canonical(dir).to_string_lossy().into_owned()
            }
            ("_INSTANCE", true) => self.config_id.clone().unwrap_or_default(),
            ("_HASH", true) => "#".into(),
            ("_BANG", true) => "!".into(),
            ("_RANDOM", _) => random(found.args)?,
            _ => return Ok(None),
        };
        Ok(Some((found.len, value, false)))
    }
}

/// `$NAME` (followed by a blank, `,`, `)` or the end of the line) or `${NAME}`; in braces a
/// builtin may take numbers after the name (`${_RANDOM 1 6}`). `s` is the text after the `$`.
fn reference(s: &str) -> Option<Found<'_>> {
    let braced = s.starts_with('{');
    let body = &s[usize::from(braced)..];
    let name_len = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let name = &body[..name_len];
    if !is_name(name) {
        return None;
    }
    let after = &body[name_len..];
    if !braced {
        if !(after.is_empty() || after.starts_with([' ', '\t', ',', ')'])) {
            return None;
        }
        return Some(Found {
            len: name_len,
            name,
            args: "",
            ends_line: after.is_empty(),
        });
    }
    let args_len = after
        .bytes()
        .take_while(|b| *b == b' ' || b.is_ascii_digit())
        .count();
    let args = &after[..args_len];
    // Numbers may not be followed by a blank before the '}'.
    let has_numbers = args.bytes().any(|b| b.is_ascii_digit());
    if !after[args_len..].starts_with('}') || (has_numbers && args.ends_with(' ')) {
        return None;
    }
    let len = 1 + name_len + args_len + 1;
    Some(Found {
        len,
        name,
        args: if has_numbers { args.trim_start() } else { "" },
        ends_line: len == s.len(),
    })
}

/// A parameter name: letters, digits and `_`, not starting with a digit.
fn is_name(s: &str) -> bool {
    s.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `${_RANDOM [MIN [MAX]]}`: a random integer in [MIN, MAX] (default [0, 32767]).
fn random(args: &str) -> Result<String, String> {
    let mut numbers = args.split_whitespace().map(|n| {
        n.parse::<u64>()
            .map_err(|_| format!("${{_RANDOM}}: {n} is out of range"))
    });
    let min = numbers.next().transpose()?.unwrap_or(0);
    let max = numbers.next().transpose()?.unwrap_or(RANDOM_MAX);
    if numbers.next().is_some() {
        warn!("${{_RANDOM {args}}}: too many numbers, only MIN and MAX are used");
    }
    if min > max {
        return Err(format!("${{_RANDOM {args}}}: {min} is above {max}"));
    }
    let r = fs::random_u64().map_err(|e| format!("${{_RANDOM}}: no random number: {e}"))?;
    // u128: the span of [0, u64::MAX] does not fit a u64.
    let span = u128::from(max - min) + 1;
    Ok((u128::from(min) + u128::from(r) % span).to_string())
}

/// A `~SEQ(...)` or `~LST(...)` line: its text repeated, the variables set for each row.
pub(super) struct Repeat {
    pub vars: Vec<String>,
    rows: Rows,
    /// The rest of the line, repeated.
    pub text: String,
}

enum Rows {
    /// `~SEQ`: `count` values from `start` by `step`; `~SEQx` writes them in hexadecimal.
    Seq {
        start: i64,
        step: i64,
        count: usize,
        hex: bool,
    },
    /// `~LST`: one value per variable in each row.
    List(Vec<Vec<String>>),
}

impl Repeat {
    /// Parses a line starting with `~SEQ` or `~LST`. The numbers of a `~SEQ` may be
    /// parameters (`~SEQ(i, 1, $N)`): they are substituted first, taking from `budget`.
    pub(super) fn parse(
        line: &str,
        params: &mut Params,
        file: &Path,
        budget: &mut usize,
    ) -> Result<Repeat, String> {
        if line.starts_with("~SEQ") {
            seq(line, params, file, budget)
        } else {
            lst(line)
        }
    }

    /// How many times the text is repeated.
    pub(super) fn len(&self) -> usize {
        match &self.rows {
            Rows::Seq { count, .. } => *count,
            Rows::List(rows) => rows.len(),
        }
    }

    /// The values of the variables for repeat `i` (< `len()`).
    pub(super) fn row(&self, i: usize) -> Vec<String> {
        match &self.rows {
            Rows::Seq {
                start, step, hex, ..
            } => {
                // Between start and end, so it fits an i64.
                let v = i128::from(*start) + i128::from(*step) * i as i128;
                vec![if *hex {
                    format!("{v:x}")
                } else {
                    v.to_string()
                }]
            }
            Rows::List(rows) => rows[i].clone(),
        }
    }
}

/// `~SEQ(var, end)`, `~SEQ(var, start, end)`, `~SEQ(var, start, step, end)` and `~SEQx(...)`.
fn seq(line: &str, params: &mut Params, file: &Path, budget: &mut usize) -> Result<Repeat, String> {
    let bad = || format!("invalid ~SEQ specification '{line}'");
    let tail = &line["~SEQ".len()..];
    let (hex, tail) = match tail.strip_prefix('x') {
        Some(t) => (true, t),
        None => (false, tail),
    };
    let tail = tail
        .trim_start_matches(BLANKS)
        .strip_prefix('(')
        .ok_or_else(bad)?;
    let tail = tail.trim_start_matches(BLANKS);
    let var_len = tail.find([' ', '\t', ',', ')']).unwrap_or(tail.len());
    let var = &tail[..var_len];
    let tail = tail[var_len..].trim_start_matches(BLANKS);
    let tail = tail
        .strip_prefix(',')
        .filter(|_| is_name(var))
        .ok_or_else(bad)?;
    // The numbers, with the ')' as keepalived keeps it: `$N)` is a reference.
    let close = tail.find(')').ok_or_else(bad)?;
    let mut numbers = tail[..=close].to_string();
    let text = tail[close + 1..].trim_start_matches(BLANKS);
    params.substitute(&mut numbers, &mut Vec::new(), file, budget)?;
    let numbers = &numbers[..numbers.find(')').ok_or_else(bad)?];
    let mut n = [0i64; 3];
    let mut count = 0;
    for word in numbers.split(',') {
        *n.get_mut(count).ok_or_else(bad)? = c_long(word).ok_or_else(bad)?;
        count += 1;
    }
    let (start, step, end) = match count {
        1 => {
            let end = n[0];
            (
                if end < 0 { -1 } else { 1 },
                if end < 1 { -1 } else { 1 },
                end,
            )
        }
        2 => (n[0], if n[0] <= n[1] { 1 } else { -1 }, n[1]),
        _ => (n[0], n[1], n[2]),
    };
    if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
        return Err(format!("invalid ~SEQ values '{line}'"));
    }
    if hex && (start < 0 || end < 0) {
        return Err(format!("~SEQx is only valid for positive numbers '{line}'"));
    }
    let count = (i128::from(end) - i128::from(start)) / i128::from(step) + 1;
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    Ok(Repeat {
        vars: vec![var.to_string()],
        rows: Rows::Seq {
            start,
            step,
            count,
            hex,
        },
        text: text.to_string(),
    })
}

/// A number as C's strtol(s, _, 0) reads it: blanks, a sign, then `0x` hex, `0` octal or
/// decimal. None: not a number, trailing text, or out of range.
fn c_long(s: &str) -> Option<i64> {
    let s = s.trim_matches(BLANKS);
    let (negative, s) = match s.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(h) = s.strip_prefix("0x").or(s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    // from_str_radix takes a sign of its own: there must be none left.
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    i64::try_from(if negative { -v } else { v }).ok()
}

/// `~LST(var, v1, v2, ...)` or `~LST({var1, var2}, {v1, v2}, {v3, v4}, ...)`; a row with
/// fewer values than variables leaves the others empty.
fn lst(line: &str) -> Result<Repeat, String> {
    let bad = || format!("invalid ~LST specification '{line}'");
    let mut c = Cursor(line["~LST".len()..].trim_start_matches(BLANKS));
    c.expect('(').ok_or_else(bad)?;
    let vars = c.group(" \t,}").ok_or_else(bad)?;
    if !vars.iter().all(|v| is_name(v)) {
        return Err(bad());
    }
    c.expect(',').ok_or_else(bad)?;
    let mut rows = Vec::new();
    loop {
        let mut row = c.group(" \t,})").ok_or_else(bad)?;
        if row.len() > vars.len() {
            return Err(format!("~LST specification has too many values '{line}'"));
        }
        row.resize(vars.len(), String::new());
        rows.push(row);
        if c.expect(')').is_some() {
            break;
        }
        c.expect(',').ok_or_else(bad)?;
    }
    Ok(Repeat {
        vars,
        rows: Rows::List(rows),
        text: c.0.to_string(),
    })
}

/// The rest of a `~LST` line, blanks skipped after each token.
struct Cursor<'a>(&'a str);

impl Cursor<'_> {
    fn expect(&mut self, c: char) -> Option<()> {
        self.0 = self.0.strip_prefix(c)?.trim_start_matches(BLANKS);
        Some(())
    }

    /// `{a, b, ...}` or a single word ending at a character of `stop`.
    fn group(&mut self, stop: &str) -> Option<Vec<String>> {
        let braced = self.expect('{').is_some();
        let mut words = Vec::new();
        loop {
            let end = self.0.find(|c| stop.contains(c)).unwrap_or(self.0.len());
            words.push(self.0[..end].to_string());
            self.0 = self.0[end..].trim_start_matches(BLANKS);
            if !braced || self.expect('}').is_some() {
                return Some(words);
            }
            self.expect(',')?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{lex_items, Item};
    use std::path::Path;
    use std::time::{Duration, Instant};

    /// The lexed items of `text` (in /t/k.conf, config id `main`), one string per item.
    fn lex(text: &str) -> Vec<String> {
        try_lex(text).unwrap_or_else(|e| panic!("{e}\n--- in:\n{text}"))
    }

    fn try_lex(text: &str) -> Result<Vec<String>, crate::config::ConfigError> {
        let items = lex_items(text, Path::new("/t/k.conf"), Some("main".into()))?;
        Ok(items
            .into_iter()
            .map(|(_, item)| match item {
                Item::Words(w) => w.join(" "),
                Item::Open => "{".into(),
                Item::Close => "}".into(),
            })
            .collect())
    }

    /// The error `text` gives; its line and message. The limits bound the work; the 60 s
    /// guard only catches a hang (the aarch64 run under qemu-user is ten times slower).
    fn fails(text: &str) -> (u32, String) {
        let start = Instant::now();
        let e = try_lex(text).expect_err(text);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(60), "took {took:?}: {e}");
        (e.at.as_ref().map_or(0, |a| a.line), e.message.clone())
    }

    #[test]
    fn definitions_and_substitution() {
        assert_eq!(
            lex("$IF=eth0\ninterface $IF\nx ${IF}.1 \"${IF}\"\ny $IFX $IF/x \"$IF\" \"${UNDEF}\" $\n"),
            ["interface eth0", "x eth0.1 eth0", "y $IFX $IF/x $IF ${UNDEF} $"]
        );
        // Redefinition, an empty value, `,` and `)` end a name; no blank before '='.
        assert_eq!(
            lex("$A=1\n$A=2\n$E=\nv $A,$A) [$E]\n$B =3\n"),
            ["v 2,2) [$E]", "$B =3"]
        );
        // Values are expanded where used, and a replacement is scanned again.
        assert_eq!(
            lex(
                "$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n\
                 ${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n"
            ),
            ["10.2.0.100/32", "10.2.10.100/32"]
        );
        // A substituted line is decommented again and may become a definition or a block.
        assert_eq!(
            lex("$N=X\n$V=abc\n$${N}=1\nk \"a${_HASH}b\" a${_HASH}b ${_BANG}c\nb $V {\n$X }\n"),
            ["k a#b a", "b abc", "{", "1", "}"]
        );
    }

    #[test]
    fn conditional_lines_and_instance() {
        assert_eq!(
            lex(
                "@main $P=240\n@backup $P=200\n@^main x 1\n@^backup y $P\n@main\n\
                 $IF_MAIN=@main\n$IF_MAIN priority ${_INSTANCE}\n$IF_B=@backup\n$IF_B z\n"
            ),
            ["y 240", "priority main"]
        );
    }

    #[test]
    fn multi_line_definitions() {
        let text = "$INSTANCE= \\\n\
                    vrrp_instance VI_${NUM} { \\\n\
                    ! a comment does not end it\n\
                    \x20   interface eth0.${NUM}   \\\n\
                    \x20   \\\n\
                    \x20   @main priority 130 \\\n\
                    \x20   @backup priority 120 \\\n\
                    }\n\
                    $NUM=0\n$INSTANCE\n$NUM=1\n$INSTANCE\nx $INSTANCE y\n";
        let one = |n: &str| {
            [
                format!("vrrp_instance VI_{n}"),
                "{".into(),
                format!("interface eth0.{n}"),
                "priority 130".into(),
                "}".into(),
            ]
        };
        let mut want: Vec<String> = one("0").into_iter().chain(one("1")).collect();
        // Only at the end of a line.
        want.push("x $INSTANCE y".into());
        assert_eq!(lex(text), want);

        // Nested, with definitions inside; an empty line ends a definition.
        assert_eq!(
            lex(
                "$RS=rs ${VS}.${R} \\\nw ${R}\n$VS_DEF=vs ${VS} \\\n$R=1 \\\n$RS \\\n\
                 $R=2 \\\n$RS\n$VS=7\n$VS_DEF\n$E=a \\\n\nb\n"
            ),
            ["vs 7", "rs 7.1", "w 1", "rs 7.2", "w 2", "b"]
        );
        assert_eq!(lex("$E=a \\\n\n$E\n"), ["a"]);
        assert_eq!(lex("$E=\\\n\nx $E y\n"), ["x y"]);
    }

    #[test]
    fn builtin_parameters() {
        assert_eq!(
            lex("s ${_PWD}/script.sh $_PWD/x $_PWD\n"),
            ["s /t/script.sh $_PWD/x /t"]
        );
        assert_eq!(lex("$_PWD=mine\nx ${_PWD}\n"), ["x mine"]);
        assert_eq!(lex("r ${_RANDOM 7 7} ${_RANDOM  9 9}\n"), ["r 7 9"]);
        for _ in 0..20 {
            let r: u64 = lex("${_RANDOM 1 3}\n")[0].parse().unwrap();
            assert!((1..=3).contains(&r), "{r}");
            let r: u64 = lex("${_RANDOM}\n")[0].parse().unwrap();
            assert!(r <= 32767, "{r}");
        }
        // The whole u64 range: its span does not fit a u64.
        lex("${_RANDOM 0 18446744073709551615}\n")[0]
            .parse::<u64>()
            .unwrap();
        // Not numbers, a blank before the '}', or numbers for a parameter that takes none.
        assert_eq!(
            lex("r \"${_RANDOM a}\" \"${_RANDOM 1 }\" \"${_PWD 1}\"\n"),
            ["r ${_RANDOM a} ${_RANDOM 1 } ${_PWD 1}"]
        );
        assert!(fails("${_RANDOM 5 1}\n").1.contains("5 is above 1"));
        assert!(fails("${_RANDOM 1 99999999999999999999}\n")
            .1
            .contains("out of range"));
    }

    #[test]
    fn sequences() {
        assert_eq!(
            lex("~SEQ(SUBNET, 0, 3) ip 10.0.${SUBNET}.1\n"),
            ["ip 10.0.0.1", "ip 10.0.1.1", "ip 10.0.2.1", "ip 10.0.3.1"]
        );
        assert_eq!(lex("~SEQ(i, 3) a$i\n"), ["a1", "a2", "a3"]);
        assert_eq!(lex("~SEQ(i, -2) a$i\n"), ["a-1", "a-2"]);
        assert_eq!(lex("~SEQ(i, 0) a$i\n"), ["a1", "a0"]);
        assert_eq!(lex("~SEQ(i,3,1) a$i\n"), ["a3", "a2", "a1"]);
        assert_eq!(lex("~SEQ(i, 1, 3, 6) a$i\n"), ["a1", "a4"]);
        assert_eq!(lex("$N=2\n~SEQ(i, 0x1, $N) a$i\n"), ["a1", "a2"]);
        assert_eq!(
            lex("~SEQx(S, 0x90, 0x10, 0xc0) fe80::20:${S}:1\n"),
            [
                "fe80::20:90:1",
                "fe80::20:a0:1",
                "fe80::20:b0:1",
                "fe80::20:c0:1"
            ]
        );
        assert_eq!(
            lex("~SEQ(i, 1, 2) ~SEQ(j, 010, 011) ${i}.${j}\n"),
            ["1.8", "1.9", "2.8", "2.9"]
        );
        // A parameter whose value is a sequence.
        assert_eq!(lex("$S=~SEQ(k, 2) v$k\n$S\n"), ["v1", "v2"]);
        for bad in [
            "~SEQ i, 3) x",
            "~SEQ(i 3) x",
            "~SEQ(, 3) x",
            "~SEQ(1i, 3) x",
            "~SEQ(i, 3 x",
            "~SEQ(i, 3x) x",
            "~SEQ(i, 1, 2, 3, 4) x",
            "~SEQ(i, ) x",
            "~SEQUENCE",
        ] {
            let (line, m) = fails(&format!("\n{bad}\n"));
            assert_eq!(line, 2, "{bad}");
            assert!(m.contains("invalid ~SEQ specification"), "{bad}: {m}");
        }
        assert!(fails("~SEQ(i, 1, -1, 3) x\n")
            .1
            .contains("invalid ~SEQ values"));
        assert!(fails("~SEQ(i, 1, 0, 1) x\n")
            .1
            .contains("invalid ~SEQ values"));
        assert!(fails("~SEQx(i, -1, 3) x\n").1.contains("positive"));
    }

    #[test]
    fn lists() {
        assert_eq!(
            lex("~LST(IP, 1, 2,3) 10.0.0.$IP\n"),
            ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
        );
        assert_eq!(
            lex("~LST({IP, IP1}, {10,1},{20,4}, {5}) 192.168.${IP}.${IP1}\n"),
            ["192.168.10.1", "192.168.20.4", "192.168.5."]
        );
        assert_eq!(
            lex("~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,170) 192.${IP2}.${IP}.${IP1}\n"),
            [
                "192.168.10.1",
                "192.170.10.1",
                "192.168.20.4",
                "192.170.20.4"
            ]
        );
        assert!(fails("~LST({a}, {1, 2}) x\n").1.contains("too many values"));
        for bad in [
            "~LST(a) x",
            "~LST(a, 1 2) x",
            "~LST(a, 1",
            "~LST({a, 9}, 1) x",
        ] {
            assert!(
                fails(&format!("{bad}\n")).1.contains("invalid ~LST"),
                "{bad}"
            );
        }
    }

    #[test]
    fn hostile_expansions_fail_quickly() {
        // A parameter referring to itself, without and with growth.
        let (line, m) = fails("$A=$A\n\nx $A\n");
        assert_eq!(line, 3);
        assert!(m.contains("more than 1024 parameter substitutions"), "{m}");
        assert!(fails("$A=x$A\nx $A\n").1.contains("longer than 1023 bytes"));
        assert!(fails("$A=${A}${A}\nx $A\n")
            .1
            .contains("longer than 1023 bytes"));
        // A multi-line parameter using itself.
        let (line, m) = fails("$M=a \\\n$M\n$M\n");
        assert_eq!(line, 3);
        assert!(m.contains("nested deeper than 32"), "{m}");
        // Huge and nested ranges.
        assert!(fails("~SEQ(i, 1, 1000000000) x\n")
            .1
            .contains("more than 100000 lines"));
        assert!(
            fails("~SEQ(i, -9223372036854775808, 9223372036854775807) x\n")
                .1
                .contains("more than 100000 lines")
        );
        let nested = "~SEQ(a, 100) ~SEQ(b, 100) ~SEQ(c, 100) x\n";
        assert!(fails(nested).1.contains("more than 100000 lines"));
        let deep = "~LST(v, 1) ".repeat(40) + "x\n";
        assert!(fails(&deep).1.contains("nested deeper than 32"));
        // Long generated lines.
        let long = format!("$L={}\n~SEQ(i, 2000) $L\n", "w ".repeat(500));
        assert!(fails(&long).1.contains("more than 1048576 bytes"));
        // Definitions generated without end.
        let (_, m) = fails("~SEQ(i, 2000) $P${i}=x\n");
        assert!(m.contains("more than 1024 parameters"), "{m}");
        // Substitutions in all: many cheap ones per generated line.
        let many = format!("$E=\n~SEQ(i, 2000) x{}\n", " $E".repeat(200));
        assert!(fails(&many)
            .1
            .contains("more than 250000 parameter substitutions in all"));
    }
}
