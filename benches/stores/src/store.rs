//! The four operations klaxon needs from its store, over sled, redb and fjall.

use std::path::Path;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// klaxon's trees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tree {
    AlertLog,
    Silences,
    Nflog,
    History,
}

impl Tree {
    pub const ALL: [Tree; 4] = [Tree::AlertLog, Tree::Silences, Tree::Nflog, Tree::History];

    pub fn name(self) -> &'static str {
        match self {
            Tree::AlertLog => "alert_log",
            Tree::Silences => "silences",
            Tree::Nflog => "nflog",
            Tree::History => "history",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What klaxon asks of its store. Writes need not be durable until the
/// next `flush`, which must fsync.
pub trait Store {
    fn put(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<()>;
    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<()>;
    /// Everything written so far is on disk when this returns.
    fn flush(&mut self) -> Result<()>;
    /// Calls `f` for every entry of `tree`, in key order.
    fn scan_all(&mut self, tree: Tree, f: &mut dyn FnMut(&[u8], &[u8])) -> Result<()>;
    /// Removes every key of `tree` below `end`; durable after `flush`.
    fn range_delete(&mut self, tree: Tree, end: &[u8]) -> Result<()>;
}

/// `fjall-tuned`: fjall with 8 MiB memtables and its smallest journal
/// cap (64 MiB) instead of 64 MiB memtables and 512 MiB of journal.
pub const KINDS: [&str; 4] = ["sled", "redb", "fjall", "fjall-tuned"];

/// Equal page-cache budget for all three: sled's as klaxon configures it.
const CACHE_BYTES: u64 = 8 * 1024 * 1024;

pub fn open(kind: &str, path: &Path) -> Result<Box<dyn Store>> {
    std::fs::create_dir_all(path)?;
    Ok(match kind {
        "sled" => Box::new(SledStore::open(path)?),
        "redb" => Box::new(RedbStore::open(path)?),
        "fjall" => Box::new(FjallStore::open(path, false)?),
        "fjall-tuned" => Box::new(FjallStore::open(path, true)?),
        other => return Err(format!("unknown store {other}").into()),
    })
}

// ---------------------------------------------------------------- sled

struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
}

impl SledStore {
    fn open(path: &Path) -> Result<Self> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .segment_size(512 * 1024)
            // As klaxon: no background flusher, klaxon flushes itself.
            .flush_every_ms(None)
            .open()?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Self { db, trees })
    }
}

impl Store for SledStore {
    fn put(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<()> {
        self.trees[tree.index()].insert(key, value)?;
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<()> {
        self.trees[tree.index()].remove(key)?;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    fn scan_all(&mut self, tree: Tree, f: &mut dyn FnMut(&[u8], &[u8])) -> Result<()> {
        for entry in self.trees[tree.index()].iter() {
            let (k, v) = entry?;
            f(&k, &v);
        }
        Ok(())
    }

    /// sled has no range delete: one remove per key, as klaxon does.
    fn range_delete(&mut self, tree: Tree, end: &[u8]) -> Result<()> {
        let t = &self.trees[tree.index()];
        for key in t.range(..end).keys() {
            t.remove(key?)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- redb

const REDB_TABLES: [redb::TableDefinition<&[u8], &[u8]>; 4] = [
    redb::TableDefinition::new("alert_log"),
    redb::TableDefinition::new("silences"),
    redb::TableDefinition::new("nflog"),
    redb::TableDefinition::new("history"),
];

enum Op {
    Put(Tree, Vec<u8>, Vec<u8>),
    Remove(Tree, Vec<u8>),
    RangeDelete(Tree, Vec<u8>),
}

/// redb writes only inside a write transaction, and a commit with the
/// default durability is the fsync; so writes queue in memory and `flush`
/// applies them in one transaction (what klaxon on redb would do).
struct RedbStore {
    db: redb::Database,
    pending: Vec<Op>,
}

impl RedbStore {
    fn open(path: &Path) -> Result<Self> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES as usize)
            .create(path.join("klaxon.redb"))?;
        let txn = db.begin_write()?;
        for def in REDB_TABLES {
            txn.open_table(def)?;
        }
        txn.commit()?;
        Ok(Self {
            db,
            pending: Vec::new(),
        })
    }
}

impl Store for RedbStore {
    fn put(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<()> {
        self.pending
            .push(Op::Put(tree, key.to_vec(), value.to_vec()));
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<()> {
        self.pending.push(Op::Remove(tree, key.to_vec()));
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut tables = REDB_TABLES
                .iter()
                .map(|d| txn.open_table(*d))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for op in self.pending.drain(..) {
                match op {
                    Op::Put(t, k, v) => {
                        tables[t.index()].insert(k.as_slice(), v.as_slice())?;
                    }
                    Op::Remove(t, k) => {
                        tables[t.index()].remove(k.as_slice())?;
                    }
                    Op::RangeDelete(t, end) => {
                        tables[t.index()].retain_in(..end.as_slice(), |_, _| false)?;
                    }
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn scan_all(&mut self, tree: Tree, f: &mut dyn FnMut(&[u8], &[u8])) -> Result<()> {
        use redb::{ReadableDatabase, ReadableTable};
        let txn = self.db.begin_read()?;
        let table = txn.open_table(REDB_TABLES[tree.index()])?;
        for entry in table.range(..)? {
            let (k, v) = entry?;
            f(k.value(), v.value());
        }
        Ok(())
    }

    /// `retain_in` over the range, inside the next commit.
    fn range_delete(&mut self, tree: Tree, end: &[u8]) -> Result<()> {
        self.pending.push(Op::RangeDelete(tree, end.to_vec()));
        Ok(())
    }
}

// ---------------------------------------------------------------- fjall

struct FjallStore {
    db: fjall::Database,
    keyspaces: Vec<fjall::Keyspace>,
}

impl FjallStore {
    fn open(path: &Path, tuned: bool) -> Result<Self> {
        let mut builder = fjall::Database::builder(path).cache_size(CACHE_BYTES);
        if tuned {
            builder = builder.max_journaling_size(64 * 1024 * 1024);
        }
        let db = builder.open()?;
        let options = || {
            let o = fjall::KeyspaceCreateOptions::default();
            if tuned {
                o.max_memtable_size(8 * 1024 * 1024)
            } else {
                o
            }
        };
        let keyspaces = Tree::ALL
            .iter()
            .map(|t| db.keyspace(t.name(), options))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Self { db, keyspaces })
    }
}

impl Store for FjallStore {
    fn put(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<()> {
        self.keyspaces[tree.index()].insert(key, value)?;
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<()> {
        self.keyspaces[tree.index()].remove(key)?;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.db.persist(fjall::PersistMode::SyncAll)?;
        Ok(())
    }

    fn scan_all(&mut self, tree: Tree, f: &mut dyn FnMut(&[u8], &[u8])) -> Result<()> {
        for guard in self.keyspaces[tree.index()].iter() {
            let (k, v) = guard.into_inner()?;
            f(&k, &v);
        }
        Ok(())
    }

    /// fjall 3 exposes no range tombstone: one remove per key.
    fn range_delete(&mut self, tree: Tree, end: &[u8]) -> Result<()> {
        let ks = &self.keyspaces[tree.index()];
        let keys = ks
            .range(..end)
            .map(|g| g.key())
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for k in keys {
            ks.remove(k)?;
        }
        Ok(())
    }
}
