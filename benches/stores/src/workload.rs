//! klaxon's write pattern, in simulated time, and its startup read.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::store::{self, Result, Store, Tree};
use crate::sys;

/// The simulated scale of one churn run.
#[derive(Clone, Debug)]
pub struct Scale {
    /// Firing alerts, each re-sent once per simulated minute.
    pub alerts: u64,
    /// Simulated minutes of churn.
    pub minutes: u64,
    /// Silences created (each with a flush) over the run.
    pub silences: u64,
    /// Notifications per simulated second (one nflog put and one history
    /// put each, no flush of their own).
    pub notifications_per_s: f64,
    /// Silences are active this long, then kept this long again; nflog
    /// entries and history records are kept this long.
    pub retention_min: u64,
}

impl Default for Scale {
    fn default() -> Self {
        Self {
            alerts: 20_000,
            minutes: 240,
            // 10,000 a day, for the simulated span.
            silences: 10_000 * 240 / (24 * 60),
            notifications_per_s: 3.0,
            retention_min: 60,
        }
    }
}

impl Scale {
    pub fn args(&self) -> Vec<String> {
        vec![
            "--alerts".into(),
            self.alerts.to_string(),
            "--minutes".into(),
            self.minutes.to_string(),
            "--silences".into(),
            self.silences.to_string(),
            "--notifications".into(),
            self.notifications_per_s.to_string(),
            "--retention".into(),
            self.retention_min.to_string(),
        ]
    }

    /// Takes the scale flags out of `args`.
    pub fn parse(args: &mut Vec<String>) -> Result<Self> {
        let mut s = Self::default();
        let mut silences = None;
        let mut i = 0;
        while i < args.len() {
            let flag = args[i].as_str();
            if !matches!(
                flag,
                "--alerts" | "--minutes" | "--silences" | "--notifications" | "--retention"
            ) {
                i += 1;
                continue;
            }
            let v = args.get(i + 1).ok_or("flag needs a value")?.clone();
            match flag {
                "--alerts" => s.alerts = v.parse()?,
                "--minutes" => s.minutes = v.parse()?,
                "--silences" => silences = Some(v.parse()?),
                "--notifications" => s.notifications_per_s = v.parse()?,
                _ => s.retention_min = v.parse()?,
            }
            args.drain(i..i + 2);
        }
        s.silences = silences.unwrap_or(10_000 * s.minutes / (24 * 60));
        Ok(s)
    }
}

/// Commit window of klaxon's alert log.
const WINDOW_MS: u64 = 200;
/// Alert-log records are cut at this many bytes before compression.
const CHUNK_BYTES: usize = 32 * 1024;
/// klaxon compacts when the log exceeds twice the live set plus this.
const COMPACT_SLACK_BYTES: u64 = 16 * 1024 * 1024;
/// Expired silences, nflog entries and history are deleted this often.
const GC_EVERY_MS: u64 = 15 * 60 * 1000;
/// Notification groups (nflog keys).
const GROUPS: u32 = 5_000;
/// Simulated time starts here (2026-11-22T00:00:00Z), in ms.
const EPOCH_MS: u64 = 1_795_305_600_000;

// ------------------------------------------------------------ data

/// splitmix64: small, seedable, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const ALERTNAMES: [&str; 16] = [
    "KubePodCrashLooping",
    "KubePodNotReady",
    "KubeDeploymentReplicasMismatch",
    "KubeContainerWaiting",
    "KubeJobFailed",
    "KubeHpaMaxedOut",
    "CPUThrottlingHigh",
    "KubeMemoryOvercommit",
    "NodeFilesystemSpaceFillingUp",
    "NodeNetworkReceiveErrs",
    "TargetDown",
    "HTTPErrorRateHigh",
    "HTTPLatencyP99High",
    "PostgresReplicationLag",
    "KafkaConsumerLagHigh",
    "CertificateExpiringSoon",
];
const TEAMS: [&str; 12] = [
    "payments", "checkout", "search", "identity", "billing", "catalog", "ledger", "notify",
    "ingest", "reports", "gateway", "storage",
];
const ENVS: [&str; 3] = ["prod", "staging", "canary"];
const CONTAINERS: [&str; 6] = ["app", "sidecar", "envoy", "worker", "migrate", "exporter"];

