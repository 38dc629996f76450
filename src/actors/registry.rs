//! The only map from channel ids to running channel actors (and their hubs).

use std::sync::Arc;

use dashmap::DashMap;
use ractor::{ActorId, ActorRef};

use super::{channel::ChannelMsg, hub::Hub};
use crate::domain::AccountId;

#[derive(Clone)]
pub struct Entry {
    pub actor: ActorRef<ChannelMsg>,
    pub hub: Arc<Hub>,
}

/// Read by every request; written only by the supervisor.
#[derive(Default)]
pub struct Registry {
    channels: DashMap<AccountId, Entry>,
}

impl Registry {
    pub fn get(&self, channel: AccountId) -> Option<Entry> {
        self.channels.get(&channel).map(|e| e.clone())
    }

    pub(super) fn insert(&self, channel: AccountId, entry: Entry) {
        self.channels.insert(channel, entry);
    }

    /// Forgets the channel if `actor` is still the one registered; returns its hub.
    pub(super) fn remove_actor(&self, channel: AccountId, actor: ActorId) -> Option<Arc<Hub>> {
        self.channels
            .remove_if(&channel, |_, e| e.actor.get_id() == actor)
            .map(|(_, e)| e.hub)
    }

    pub fn len(&self) -> usize {
        self.channels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    pub(super) fn close_all(&self, code: u16, reason: &str) {
        for entry in self.channels.iter() {
            entry.hub.close_all(code, reason);
        }
    }
}
