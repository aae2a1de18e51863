//! `config::parse_str` on any text (bytes converted lossily to UTF-8), as the file
//! `include_root/keepalived.conf`. The fuzzing build confines file access to include_root/
//! (src/io/fs.rs, `--cfg fuzzing`), so `include` finds only its three small files
//! (`instance.conf`, `vips.conf`, `loop.conf` that includes itself) and never walks or reads
//! the rest of the file system, whatever the pattern.
//!
//! For an accepted config, every instance must build its advert into exactly `advert_len`
//! bytes, and the advert must parse.
#![no_main]

use keepalived_rs::config;
use keepalived_rs::io::fs::sandbox;
use keepalived_rs::vrrp::packet::{advert_len, build_advert};
use keepalived_rs::wire::vrrp as wire;
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Once;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/include_root");

fuzz_target!(|data: &[u8]| {
    static CONFINE: Once = Once::new();
    CONFINE.call_once(|| sandbox::confine_to(PathBuf::from(ROOT)));
    let text = String::from_utf8_lossy(data);
    let file = Path::new(ROOT).join("keepalived.conf");
    let Ok(cfg) = config::parse_str(&text, &file) else {
        return;
    };
    let _ = cfg.interfaces().count();
    let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(224, 0, 0, 18));
    for inst in &cfg.instances {
        let len = advert_len(inst);
        let mut out = vec![0u8; len];
        assert_eq!(build_advert(inst, inst.priority, src, dst, &mut out), len);
        let p = wire::Packet::new_checked(&out[..]).expect("built advert fails check_len");
        assert_eq!(p.packet_len(), len);
        let repr = wire::Repr::parse(&p, src, dst).expect("built advert does not parse");
        assert_eq!((repr.vrid, repr.priority), (inst.vrid, inst.priority));
    }
});