/// One alert's encoded labels and annotations, about 740 bytes: fixed per
/// slot but for the timestamps and the current value, which change at
/// every re-send.
pub fn alert(slot: u64, sent_ms: u64, out: &mut Vec<u8>) {
    let mut r = Rng::new(slot.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0xA1E7);
    let alertname = r.pick(&ALERTNAMES);
    let team = r.pick(&TEAMS);
    let env = r.pick(&ENVS);
    let container = r.pick(&CONTAINERS);
    let ns = format!("{team}-{env}");
    let deploy = format!(
        "{team}-{}",
        r.pick(&["api", "worker", "cron", "web", "consumer"])
    );
    let pod = format!(
        "{deploy}-{:08x}-{:05x}",
        r.next() as u32,
        r.next() & 0xfffff
    );
    let ip = format!("10.{}.{}.{}", r.below(8), r.below(256), r.below(254) + 1);
    let node = format!("ip-{}.eu-west-1.compute.internal", ip.replace('.', "-"));
    let severity = r.pick(&["warning", "critical", "info"]);
    let cluster = format!("prod-eu-west-{}", r.below(3) + 1);
    let starts_ms = EPOCH_MS - r.below(6 * 3600 * 1000);
    let value = (sent_ms / 1000 % 997) as f64 / 7.0 + (slot % 13) as f64;
    let mut s = String::with_capacity(800);
    let mut label = |k: &str, v: &str| {
        s.push_str(k);
        s.push('\0');
        s.push_str(v);
        s.push('\0');
    };
    label("alertname", alertname);
    label("cluster", &cluster);
    label("container", container);
    label("instance", &format!("{ip}:8080"));
    label("job", "kubernetes-pods");
    label("namespace", &ns);
    label("node", &node);
    label("pod", &pod);
    label("service", &deploy);
    label("severity", severity);
    label("team", team);
    label("summary", &format!("{alertname}: {ns}/{pod}"));
    label(
        "description",
        &format!(
            "Pod {ns}/{pod} ({container}) on {node} has not been ready for 15 minutes; \
             current value {value:.3}."
        ),
    );
    label(
        "runbook_url",
        &format!(
            "https://runbooks.example.com/{team}/{}",
            alertname.to_ascii_lowercase()
        ),
    );
    let _ = write!(
        s,
        "http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr={alertname}%7Bnamespace%3D%22{ns}%22%7D&g0.tab=1\0{starts_ms}\0{}\0{sent_ms}\0",
        sent_ms + 4 * 60 * 1000
    );
    out.clear();
    out.extend_from_slice(s.as_bytes());
}

