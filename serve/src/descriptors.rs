//! File descriptors for `serve`'s connections: the process's limit (`RLIMIT_NOFILE`) must hold
//! the main port's connections, the metrics port's and a reserve for everything else (S3
//! connections, the tenants file, logs, the listeners). Under a common limit of 1,100,
//! connections to the metrics port once took every descriptor and the main port answered
//! nothing; now each listener has its cap, and the main port's cap is lowered to fit the limit
//! when the soft limit cannot be raised far enough.

/// Descriptors kept for everything but client connections.
pub const RESERVE: u64 = 128;

/// What to do with the descriptor limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// Raise the soft limit to this (never past the hard limit).
    pub raise_soft_to: Option<u64>,
    /// The main port's connection cap that fits.
    pub max_connections: usize,
}

/// How `wanted` main-port connections and `metrics` metrics connections fit under the limits
/// `soft` and `hard`, with [`RESERVE`] kept: the soft limit raised as far as needed (and
/// allowed), else the main port's cap lowered (to at least one).
pub fn fit(soft: u64, hard: u64, wanted: usize, metrics: usize) -> Fit {
    let others = metrics as u64 + RESERVE;
    let needed = (wanted as u64).saturating_add(others);
    let target = if soft >= needed { soft } else { needed.min(hard.max(soft)) };
    let room = usize::try_from(target.saturating_sub(others)).unwrap_or(usize::MAX);
    Fit { raise_soft_to: (target > soft).then_some(target), max_connections: wanted.min(room).max(1) }
}

/// Fits `wanted` main-port connections and `metrics` metrics connections under this process's
/// descriptor limit (raising its soft limit if needed and allowed); the main port's cap to use.
/// Where the limit cannot be read, `wanted`.
pub fn fit_process(wanted: usize, metrics: usize) -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes the struct it is given and has no other precondition.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return wanted;
        }
        let plan = fit(limit.rlim_cur, limit.rlim_max, wanted, metrics);
        if let Some(soft) = plan.raise_soft_to {
            let raised = libc::rlimit { rlim_cur: soft, rlim_max: limit.rlim_max };
            // SAFETY: setrlimit reads the struct it is given; a soft limit up to the hard one is
            // always allowed.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
                return fit(limit.rlim_cur, limit.rlim_cur, wanted, metrics).max_connections;
            }
        }
        if plan.max_connections < wanted {
            tracing::warn!(
                wanted,
                fits = plan.max_connections,
                limit = limit.rlim_max,
                "the file descriptor limit holds fewer connections than asked for; raise it (ulimit -n)"
            );
        }
        plan.max_connections
    }
    #[cfg(not(unix))]
    {
        let _ = metrics;
        wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_fit_under_the_limit_with_the_reserve_kept() {
        let table = [
            // Room enough: nothing changes.
            ((65_536, 65_536, 1024, 64), (None, 1024)),
            // The soft limit raised as far as needed.
            ((1024, 65_536, 1024, 64), (Some(1216), 1024)),
            // A hard limit of 1,100: the main port holds what is left.
            ((1100, 1100, 1024, 64), (None, 908)),
            ((256, 1100, 1024, 64), (Some(1100), 908)),
            ((300, 300, 1024, 64), (None, 108)),
            // Nothing left: one connection still.
            ((100, 100, 1024, 64), (None, 1)),
        ];
        for ((soft, hard, wanted, metrics), (raise, connections)) in table {
            let plan = fit(soft, hard, wanted, metrics);
            assert_eq!((plan.raise_soft_to, plan.max_connections), (raise, connections), "{soft} {hard}");
        }
    }
}
