//! One shared copy of strings that many alerts repeat.
//!
//! Prometheus gives every alert of a rule the same `generatorURL`; with
//! 100k alerts from a few hundred rules, one copy per alert was several
//! MiB. The table also remembers that a string was already validated.

use std::borrow::Borrow;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// A shared, immutable string behind a one-word pointer (`Arc<str>` takes
/// two): every alert holds one, and the alert struct must stay within
/// 88 bytes to fit malloc's 112-byte size class.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SharedStr(Arc<Box<str>>);

impl SharedStr {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl Default for SharedStr {
    fn default() -> Self {
        "".into()
    }
}

impl std::ops::Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        Self(Arc::new(s.into()))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        Self(Arc::new(s.into_boxed_str()))
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl Serialize for SharedStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from)
    }
}

#[derive(Default)]
pub struct Interner {
    /// foldhash: URLs are long, and it hashes several bytes a step.
    strings: Mutex<hashbrown::HashSet<SharedStr>>,
}

impl Interner {
    fn lock(&self) -> std::sync::MutexGuard<'_, hashbrown::HashSet<SharedStr>> {
        self.strings.lock().expect("interner lock")
    }

    /// The shared copy, if `s` was interned before.
    pub fn get(&self, s: &str) -> Option<SharedStr> {
        self.lock().get(s).cloned()
    }

    /// The shared copy of `s`, made now if there is none.
    pub fn intern(&self, s: &str) -> SharedStr {
        let mut strings = self.lock();
        if let Some(shared) = strings.get(s) {
            return shared.clone();
        }
        let shared = SharedStr::from(s);
        strings.insert(shared.clone());
        shared
    }

    /// Forgets strings nothing else holds any more.
    pub fn prune(&self) {
        self.lock().retain(|s| Arc::strong_count(&s.0) > 1);
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
        assert!(SharedStr::ptr_eq(&a, &b));
        assert!(table.get("http://other").is_none());
        drop((a, b));
        table.prune();
        assert!(table.is_empty());
    }
}