fn uuid(r: &mut Rng) -> String {
    let (a, b) = (r.next(), r.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// A silence as klaxon stores it: JSON, about 1.1 KB.
fn silence(r: &mut Rng, id: &str, now_ms: u64, retention_ms: u64) -> Vec<u8> {
    let team = r.pick(&TEAMS);
    let alertname = r.pick(&ALERTNAMES);
    let mut s = String::with_capacity(1200);
    let _ = write!(
        s,
        "\u{1}{{\"id\":\"{id}\",\"matchers\":[\
         {{\"name\":\"alertname\",\"value\":\"{alertname}\",\"isRegex\":false,\"isEqual\":true}},\
         {{\"name\":\"namespace\",\"value\":\"{team}-(prod|canary)\",\"isRegex\":true,\"isEqual\":true}},\
         {{\"name\":\"cluster\",\"value\":\"prod-eu-west-{}\",\"isRegex\":false,\"isEqual\":true}},\
         {{\"name\":\"severity\",\"value\":\"info\",\"isRegex\":false,\"isEqual\":false}}],\
         \"startsAt\":{now_ms},\"endsAt\":{},\"updatedAt\":{now_ms},\
         \"createdBy\":\"{}@example.com\",\"comment\":\"Maintenance window for {team}: \
         rolling restart of the {alertname} affected deployments after the incident \
         INC-{:06}. Ticket OPS-{:05}; do not remove before the change is closed. \
         Approved by the {team} lead; follow-up in the weekly review. Owner contact is in \
         the runbook, escalation goes through the platform on-call rotation as usual. \
         Extended once already because the database migration ran long; expected to \
         finish within the window, otherwise expire it and page the owner. {:016x}{:016x}\",\
         \"status\":{{\"state\":\"active\"}},\"annotations\":{{\"ticket\":\"https://tickets.example.com/browse/OPS\"}}}}",
        r.below(3) + 1,
        now_ms + retention_ms,
        ["alice", "bob", "carol", "dave"][r.below(4) as usize],
        r.below(1_000_000),
        r.below(100_000),
        r.next(),
        r.next(),
    );
    s.into_bytes()
}

fn nflog_key(group: u32) -> Vec<u8> {
    let team = TEAMS[group as usize % TEAMS.len()];
    let alertname = ALERTNAMES[group as usize / TEAMS.len() % ALERTNAMES.len()];
    format!(
        "{{}}/{{severity=\"critical\"}}:{{alertname=\"{alertname}\", g=\"{group:05}\"}}:{team}-pager/webhook/0"
    )
    .into_bytes()
}

fn nflog_value(r: &mut Rng, now_ms: u64) -> Vec<u8> {
    format!(
        "\u{1}{{\"groupHash\":\"{:016x}{:016x}\",\"resolved\":false,\"timestamp\":{now_ms},\
         \"firingAlerts\":[{},{},{}],\"expiresAt\":{}}}",
        r.next(),
        r.next(),
        r.next() >> 1,
        r.next() >> 1,
        r.next() >> 1,
        now_ms + 5 * 86_400_000,
    )
    .into_bytes()
}

fn history_value(r: &mut Rng, now_ms: u64, group: u32) -> Vec<u8> {
    let team = TEAMS[group as usize % TEAMS.len()];
    format!(
        "\u{1}{{\"at\":{now_ms},\"receiver\":\"{team}-pager\",\"integration\":\"webhook\",\"index\":0,\
         \"groupKey\":\"{{}}/{{severity=~\\\"critical|warning\\\"}}:{{g=\\\"{group:05}\\\"}}\",\
         \"alerts\":{},\"outcome\":\"success\",\"durationMs\":{},\"status\":200,\
         \"error\":null,\"attempt\":1,\"id\":\"{:016x}\",\"url\":\"http://alert-router.{team}.svc:8080/hook\"}}",
        r.below(20) + 1,
        r.below(900) + 10,
        r.next()
    )
    .into_bytes()
}

// ------------------------------------------------------------ alert log

/// Packs encoded alerts into records of at most `CHUNK_BYTES` before
/// compression: `[u32 count]` then `[u64 fingerprint][u32 len][bytes]`
/// per alert, LZ4-compressed.
struct Records {
    raw: Vec<u8>,
    count: u32,
    out: Vec<Vec<u8>>,
    raw_total: u64,
}

impl Records {
    fn new() -> Self {
        Self {
            raw: Vec::with_capacity(CHUNK_BYTES + 4096),
            count: 0,
            out: Vec::new(),
            raw_total: 0,
        }
    }

    fn push(&mut self, fp: u64, alert: &[u8]) {
        if self.count > 0 && self.raw.len() + 12 + alert.len() > CHUNK_BYTES {
            self.cut();
        }
        if self.count == 0 {
            self.raw.clear();
            self.raw.extend_from_slice(&0u32.to_le_bytes());
        }
        self.raw.extend_from_slice(&fp.to_le_bytes());
        self.raw
            .extend_from_slice(&(alert.len() as u32).to_le_bytes());
        self.raw.extend_from_slice(alert);
        self.count += 1;
    }

    fn cut(&mut self) {
        if self.count == 0 {
            return;
        }
        self.raw[..4].copy_from_slice(&self.count.to_le_bytes());
        self.raw_total += self.raw.len() as u64;
        self.out.push(lz4_flex::compress_prepend_size(&self.raw));
        self.count = 0;
    }

    fn finish(mut self) -> (Vec<Vec<u8>>, u64) {
        self.cut();
        (self.out, self.raw_total)
    }
}

fn decode_record(record: &[u8], into: &mut HashMap<u64, Box<[u8]>>) -> Result<usize> {
    let raw = lz4_flex::decompress_size_prepended(record)?;
    let bad = || -> Box<dyn std::error::Error + Send + Sync> { "corrupt record".into() };
    let count = u32::from_le_bytes(raw.get(..4).ok_or_else(bad)?.try_into()?);
    let mut at = 4;
    for _ in 0..count {
        let head = raw.get(at..at + 12).ok_or_else(bad)?;
        let fp = u64::from_le_bytes(head[..8].try_into()?);
        let len = u32::from_le_bytes(head[8..].try_into()?) as usize;
        let body = raw.get(at + 12..at + 12 + len).ok_or_else(bad)?;
        into.insert(fp, body.into());
        at += 12 + len;
    }
    Ok(count as usize)
}

// ------------------------------------------------------------ churn

/// Counts what the workload hands the store.
struct Counted<'a> {
    store: &'a mut dyn Store,
    logical: u64,
    flushes: u64,
    flush_time: Duration,
    /// Crash runs: print what is durable after every flush.
    report: bool,
    durable_seq: Option<u64>,
    durable_silence: Option<String>,
    written_seq: Option<u64>,
    written_silence: Option<String>,
}

impl Counted<'_> {
    fn put(&mut self, tree: Tree, k: &[u8], v: &[u8]) -> Result<()> {
        self.logical += (k.len() + v.len()) as u64;
        self.store.put(tree, k, v)
    }

    fn remove(&mut self, tree: Tree, k: &[u8]) -> Result<()> {
        self.logical += k.len() as u64;
        self.store.remove(tree, k)
    }

    /// `keys` is how many keys the workload knows the range holds.
    fn range_delete(&mut self, tree: Tree, end: &[u8], keys: u64) -> Result<()> {
        self.logical += keys * end.len() as u64;
        self.store.range_delete(tree, end)
    }

    fn flush(&mut self) -> Result<()> {
        let t = Instant::now();
        self.store.flush()?;
        self.flush_time += t.elapsed();
        self.flushes += 1;
        if self.report {
            self.durable_seq = self.written_seq;
            self.durable_silence.clone_from(&self.written_silence);
            println!(
                "DURABLE {} {}",
                self.durable_seq.map_or(-1, |s| s as i64),
                self.durable_silence.as_deref().unwrap_or("-")
            );
        }
        Ok(())
    }
}

