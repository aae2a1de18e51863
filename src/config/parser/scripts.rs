//! Scripts, tracking and notification keywords: `vrrp_script` blocks, an instance's
//! `track_interface`, `track_script` and `notify_*`, and global_defs' notify FIFOs
//! (keepalived 2.2.7 vrrp_parser.c, vrrp_track.c `alloc_track_if`/`alloc_track_script`).

use super::*;

/// keepalived's weight range for tracked objects: +/-254 is accepted and lowered to +/-253.
const WEIGHT_MAX: i32 = 253;

/// A command line: the rest of the keyword's words (a quoted string is one word).
pub(super) fn command(n: &Node) -> Command {
    Command {
        line: n.words[1..].join(" "),
        at: n.at.clone(),
    }
}

/// `weight N [reverse]` starting at word `i`.
fn weight(n: &Node, i: usize) -> Result<Weight, ConfigError> {
    let s = n.arg(i)?;
    let digits = s.strip_prefix('-').unwrap_or(s);
    let w = match digits.parse::<u64>() {
        Ok(v) if v <= 254 && digits.bytes().all(|b| b.is_ascii_digit()) => v as i32,
        _ => return Err(n.err(format!("weight '{s}' is not in -253..253"))),
    };
    let w = if s.starts_with('-') { -w } else { w };
    let w = if w.abs() == 254 {
        n.warn(format_args!("weight {w} cannot be +/-254, using +/-253"));
        w.signum() * WEIGHT_MAX
    } else {
        w
    };
    let reverse = match n.words.get(i + 1).map(String::as_str) {
        None => false,
        Some("reverse") => true,
        Some(o) => return Err(n.err(format!("unknown weight option '{o}'"))),
    };
    Ok(Weight { weight: w, reverse })
}

pub(super) fn vrrp_script(top: &mut Top, node: &Node, ctx: &mut Ctx) -> Result<(), ConfigError> {
    if node.words.len() != 2 {
        return Err(node.err("needs exactly one name"));
    }
    let name = &node.words[1];
    if top.scripts.iter().any(|s| &s.name == name) {
        return Err(node.err(format!("vrrp_script {name} is already defined")));
    }
    let mut d = ScriptDraft::default();
    let place = format!("vrrp_script {name}");
    dispatch(&mut d, node.children(), SCRIPT, SCRIPT_KNOWN, &place, ctx)?;
    let script = d
        .script
        .ok_or_else(|| node.err(format!("({name}) script is required")))?;
    let interval = d.interval.unwrap_or(Duration::from_secs(1));
    top.scripts.push(VrrpScript {
        name: name.clone(),
        at: node.at.clone(),
        script,
        interval,
        timeout: d.timeout.unwrap_or(interval),
        weight: d.weight,
        rise: d.rise.unwrap_or(1),
        fall: d.fall.unwrap_or(1),
        user: d.user,
        init_fail: d.init_fail,
    });
    Ok(())
}

#[derive(Default)]
pub(super) struct ScriptDraft {
    script: Option<Command>,
    interval: Option<Duration>,
    timeout: Option<Duration>,
    weight: Weight,
    rise: Option<u32>,
    fall: Option<u32>,
    user: Option<(String, Option<String>)>,
    init_fail: bool,
}

/// Whole seconds, at least 1: keepalived turns 0 into 1 with a message.
fn script_secs(n: &Node) -> Result<Duration, ConfigError> {
    let s = uint(n, 1, 0, u32::MAX / 1_000_000)?;
    if s == 0 {
        n.warn(format_args!("must be greater than 0, using 1"));
    }
    Ok(Duration::from_secs(s.max(1).into()))
}

const SCRIPT: Table<ScriptDraft> = &[
    ("script", Shape::Value, |d, n, _| {
        d.script = Some(command(n));
        Ok(())
    }),
    ("interval", Shape::Value, |d, n, _| {
        d.interval = Some(script_secs(n)?);
        Ok(())
    }),
    ("timeout", Shape::Value, |d, n, _| {
        d.timeout = Some(script_secs(n)?);
        Ok(())
    }),
    ("weight", Shape::Value, |d, n, _| {
        d.weight = weight(n, 1)?;
        Ok(())
    }),
    ("rise", Shape::Value, |d, n, _| {
        d.rise = Some(uint(n, 1, 1, i32::MAX as u32)?);
        Ok(())
    }),
    ("fall", Shape::Value, |d, n, _| {
        d.fall = Some(uint(n, 1, 1, i32::MAX as u32)?);
        Ok(())
    }),
    ("user", Shape::Value, |d, n, _| {
        d.user = Some((n.words[1].clone(), n.words.get(2).cloned()));
        Ok(())
    }),
    ("init_fail", Shape::Flag, |d, _, _| {
        d.init_fail = true;
        Ok(())
    }),
];

const SCRIPT_KNOWN: &str = "";

