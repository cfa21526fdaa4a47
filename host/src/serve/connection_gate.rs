//! Admission of connections: a cap on all of them, and a smaller one on those that have not
//! authenticated yet, enforced by closing the oldest of those when a new one arrives.
//!
//! Closing the oldest rather than refusing the newest means a client with the token always
//! gets a connection in: an attacker holding idle connections loses them to newcomers, and a
//! connection leaves the unauthenticated set with its first request that carries the token.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The connections a server admits.
pub(super) struct ConnectionGate {
    slots: Arc<Semaphore>,
    max_unauthenticated: usize,
    unauthenticated: Mutex<Unauthenticated>,
}

#[derive(Default)]
struct Unauthenticated {
    next_id: u64,
    /// Oldest first: the id of each unauthenticated connection and how to close it.
    open: VecDeque<(u64, Arc<Notify>)>,
}

/// One admitted connection: holds its slot until dropped.
pub(super) struct Admission {
    gate: Arc<ConnectionGate>,
    id: u64,
    evicted: Arc<Notify>,
    _slot: OwnedSemaphorePermit,
}

impl ConnectionGate {
    /// A gate for `max_connections` connections, at most `max_unauthenticated` of them not yet
    /// authenticated.
    pub(super) fn new(max_connections: usize, max_unauthenticated: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(max_connections)),
            max_unauthenticated,
            unauthenticated: Mutex::new(Unauthenticated::default()),
        })
    }

    /// Waits for a free slot (the next connection stays in the listen backlog meanwhile).
    pub(super) async fn slot(&self) -> OwnedSemaphorePermit {
        // The semaphore is never closed, so acquiring only waits.
        loop {
            if let Ok(permit) = self.slots.clone().acquire_owned().await {
                return permit;
            }
        }
    }

    /// Admits a new connection on `slot` as unauthenticated, closing the oldest unauthenticated
    /// connection if there are already as many as allowed.
    pub(super) fn admit(self: &Arc<Self>, slot: OwnedSemaphorePermit) -> Admission {
        let evicted = Arc::new(Notify::new());
        let mut unauthenticated = self.unauthenticated.lock().unwrap_or_else(PoisonError::into_inner);
        while unauthenticated.open.len() >= self.max_unauthenticated {
            match unauthenticated.open.pop_front() {
                // `notify_one` keeps the wake-up if the connection is not waiting yet.
                Some((_, oldest)) => oldest.notify_one(),
                None => break,
            }
        }
        let id = unauthenticated.next_id;
        unauthenticated.next_id += 1;
        unauthenticated.open.push_back((id, evicted.clone()));
        Admission { gate: self.clone(), id, evicted, _slot: slot }
    }

    /// How many admitted connections have not authenticated yet.
    #[cfg(test)]
    fn unauthenticated(&self) -> usize {
        self.unauthenticated.lock().unwrap_or_else(PoisonError::into_inner).open.len()
    }

    fn forget(&self, id: u64) {
        let mut unauthenticated = self.unauthenticated.lock().unwrap_or_else(PoisonError::into_inner);
        unauthenticated.open.retain(|(open, _)| *open != id);
    }
}

impl Admission {
    /// The connection sent a request with the token: it can no longer be closed to make room.
    pub(super) fn authenticated(&self) {
        self.gate.forget(self.id);
    }

    /// Completes when the gate closes this connection to make room for a newer one.
    pub(super) async fn evicted(&self) {
        self.evicted.notified().await;
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

    #[tokio::test]
    async fn the_oldest_unauthenticated_connection_makes_room_and_authenticated_ones_stay() {
        let gate = ConnectionGate::new(10, 2);
        let first = gate.admit(gate.slot().await);
        let second = gate.admit(gate.slot().await);
        second.authenticated();
        let third = gate.admit(gate.slot().await);
        assert_eq!(gate.unauthenticated(), 2);
        let fourth = gate.admit(gate.slot().await);
        assert!(is_evicted(&first).await, "the oldest unauthenticated connection is closed");
        assert!(!is_evicted(&second).await, "an authenticated connection is never closed for room");
        assert!(!is_evicted(&third).await);
        drop(fourth);
        assert_eq!(gate.unauthenticated(), 1);
    }

    #[tokio::test]
    async fn slots_are_released_when_connections_end() {
        let gate = ConnectionGate::new(1, 1);
        let only = gate.admit(gate.slot().await);
        assert!(tokio::time::timeout(Duration::from_millis(20), gate.slot()).await.is_err(), "the cap holds");
        drop(only);
        assert!(tokio::time::timeout(Duration::from_millis(20), gate.slot()).await.is_ok());
    }
}
