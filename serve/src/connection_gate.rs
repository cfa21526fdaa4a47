//! Admission of connections: a cap on all of them, a smaller one on those that have not
//! authenticated yet, and a share of the slots for each tenant, so that no client (with the
//! token or without) can keep others out by holding connections.
//!
//! A full gate closes a connection for a newcomer rather than refusing it: the oldest one not
//! yet authenticated, else an idle kept-alive connection of the tenant holding the most (one
//! tenant's token once held 1,030 kept-alive connections, and another tenant's requests and
//! `/healthz` itself waited for as long as they were held). A connection in the middle of a
//! request is never closed for room. Who to close is decided by pure functions on plain data
//! ([`room_for_newcomer`], [`within_share`]); the gate only keeps the data and acts. When every
//! connection is busy, a few more are let in for the probes ([`PROBE_ROOM`]), so that
//! `/healthz` still answers; a request with a token on one of them is told the server is full.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// Connections let in past a full gate whose every connection is busy: enough for the probes
/// (`/healthz`, `/readyz`) and the API description, which need no token; a request with a token
/// on one is answered 503 and the connection closed.
pub(super) const PROBE_ROOM: usize = 8;

/// One open connection as the decisions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Held<'a> {
    /// Its id: a smaller id is an older connection.
    pub id: u64,
    /// The tenant it authenticated as, `None` before its first request with a token.
    pub tenant: Option<&'a str>,
    /// Whether a request of it is being answered (its answer's body not yet sent whole).
    pub busy: bool,
}

/// What makes room for a new connection in a full gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Room {
    /// Close this connection.
    Close(u64),
    /// Every connection is busy: wait for one to end.
    Wait,
}