/// The lines of a `track_interface { }` or `track_script { }` block: `NAME [weight N [reverse]]`.
pub(super) fn track_block(n: &Node, out: &mut Vec<Track>) -> Result<(), ConfigError> {
    for line in n.children() {
        if line.block.is_some() {
            return Err(line.err("unexpected { } block"));
        }
        let name = &line.words[0];
        let weight = match line.words.get(1).map(String::as_str) {
            None => None,
            Some("weight") => Some(weight(line, 2)?),
            Some(o) => return Err(line.err(format!("{name}: unknown option '{o}'"))),
        };
        if out.iter().any(|t| &t.name == name) {
            line.warn(format_args!("duplicate {} {name}, ignored", n.keyword()));
            continue;
        }
        out.push(Track {
            name: name.clone(),
            weight,
            at: line.at.clone(),
        });
    }
    Ok(())
}

/// `notify_fifo PATH [user]` and its `_script` companion.
pub(super) fn fifo(n: &Node) -> Fifo {
    Fifo {
        path: PathBuf::from(&n.words[1]),
        script: None,
    }
}

pub(super) fn fifo_script(fifo: &mut Option<Fifo>, n: &Node) -> Result<(), ConfigError> {
    match fifo {
        Some(f) => {
            f.script = Some(command(n));
            Ok(())
        }
        None => Err(n.err("must follow its FIFO keyword")),
    }
}

/// Entries of a `track_script` / `track_file` block that name no block of that kind are
/// dropped with keepalived's message ("track script X not found, ignoring") and counted as
/// mistakes (`-t` exits 5; the daemon runs). `what` is "script" or "file".
fn drop_unknown(
    owner: &str,
    tracks: &mut Vec<Track>,
    what: &str,
    known: impl Fn(&str) -> bool,
    ctx: &mut Ctx,
) {
    tracks.retain(|t| {
        let ok = known(&t.name);
        if !ok {
            warn!(
                "{}: track_{what}: ({owner}) track {what} {} not found, ignoring",
                t.at, t.name
            );
            ctx.mistakes.push(t.at.clone());
        }
        ok
    });
}

pub(super) fn check_tracked_scripts(
    instances: &mut [VrrpInstance],
    scripts: &[VrrpScript],
    ctx: &mut Ctx,
) {
    for inst in instances {
        let known = |n: &str| scripts.iter().any(|s| s.name == n);
        drop_unknown(&inst.name, &mut inst.track_scripts, "script", known, ctx);
    }
}

pub(super) fn sync_group(top: &mut Top, node: &Node, ctx: &mut Ctx) -> Result<(), ConfigError> {
    if node.words.len() != 2 {
        return Err(node.err("needs exactly one name"));
    }
    let name = &node.words[1];
    if top.sync_groups.iter().any(|g| &g.name == name) {
        return Err(node.err(format!("vrrp_sync_group {name} is already defined")));
    }
    let mut g = SyncGroup {
        name: name.clone(),
        at: node.at.clone(),
        members: Vec::new(),
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
        notify: Notify::default(),
        tracking_weight: false,
        smtp_alert: None,
    };
    let place = format!("vrrp_sync_group {name}");
    dispatch(&mut g, node.children(), GROUP, GROUP_KNOWN, &place, ctx)?;
    top.sync_groups.push(g);
    Ok(())
}

const GROUP: Table<SyncGroup> = &[
    ("group", Shape::Block, |g, n, _| {
        for line in n.children() {
            if line.block.is_some() {
                return Err(line.err("unexpected { } block"));
            }
            g.members.extend(line.words.iter().cloned());
        }
        Ok(())
    }),
    ("track_interface", Shape::Block, |g, n, _| {
        track_block(n, &mut g.track_interfaces)
    }),
    ("track_script", Shape::Block, |g, n, _| {
        track_block(n, &mut g.track_scripts)
    }),
    ("notify_master", Shape::Value, |g, n, _| {
        g.notify.master = Some(command(n));
        Ok(())
    }),
    ("notify_backup", Shape::Value, |g, n, _| {
        g.notify.backup = Some(command(n));
        Ok(())
    }),
    ("notify_fault", Shape::Value, |g, n, _| {
        g.notify.fault = Some(command(n));
        Ok(())
    }),
    ("notify_stop", Shape::Value, |g, n, _| {
        g.notify.stop = Some(command(n));
        Ok(())
    }),
    ("notify", Shape::Value, |g, n, _| {
        g.notify.generic = Some(command(n));
        Ok(())
    }),
    ("sync_group_tracking_weight", Shape::Flag, |g, _, _| {
        g.tracking_weight = true;
        Ok(())
    }),
    ("smtp_alert", Shape::Flag, |g, n, _| {
        g.smtp_alert = Some(flag(n)?);
        Ok(())
    }),
    ("global_tracking", Shape::Flag, |g, n, _| {
        n.warn(format_args!(
            "global_tracking is deprecated: use track_interface/script on the sync group"
        ));
        g.tracking_weight = true;
        Ok(())
    }),
];

