//! One shared copy of strings that many alerts repeat.
//!
//! Prometheus gives every alert of a rule the same `generatorURL`; with
//! 100k alerts from a few hundred rules, one copy per alert was several
//! MiB. The table also remembers that a string was already validated.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Interner {
    strings: Mutex<HashSet<Arc<str>>>,
}

impl Interner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<Arc<str>>> {
        self.strings.lock().expect("interner lock")
    }

    /// The shared copy, if `s` was interned before.
    pub fn get(&self, s: &str) -> Option<Arc<str>> {
        self.lock().get(s).cloned()
    }

    /// The shared copy of `s`, made now if there is none.
    pub fn intern(&self, s: &str) -> Arc<str> {
        let mut strings = self.lock();
        if let Some(shared) = strings.get(s) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        strings.insert(shared.clone());
        shared
    }

    /// Forgets strings nothing else holds any more.
    pub fn prune(&self) {
        self.lock().retain(|s| Arc::strong_count(s) > 1);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_copy_until_nobody_holds_it() {
        let table = Interner::default();
        let a = table.intern("http://prom/graph");
        let b = table.intern("http://prom/graph");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(table.get("http://other").is_none());
        drop((a, b));
        table.prune();
        assert!(table.is_empty());
    }
}