/// The connection to close for a newcomer when `held` fill the gate: the oldest idle one not
/// yet authenticated, else the oldest idle one of the tenant holding the most connections (on a
/// tie, the tenant whose idle connection is oldest), else none ([`Room::Wait`]).
pub(super) fn room_for_newcomer(held: &[Held<'_>]) -> Room {
    if let Some(oldest) = held.iter().filter(|h| h.tenant.is_none() && !h.busy).min_by_key(|h| h.id) {
        return Room::Close(oldest.id);
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for tenant in held.iter().filter_map(|h| h.tenant) {
        *counts.entry(tenant).or_default() += 1;
    }
    held.iter()
        .filter(|h| !h.busy)
        .filter_map(|h| h.tenant.map(|tenant| (counts.get(tenant).copied().unwrap_or(0), h.id)))
        // The most connections first, then the oldest.
        .max_by_key(|(count, id)| (*count, std::cmp::Reverse(*id)))
        .map_or(Room::Wait, |(_, id)| Room::Close(id))
}

/// Whether a connection of `tenant` fits its `share` of the slots once counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Share {
    /// Within the share.
    Fits,
    /// Over it: close this idle connection of the same tenant (its oldest) to stay within.
    Close(u64),
    /// Over it, and every other connection of the tenant is busy: refuse this one.
    Over,
}

/// Whether connection `me`, authenticating as `tenant`, fits the tenant's `share` of the slots
/// given the connections `held` (`me` among them or not).
pub(super) fn within_share(held: &[Held<'_>], tenant: &str, me: u64, share: usize) -> Share {
    let others: Vec<&Held<'_>> = held.iter().filter(|h| h.tenant == Some(tenant) && h.id != me).collect();
    if others.len() < share {
        return Share::Fits;
    }
    others.iter().filter(|h| !h.busy).min_by_key(|h| h.id).map_or(Share::Over, |h| Share::Close(h.id))
}

/// A tenant's share of `max_connections` when `tenants` are served: all of them for one tenant,
/// else half (at least one), unless `configured`.
pub(super) fn connection_share(max_connections: usize, tenants: usize, configured: Option<usize>) -> usize {
    let share = match configured {
        Some(share) => share,
        None if tenants <= 1 => max_connections,
        None => max_connections / 2,
    };
    share.clamp(1, max_connections.max(1))
}

/// The connections a server admits.
pub(super) struct ConnectionGate {
    max_connections: usize,
    max_unauthenticated: usize,
    share: Option<usize>,
    open: Mutex<BTreeMap<u64, Open>>,
    next_id: std::sync::atomic::AtomicU64,
    /// Wakes the accept loop when a connection ends.
    freed: Notify,
}

/// One open connection as the gate keeps it.
struct Open {
    tenant: Option<Arc<str>>,
    busy: usize,
    /// Chosen to be closed: no longer counted as unauthenticated nor chosen again.
    closing: bool,
    /// Let in past a full gate ([`PROBE_ROOM`]): not counted against the cap, never
    /// authenticated.
    probe_only: bool,
    close: Arc<Notify>,
}

/// One admitted connection: holds its slot until dropped.
pub(super) struct Admission {
    gate: Arc<ConnectionGate>,
    id: u64,
    evicted: Arc<Notify>,
}

/// Why a connection may not carry a tenant's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum Refused {
    /// The tenant would go over its share while all its other connections are busy.
    #[error("the tenant holds {share} connections, its share of the server's; retry when one ends")]
    OverShare {
        /// The tenant's share.
        share: usize,
    },
    /// The connection was let in past a full gate, for the probes only.
    #[error("every connection of the server is busy; retry shortly")]
    Full,
}

/// Marks its connection busy until dropped (when the answer's body has been sent).
pub(super) struct Busy {
    gate: Arc<ConnectionGate>,
    id: u64,
}

impl ConnectionGate {
    /// A gate for `max_connections` connections, at most `max_unauthenticated` of them not yet
    /// authenticated, each tenant with `share` of them (`None`: [`connection_share`]'s default).
    pub(super) fn new(max_connections: usize, max_unauthenticated: usize, share: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            max_connections: max_connections.max(1),
            max_unauthenticated: max_unauthenticated.max(1),
            share,
            open: Mutex::new(BTreeMap::new()),
            next_id: std::sync::atomic::AtomicU64::new(0),
            freed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Open>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a new (already accepted) connection as unauthenticated, closing the oldest
    /// unauthenticated one if there are as many as allowed; when the gate is full, closes a
    /// connection for it ([`room_for_newcomer`]) or waits for one to end.
    pub(super) async fn admit(self: &Arc<Self>) -> Admission {
        loop {
            let freed = self.freed.notified();
            {
                let mut open = self.lock();
                let unauthenticated: Vec<u64> = open
                    .iter()
                    .filter(|(_, o)| o.tenant.is_none() && !o.closing)
                    .map(|(id, _)| *id)
                    .collect();
                let over = (unauthenticated.len() + 1).saturating_sub(self.max_unauthenticated);
                for id in unauthenticated.into_iter().take(over) {
                    close(&mut open, id);
                }
                let regular = open.values().filter(|o| !o.probe_only).count();
                if regular < self.max_connections {
                    return self.insert(&mut open, false);
                }
                // Connections already closing free their slots soon: choose no more for them.
                if !open.values().any(|o| o.closing && !o.probe_only) {
                    let held: Vec<Held<'_>> = open
                        .iter()
                        .filter(|(_, o)| !o.probe_only)
                        .map(|(id, o)| Held { id: *id, tenant: o.tenant.as_deref(), busy: o.busy > 0 })
                        .collect();
                    match room_for_newcomer(&held) {
                        Room::Close(id) => close(&mut open, id),
                        Room::Wait => {
                            let probes: Vec<u64> = open
                                .iter()
                                .filter(|(_, o)| o.probe_only && !o.closing)
                                .map(|(id, _)| *id)
                                .collect();
                            if probes.len() < PROBE_ROOM {
                                return self.insert(&mut open, true);
                            }
                            // The probes' room is full too: its oldest makes room.
                            if let Some(oldest) = probes.first() {
                                close(&mut open, *oldest);
                            }
                        }
                    }
                }
            }
            freed.await;
        }
    }

    fn insert(self: &Arc<Self>, open: &mut BTreeMap<u64, Open>, probe_only: bool) -> Admission {
        let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let evicted = Arc::new(Notify::new());
        open.insert(id, Open { tenant: None, busy: 0, closing: false, probe_only, close: evicted.clone() });
        Admission { gate: self.clone(), id, evicted }
    }

    /// How many admitted connections have not authenticated yet (those closing aside).
    #[cfg(test)]
    fn unauthenticated(&self) -> usize {
        self.lock().values().filter(|o| o.tenant.is_none() && !o.closing).count()
    }

    fn forget(&self, id: u64) {
        self.lock().remove(&id);
        // One accept loop waits; the permit is kept if it is not waiting yet.
        self.freed.notify_one();
    }
}

/// Marks `id` as closing and tells its task.
fn close(open: &mut BTreeMap<u64, Open>, id: u64) {
    if let Some(entry) = open.get_mut(&id) {
        entry.closing = true;
        // `notify_one` keeps the wake-up if the connection is not waiting yet.
        entry.close.notify_one();
    }
}

impl Admission {
    /// The connection sent a request with `tenant`'s token while `tenants` are served: it can
    /// no longer be closed for room while it is busy. Past the tenant's share of the slots, one
    /// of its idle connections is closed, or this one refused when all are busy.
    pub(super) fn authenticated(&self, tenant: &str, tenants: usize) -> Result<(), Refused> {
        let gate = &self.gate;
        let mut open = gate.lock();
        match open.get(&self.id) {
            Some(entry) if entry.probe_only => return Err(Refused::Full),
            Some(entry) if entry.tenant.as_deref() == Some(tenant) => return Ok(()),
            _ => {}
        }
        let share = connection_share(gate.max_connections, tenants, gate.share);
        let held: Vec<Held<'_>> = open
            .iter()
            .filter(|(_, o)| !o.closing && !o.probe_only)
            .map(|(id, o)| Held { id: *id, tenant: o.tenant.as_deref(), busy: o.busy > 0 })
            .collect();
        match within_share(&held, tenant, self.id, share) {
            Share::Fits => {}
            Share::Close(id) => close(&mut open, id),
            Share::Over => return Err(Refused::OverShare { share }),
        }
        if let Some(entry) = open.get_mut(&self.id) {
            entry.tenant = Some(Arc::from(tenant));
        }
        Ok(())
    }

    /// Marks the connection busy until the returned guard is dropped.
    pub(super) fn busy(&self) -> Busy {
        if let Some(entry) = self.gate.lock().get_mut(&self.id) {
            entry.busy += 1;
        }
        Busy { gate: self.gate.clone(), id: self.id }
    }

    /// Completes when the gate closes this connection to make room for a newer one.
    pub(super) async fn evicted(&self) {
        self.evicted.notified().await;
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(entry) = self.gate.lock().get_mut(&self.id) {
            entry.busy = entry.busy.saturating_sub(1);
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.gate.forget(self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn is_evicted(admission: &Admission) -> bool {
        tokio::time::timeout(Duration::from_millis(20), admission.evicted()).await.is_ok()
    }

    async fn admitted(gate: &Arc<ConnectionGate>) -> Option<Admission> {
        tokio::time::timeout(Duration::from_millis(50), gate.admit()).await.ok()
    }

    fn held(id: u64, tenant: Option<&str>, busy: bool) -> Held<'_> {
        Held { id, tenant, busy }
    }

    #[test]
    fn a_full_gate_closes_the_oldest_unauthenticated_then_the_heaviest_tenants_idle_connection() {
        let (a, b) = (Some("a"), Some("b"));
        let table: &[(&[Held<'_>], Room)] = &[
            (&[held(0, a, false), held(1, None, false), held(2, None, true)], Room::Close(1)),
            // A holds three, B one: A's oldest idle one goes, not B's older one.
            (&[held(0, b, false), held(1, a, true), held(2, a, false), held(3, a, false)], Room::Close(2)),
            // A's connections all busy: B's idle one.
            (&[held(0, a, true), held(1, a, true), held(2, b, false)], Room::Close(2)),
            // A tie: the oldest idle connection.
            (&[held(0, b, false), held(1, a, false)], Room::Close(0)),
            (&[held(0, a, true), held(1, b, true)], Room::Wait),
            (&[], Room::Wait),
        ];
        for (connections, expected) in table {
            assert_eq!(room_for_newcomer(connections), *expected, "{connections:?}");
        }
    }

    #[test]
    fn a_tenant_past_its_share_loses_its_own_idle_connection_or_is_refused() {
        let (a, b) = (Some("a"), Some("b"));
        let table: &[(&[Held<'_>], usize, Share)] = &[
            (&[held(0, a, false), held(1, None, false)], 2, Share::Fits),
            (&[held(0, a, true), held(1, a, false), held(2, a, false)], 2, Share::Close(1)),
            (&[held(0, a, true), held(1, a, true), held(5, None, false)], 2, Share::Over),
            // Other tenants' connections do not count, nor the connection itself.
            (&[held(0, b, true), held(1, b, true), held(5, a, false)], 1, Share::Fits),
        ];
        for (connections, share, expected) in table {
            assert_eq!(within_share(connections, "a", 5, *share), *expected, "{connections:?}");
        }
    }

    #[test]
    fn shares_default_to_all_for_one_tenant_and_half_for_more() {
        let table =
            [((1024, 1, None), 1024), ((1024, 2, None), 512), ((1024, 9, Some(100)), 100), ((1, 5, None), 1)];
        for ((max, tenants, configured), expected) in table {
            assert_eq!(
                connection_share(max, tenants, configured),
                expected,
                "{max} {tenants} {configured:?}"
            );
        }
    }

    #[tokio::test]
    async fn the_oldest_unauthenticated_connection_makes_room_and_authenticated_ones_stay() {
        let gate = ConnectionGate::new(10, 2, None);
        let first = gate.admit().await;
        let second = gate.admit().await;
        second.authenticated("a", 1).unwrap();
        let third = gate.admit().await;
        assert_eq!(gate.unauthenticated(), 2);
        let fourth = gate.admit().await;
        assert!(is_evicted(&first).await, "the oldest unauthenticated connection is closed");
        assert!(!is_evicted(&second).await, "an authenticated connection is never closed for room");
        assert!(!is_evicted(&third).await);
        drop(fourth);
        assert_eq!(gate.unauthenticated(), 1);
    }

    #[tokio::test]
    async fn a_full_gate_closes_an_idle_connection_and_waits_for_busy_ones() {
        let gate = ConnectionGate::new(2, 2, None);
        let first = gate.admit().await;
        first.authenticated("a", 1).unwrap();
        let second = gate.admit().await;
        second.authenticated("a", 1).unwrap();
        assert!(!is_evicted(&first).await, "one tenant may hold every slot");
        let busy = (first.busy(), second.busy());
        let mut probes = Vec::new();
        for _ in 0..PROBE_ROOM {
            probes.push(admitted(&gate).await.expect("every connection is busy: let in for the probes"));
        }
        assert_eq!(
            probes[0].authenticated("b", 2),
            Err(Refused::Full),
            "a probe-only connection carries no token"
        );
        drop(probes);
        drop(busy);
        let newcomer = tokio::spawn({
            let gate = gate.clone();
            async move { gate.admit().await.id }
        });
        assert!(is_evicted(&first).await, "the oldest idle connection of the heaviest tenant is closed");
        drop(first);
        let id = tokio::time::timeout(Duration::from_secs(1), newcomer).await.unwrap().unwrap();
        assert!(id > second.id);
    }

    #[tokio::test]
    async fn a_tenant_over_its_share_is_refused_while_its_connections_are_busy() {
        let gate = ConnectionGate::new(4, 4, None);
        let (first, second, third) = (gate.admit().await, gate.admit().await, gate.admit().await);
        first.authenticated("a", 2).unwrap();
        second.authenticated("a", 2).unwrap();
        let busy = (first.busy(), second.busy());
        assert_eq!(third.authenticated("a", 2), Err(Refused::OverShare { share: 2 }));
        assert!(third.authenticated("b", 2).is_ok(), "another tenant has its own share");
        drop(busy);
        let fourth = gate.admit().await;
        assert!(fourth.authenticated("a", 2).is_ok());
        assert!(is_evicted(&first).await, "the tenant's own oldest idle connection makes room");
    }

    #[tokio::test]
    async fn slots_are_released_when_connections_end() {
        let gate = ConnectionGate::new(1, 1, None);
        let only = gate.admit().await;
        only.authenticated("a", 1).unwrap();
        let _busy = only.busy();
        let mut probes = Vec::new();
        for _ in 0..PROBE_ROOM {
            probes.push(admitted(&gate).await.expect("room for the probes"));
        }
        let newest = tokio::spawn({
            let gate = gate.clone();
            async move { gate.admit().await }
        });
        assert!(is_evicted(&probes[0]).await, "the oldest probe-only connection makes room");
        probes.remove(0);
        let newest = tokio::time::timeout(Duration::from_secs(1), newest).await.unwrap().unwrap();
        assert_eq!(
            newest.authenticated("a", 1),
            Err(Refused::Full),
            "the cap holds for requests with a token"
        );
        drop((only, probes, newest));
        let fresh = admitted(&gate).await.expect("a slot again");
        assert!(fresh.authenticated("a", 1).is_ok());
    }
}