/// Sync group keywords keepalived 2.2.7 knows that we do not act on yet.
const GROUP_KNOWN: &str = "track_file track_process track_bfd notify_deleted";

/// Sync group members must exist and be in one group only; keepalived ignores a member that
/// is not, and a group left with none (with a message; `-t` exits 5). A group `track_script`
/// naming no `vrrp_script` is dropped the same way.
pub(super) fn check_sync_groups(
    groups: &mut Vec<SyncGroup>,
    instances: &[VrrpInstance],
    scripts: &[VrrpScript],
    ctx: &mut Ctx,
) {
    let mut taken: Vec<String> = Vec::new();
    for g in groups.iter_mut() {
        let at = g.at.clone();
        let gname = g.name.clone();
        let mut mistake = |m: String| {
            warn!("{at}: vrrp_sync_group: ({gname}) {m}");
            ctx.mistakes.push(at.clone());
        };
        let mut members = Vec::new();
        for m in core::mem::take(&mut g.members) {
            if !instances.iter().any(|i| i.name == m) {
                mistake(format!("instance {m} does not exist - ignoring"));
            } else if taken.contains(&m) || members.contains(&m) {
                mistake(format!(
                    "instance {m} is already in a sync group - ignoring"
                ));
            } else {
                members.push(m);
            }
        }
        taken.extend(members.iter().cloned());
        g.members = members;
        let known = |n: &str| scripts.iter().any(|s| s.name == n);
        drop_unknown(&gname, &mut g.track_scripts, "script", known, ctx);
        if g.members.len() == 1 {
            warn!(
                "{}: vrrp_sync_group: ({}) has only 1 instance: this probably isn't what you want",
                g.at, g.name
            );
        }
    }
    groups.retain(|g| {
        if g.members.is_empty() {
            warn!(
                "{}: vrrp_sync_group: ({}) has no instance - removing it",
                g.at, g.name
            );
        }
        !g.members.is_empty()
    });
}

/// keepalived's optional boolean after a flag keyword: none is true.
pub(super) fn flag(n: &Node) -> Result<bool, ConfigError> {
    match n.words.get(1).map(|w| w.to_ascii_lowercase()).as_deref() {
        None | Some("true" | "yes" | "on") => Ok(true),
        Some("false" | "no" | "off") => Ok(false),
        Some(w) => Err(n.err(format!("'{w}' is not true or false"))),
    }
}

/// `smtp_server HOST [PORT]`: kept as written; the daemon resolves a name (keepalived does too).
pub(super) fn smtp_server(g: &mut GlobalDefs, n: &Node) -> Result<(), ConfigError> {
    let port = match n.words.get(2) {
        Some(_) => uint(n, 2, 1, 65535)? as u16,
        None => 25,
    };
    g.smtp.server = Some((n.words[1].clone(), port));
    Ok(())
}

pub(super) fn track_file(top: &mut Top, node: &Node, ctx: &mut Ctx) -> Result<(), ConfigError> {
    if node.words.len() != 2 {
        return Err(node.err("needs exactly one name"));
    }
    let name = &node.words[1];
    if top.track_files.iter().any(|t| &t.name == name) {
        return Err(node.err(format!("track_file {name} is already defined")));
    }
    let mut t = TrackFile {
        name: name.clone(),
        at: node.at.clone(),
        path: PathBuf::new(),
        weight: Weight {
            weight: 1,
            reverse: false,
        },
        init: None,
    };
    let place = format!("track_file {name}");
    dispatch(&mut t, node.children(), FILE, "", &place, ctx)?;
    if t.path.as_os_str().is_empty() {
        return Err(node.err(format!("({name}) file is required")));
    }
    top.track_files.push(t);
    Ok(())
}

const FILE: Table<TrackFile> = &[
    ("file", Shape::Value, |t, n, _| {
        t.path = PathBuf::from(&n.words[1]);
        Ok(())
    }),
    ("weight", Shape::Value, |t, n, _| {
        t.weight = weight(n, 1)?;
        Ok(())
    }),
    ("init_file", Shape::Flag, |t, n, _| {
        let mut value = 0;
        let mut overwrite = false;
        for w in &n.words[1..] {
            if w == "overwrite" {
                overwrite = true;
            } else {
                value = w
                    .parse::<i32>()
                    .map_err(|_| n.err(format!("'{w}' is not a number or 'overwrite'")))?;
                if !(-254..=254).contains(&value) {
                    n.warn(format_args!("init value {value} is outside -254..254"));
                }
            }
        }
        t.init = Some((value, overwrite));
        Ok(())
    }),
];

pub(super) fn check_tracked_files(
    instances: &mut [VrrpInstance],
    files: &[TrackFile],
    ctx: &mut Ctx,
) {
    for inst in instances {
        let known = |n: &str| files.iter().any(|f| f.name == n);
        drop_unknown(&inst.name, &mut inst.track_files, "file", known, ctx);
    }
}
