//! SIGHUP: the configuration read again and applied without touching what did not change.

use super::*;

impl Daemon {
    /// SIGHUP: reads the configuration again. A file that does not parse changes nothing (the
    /// error is logged with file:line). Otherwise instances the new file drops stop cleanly,
    /// unchanged ones keep their state, timers and addresses (no transition, no notify, no
    /// GARP), changed addresses are added or removed in place, new instances start as BACKUP.
    pub(super) fn reload(&mut self) {
        let now = clock::now();
        info!("Reloading configuration {}", self.conf_path.display());
        let new_cfg = match crate::config::load(&self.conf_path) {
            Ok(mut c) => {
                restrict(self.only, &mut c, &mut self.told_left_out);
                crate::io::security::enforce(c).0
            }
            Err(e) => {
                error!("Reload refused, configuration unchanged: {e}");
                return;
            }
        };
        let prepared = Router::new(&new_cfg, now).map_err(|e| e.0).and_then(|r| {
            Hooks::new(&new_cfg)
                .map(|h| (r, h))
                .map_err(|e| e.to_string())
        });
        let prepared = prepared.and_then(|(r, h)| {
            let files = FileWatch::new(&new_cfg.track_files, false).map_err(|e| e.to_string())?;
            Ok((r, h, files))
        });
        #[cfg(feature = "lb")]
        let prepared = prepared.and_then(|(r, h, f)| {
            let lb = lb::Lb::new(&new_cfg, &h, now).map_err(|e| e.to_string())?;
            Ok((r, h, f, lb))
        });
        #[cfg(feature = "lb")]
        let (mut router, hooks, files, new_lb) = match prepared {
            Ok(p) => p,
            Err(e) => {
                error!("Reload refused, configuration unchanged: {e}");
                return;
            }
        };
        #[cfg(not(feature = "lb"))]
        let (mut router, hooks, files) = match prepared {
            Ok(p) => p,
            Err(e) => {
                error!("Reload refused, configuration unchanged: {e}");
                return;
            }
        };
        for id in self.router.removed_by(&new_cfg) {
            info!(
                "({}) removed by the reload: stopping it",
                self.router.config(id).name
            );
            self.router.stop_instance(id, now);
        }
        self.flush(now);
        // Addresses each master holds now, to give back the ones the new file drops.
        let held: Vec<(String, Vec<PlacedVip>)> = self
            .router
            .instances()
            .filter(|&id| self.router.state(id) == State::Master)
            .map(|id| {
                let vips = self.router.vips(id).map(|(i, v)| (i, v.clone())).collect();
                (self.router.config(id).name.clone(), vips)
            })
            .collect();
        let ids = router.adopt(&mut self.router, &self.config, &new_cfg, now);
        // Notify queues follow their instance or group by name; those the new file drops keep
        // a number of their own past every live one.
        let owners = notify_owners(&self.config, &new_cfg);
        let owner = |o: usize| owners.get(o).copied().unwrap_or(o);
        self.notifier.retarget(owner);
        self.children.retarget(|job| match job {
            Job::Track(id) => ids.get(id.index()).copied().flatten().map(Job::Track),
            Job::Notify(o) => Some(Job::Notify(owner(o))),
            // The old checkers' scripts end unheard: the new checkers start afresh.
            #[cfg(feature = "lb")]
            Job::Check(_) => Some(Job::Orphan),
            other => Some(other),
        });
        // Runs waiting for their turn keep it under the scripts' new identities.
        let runs: Vec<_> = self.runs.drain(..).collect();
        self.runs.extend(
            runs.into_iter()
                .filter_map(|id| ids.get(id.index()).copied().flatten()),
        );
        self.router = router;
        #[cfg(feature = "lb")]
        {
            let mut old = std::mem::replace(&mut self.lb, new_lb);
            old.checks.close_all(&mut self.poller);
            self.lb.adopt(old, &self.config, &new_cfg);
            self.lb.init_ha(&mut self.rtnl, now);
        }
        self.config = new_cfg;
        self.hooks = hooks;
        self.files = files;
        self.poller.add(self.files.fd(), Token::Files);
        self.read_track_files(now);
        for id in self.router.instances().collect::<Vec<_>>() {
            let name = &self.router.config(id).name;
            let Some((_, old)) = held.iter().find(|(n, _)| n == name) else {
                continue;
            };
            let master = self.router.state(id) == State::Master;
            let now_vips: Vec<PlacedVip> =
                self.router.vips(id).map(|(i, v)| (i, v.clone())).collect();
            for (ifindex, v) in old {
                let kept = master && now_vips.iter().any(|(i, n)| i == ifindex && n == v);
                if let (false, Some(ifindex)) = (kept, ifindex) {
                    if let Err(e) = self.rtnl.del_addr(*ifindex, v) {
                        debug!("reload: removing {}: {e}", crate::config::ShowIp(v.addr));
                    }
                }
            }
            if master {
                for (k, (ifindex, v)) in now_vips.iter().enumerate() {
                    if !old.iter().any(|(i, o)| i == ifindex && o == v) {
                        self.restore_vip(id, k);
                    }
                }
            }
        }
        // Interfaces the new file names that we have not looked up yet; sockets of
        // interfaces no instance uses any more are closed.
        let names: Vec<String> = self.router.link_names().map(str::to_string).collect();
        for name in names {
            let on_it = self.config.instances.iter().any(|i| i.interface == name);
            let missing = match self.router.ifindex(&name) {
                None => true,
                Some(i) => on_it && !self.vrrp.contains_key(&i),
            };
            if missing {
                if let Err(e) = self.refresh_link(&name, now) {
                    warn!("interface {name}: {e}; its instances stay in FAULT until it appears");
                }
            }
        }
        let used: Vec<u32> = self
            .config
            .instances
            .iter()
            .filter_map(|i| self.router.ifindex(&i.interface))
            .collect();
        let stale: Vec<u32> = self
            .vrrp
            .keys()
            .copied()
            .filter(|i| !used.contains(i))
            .collect();
        for ifindex in stale {
            self.vrrp.remove(&ifindex);
            self.poller.remove(Token::Vrrp(ifindex));
        }
        self.flush(now);
        info!("Reload done");
    }
}

/// For each notify owner of `old` (its instances, then its sync groups), its number under
/// `new`: the same name's, or one past every owner `new` has.
fn notify_owners(old: &Config, new: &Config) -> Vec<usize> {
    let names = |c: &Config| -> Vec<(bool, String)> {
        let insts = c.instances.iter().map(|i| (false, i.name.clone()));
        insts
            .chain(c.sync_groups.iter().map(|g| (true, g.name.clone())))
            .collect()
    };
    let (before, after) = (names(old), names(new));
    let spare = after.len() + before.len();
    before
        .iter()
        .enumerate()
        .map(|(k, o)| after.iter().position(|n| n == o).unwrap_or(spare + k))
        .collect()
}