pub struct ChurnStats {
    pub fields: Vec<(&'static str, String)>,
}

/// klaxon's writes for `scale.minutes` simulated minutes, as fast as the
/// store takes them.
pub fn churn(kind: &str, dir: &Path, scale: &Scale, report: bool) -> Result<ChurnStats> {
    let steal0 = sys::steal_ticks();
    let cpu0 = sys::cpu_seconds();
    let (wb0, cw0) = sys::write_bytes();
    let start = Instant::now();
    let mut store = store::open(kind, dir)?;
    let mut c = Counted {
        store: store.as_mut(),
        logical: 0,
        flushes: 0,
        flush_time: Duration::ZERO,
        report,
        durable_seq: None,
        durable_silence: None,
        written_seq: None,
        written_silence: None,
    };
    let mut rng = Rng::new(42);
    let n = scale.alerts;
    let windows_per_min = 60_000 / WINDOW_MS;
    let total_windows = scale.minutes * windows_per_min;
    let retention_ms = scale.retention_min * 60_000;
    let mut last_sent = vec![0u64; n as usize];
    let mut next_seq = 0u64;
    let mut first_seq = 0u64;
    let (mut log_bytes, mut live_bytes) = (0u64, 0u64);
    let (mut raw_bytes, mut compressed_bytes, mut alerts_sent, mut records) = (0u64, 0u64, 0, 0);
    let mut compactions = 0;
    let mut silences_live: VecDeque<(u64, String)> = VecDeque::new();
    let (mut silences_made, mut silences_deleted) = (0u64, 0u64);
    let mut nflog: HashMap<u32, u64> = HashMap::new();
    let mut nflog_deleted = 0u64;
    let mut history: VecDeque<u64> = VecDeque::new();
    let (mut notifications, mut history_deleted) = (0u64, 0u64);
    let mut hist_counter = 0u64;
    let mut buf = Vec::with_capacity(1024);
    let mut next_gc = GC_EVERY_MS;

    for w in 0..total_windows {
        let sim_ms = w * WINDOW_MS;
        let now = EPOCH_MS + sim_ms;

        // Notifications in this window: nflog and history, no flush.
        let due = ((sim_ms + WINDOW_MS) as f64 * scale.notifications_per_s / 1000.0) as u64;
        while notifications < due {
            let group = rng.below(GROUPS as u64) as u32;
            let v = nflog_value(&mut rng, now);
            c.put(Tree::Nflog, &nflog_key(group), &v)?;
            nflog.insert(group, now);
            let mut key = [0u8; 16];
            key[..8].copy_from_slice(&now.to_be_bytes());
            key[8..].copy_from_slice(&hist_counter.to_be_bytes());
            hist_counter += 1;
            let v = history_value(&mut rng, now, group);
            c.put(Tree::History, &key, &v)?;
            history.push_back(now);
            notifications += 1;
        }

        // The alerts re-sent in this window, then one flush.
        let phase = w % windows_per_min;
        let (lo, hi) = (
            phase * n / windows_per_min,
            (phase + 1) * n / windows_per_min,
        );
        let mut recs = Records::new();
        for slot in lo..hi {
            alert(slot, now, &mut buf);
            last_sent[slot as usize] = now;
            recs.push(slot, &buf);
            alerts_sent += 1;
        }
        let (out, raw) = recs.finish();
        raw_bytes += raw;
        let mut appended = 0;
        for rec in out {
            c.put(Tree::AlertLog, &next_seq.to_be_bytes(), &rec)?;
            c.written_seq = Some(next_seq);
            next_seq += 1;
            appended += rec.len() as u64;
            records += 1;
        }
        compressed_bytes += appended;
        c.flush()?;

        // klaxon's compaction rule: the live set again, flush, drop the
        // older records, flush.
        log_bytes += appended;
        if log_bytes > 2 * live_bytes + COMPACT_SLACK_BYTES {
            let first_new = next_seq;
            let mut recs = Records::new();
            for (slot, &sent) in last_sent.iter().enumerate() {
                if sent > 0 {
                    alert(slot as u64, sent, &mut buf);
                    recs.push(slot as u64, &buf);
                }
            }
            let (out, _) = recs.finish();
            let mut live = 0;
            for rec in out {
                c.put(Tree::AlertLog, &next_seq.to_be_bytes(), &rec)?;
                c.written_seq = Some(next_seq);
                next_seq += 1;
                live += rec.len() as u64;
            }
            c.flush()?;
            c.range_delete(
                Tree::AlertLog,
                &first_new.to_be_bytes(),
                first_new - first_seq,
            )?;
            c.flush()?;
            first_seq = first_new;
            live_bytes = live;
            log_bytes = live;
            compactions += 1;
        }

        // Silences created in this window, each made durable.
        let due = (sim_ms + WINDOW_MS) * scale.silences / (scale.minutes * 60_000);
        while silences_made < due {
            let id = uuid(&mut rng);
            let v = silence(&mut rng, &id, now, retention_ms);
            c.put(Tree::Silences, id.as_bytes(), &v)?;
            c.written_silence = Some(id.clone());
            c.flush()?;
            silences_live.push_back((now, id));
            silences_made += 1;
        }

        // Maintenance: expired silences, nflog entries, old history.
        if sim_ms + WINDOW_MS >= next_gc {
            next_gc += GC_EVERY_MS;
            let mut any = false;
            while let Some((at, _)) = silences_live.front() {
                if at + 2 * retention_ms > now {
                    break;
                }
                let (_, id) = silences_live.pop_front().unwrap();
                c.remove(Tree::Silences, id.as_bytes())?;
                silences_deleted += 1;
                any = true;
            }
            if any {
                c.flush()?;
            }
            let expired: Vec<u32> = nflog
                .iter()
                .filter(|&(_, &at)| at + retention_ms <= now)
                .map(|(&g, _)| g)
                .collect();
            for g in &expired {
                c.remove(Tree::Nflog, &nflog_key(*g))?;
                nflog.remove(g);
                nflog_deleted += 1;
            }
            if !expired.is_empty() {
                c.flush()?;
            }
            let bound = now.saturating_sub(retention_ms);
            let old = history.iter().take_while(|&&at| at < bound).count() as u64;
            if old > 0 {
                let mut end = [0u8; 16];
                end[..8].copy_from_slice(&bound.to_be_bytes());
                c.range_delete(Tree::History, &end, old)?;
                history.drain(..old as usize);
                history_deleted += old;
                c.flush()?;
            }
        }
    }
    let churn_wall = start.elapsed();
    let churn_cpu = sys::cpu_seconds() - cpu0;
    let (logical, flushes, flush_time) = (c.logical, c.flushes, c.flush_time);
    drop(store);
    let close_wall = start.elapsed() - churn_wall;
    let (wb1, cw1) = sys::write_bytes();
    let (du, apparent) = sys::dir_size(dir);
    let written = wb1 - wb0;
    Ok(ChurnStats {
        fields: vec![
            ("wall_s", format!("{:.2}", churn_wall.as_secs_f64())),
            ("close_s", format!("{:.2}", close_wall.as_secs_f64())),
            ("cpu_s", format!("{:.2}", churn_cpu)),
            ("flushes", flushes.to_string()),
            ("flush_s", format!("{:.2}", flush_time.as_secs_f64())),
            ("logical", logical.to_string()),
            ("write_bytes", written.to_string()),
            ("cancelled", (cw1 - cw0).to_string()),
            ("wa", format!("{:.2}", written as f64 / logical as f64)),
            ("du", du.to_string()),
            ("apparent", apparent.to_string()),
            ("peak_rss_kib", sys::peak_rss_kib().to_string()),
            ("steal", (sys::steal_ticks() - steal0).to_string()),
            ("commits", total_windows.to_string()),
            ("records", records.to_string()),
            ("alerts_sent", alerts_sent.to_string()),
            (
                "alert_bytes",
                format!("{:.0}", raw_bytes as f64 / alerts_sent as f64 - 12.0),
            ),
            (
                "lz4_ratio",
                format!("{:.2}", raw_bytes as f64 / compressed_bytes as f64),
            ),
            ("compactions", compactions.to_string()),
            ("silences", silences_made.to_string()),
            ("silences_deleted", silences_deleted.to_string()),
            ("notifications", notifications.to_string()),
            ("nflog_deleted", nflog_deleted.to_string()),
            ("history_deleted", history_deleted.to_string()),
        ],
    })
}

// ------------------------------------------------------------ recovery

type KvMap = HashMap<Box<[u8]>, Box<[u8]>>;

/// Opens the store and reads everything as klaxon's startup does.
pub fn recover(
    kind: &str,
    dir: &Path,
    expect_seq: Option<u64>,
    expect_silence: Option<&str>,
) -> Result<Vec<(&'static str, String)>> {
    let start = Instant::now();
    let mut store = store::open(kind, dir)?;
    let opened = start.elapsed();
    let mut alerts: HashMap<u64, Box<[u8]>> = HashMap::new();
    let mut records = 0u64;
    let mut max_seq: Option<u64> = None;
    let mut bad: Option<String> = None;
    store.scan_all(Tree::AlertLog, &mut |k, v| {
        records += 1;
        if let Ok(b) = <[u8; 8]>::try_from(k) {
            max_seq = max_seq.max(Some(u64::from_be_bytes(b)));
        }
        if let Err(e) = decode_record(v, &mut alerts) {
            bad.get_or_insert(e.to_string());
        }
    })?;
    if let Some(e) = bad {
        return Err(e.into());
    }
    let mut trees: Vec<KvMap> = Vec::new();
    for tree in [Tree::Silences, Tree::Nflog, Tree::History] {
        let mut m = HashMap::new();
        store.scan_all(tree, &mut |k, v| {
            m.insert(k.into(), v.into());
        })?;
        trees.push(m);
    }
    let elapsed = start.elapsed();
    let rss = sys::rss_kib();
    let seq_ok = match (expect_seq, max_seq) {
        (None, _) => true,
        (Some(e), Some(m)) => m >= e,
        (Some(_), None) => false,
    };
    let silence_ok = expect_silence.is_none_or(|id| trees[0].contains_key(id.as_bytes()));
    let out = vec![
        ("open_ms", format!("{:.1}", opened.as_secs_f64() * 1e3)),
        ("recover_ms", format!("{:.1}", elapsed.as_secs_f64() * 1e3)),
        ("rss_kib", rss.to_string()),
        ("peak_rss_kib", sys::peak_rss_kib().to_string()),
        ("records", records.to_string()),
        ("alerts", alerts.len().to_string()),
        ("silences", trees[0].len().to_string()),
        ("nflog", trees[1].len().to_string()),
        ("history", trees[2].len().to_string()),
        ("max_seq", max_seq.map_or("-".into(), |s| s.to_string())),
        ("durable_ok", (seq_ok && silence_ok).to_string()),
    ];
    drop(store);
    Ok(out)
}

// ------------------------------------------------------------ silences

/// `count` silence creates, each followed by a durable flush.
pub fn silence_latency(
    kind: &str,
    dir: &Path,
    count: usize,
) -> Result<Vec<(&'static str, String)>> {
    let mut store = store::open(kind, dir)?;
    let mut rng = Rng::new(7);
    let mut lat = Vec::with_capacity(count);
    let start = Instant::now();
    for i in 0..count {
        let id = uuid(&mut rng);
        let v = silence(&mut rng, &id, EPOCH_MS + i as u64 * 1000, 3_600_000);
        let t = Instant::now();
        store.put(Tree::Silences, id.as_bytes(), &v)?;
        store.flush()?;
        lat.push(t.elapsed());
    }
    let total = start.elapsed();
    drop(store);
    lat.sort();
    let q = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    std::io::stdout().flush()?;
    Ok(vec![
        ("p50_ms", format!("{:.2}", q(0.5))),
        ("p99_ms", format!("{:.2}", q(0.99))),
        ("max_ms", format!("{:.2}", q(1.0))),
        ("total_s", format!("{:.2}", total.as_secs_f64())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated records have the sizes klaxon's have.
    #[test]
    fn record_sizes() {
        let mut r = Rng::new(1);
        let mut buf = Vec::new();
        let n = 1000;
        let total: usize = (0..n)
            .map(|slot| {
                alert(slot, EPOCH_MS, &mut buf);
                buf.len()
            })
            .sum();
        let avg = total / n as usize;
        let id = uuid(&mut r);
        let s = silence(&mut r, &id, EPOCH_MS, 3_600_000).len();
        let k = nflog_key(4321).len();
        let v = nflog_value(&mut r, EPOCH_MS).len();
        let h = history_value(&mut r, EPOCH_MS, 4321).len();
        eprintln!("alert {avg} silence {s} nflog {k}+{v} history 16+{h}");
        assert_eq!(id.len(), 36);
        assert!((700..=780).contains(&avg));
        assert!((1000..=1200).contains(&s));
        assert!((90..=110).contains(&k) && (180..=220).contains(&v));
        assert!((270..=330).contains(&h));
    }
}
