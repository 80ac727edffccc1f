//! Domain names of socket addresses: `fd.cip.name`, `fd.sip.name`, `fd.lip.name`, `fd.rip.name`.
//!
//! libsinsp never does reverse lookups. Its DNS manager resolves the *names a filter compares these
//! fields with* (`fd.sip.name = "kubernetes.default.svc.cluster.local"`, `fd.sip.name in
//! (miner_domains)`) forwards with `getaddrinfo`, keeps the addresses of each name, and refreshes them in
//! the background: first after 10 s, then with the period doubled up to 320 s while the answer stays the
//! same, back to 10 s when it changes. A check is true when the socket's address is among the addresses
//! of the name; extracting the field gives a known name whose addresses contain the address.
//!
//! frule does the same with one difference that matters on a production host: libsinsp resolves a name
//! the first time an event is compared with it, on the event loop, and the loop waits for the resolver
//! (seconds when a name server does not answer). Here the names are collected from the rules when they
//! are loaded ([`names_in_conditions`]) and resolved on a thread of their own; the loader waits for the
//! first answers only for a bounded time ([`DnsNames::start`]), and the event loop only ever reads the
//! latest table ([`DnsView`]): one atomic load per event when nothing changed.
//!
//! Invariant: a [`Table`] is immutable once published; the resolver builds a new one and swaps it in, so
//! a reader never sees a half-updated table.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use frule_lang::ast::{Expr, ExprKind, Operand, Value};

/// The fields whose values are domain names resolved by [`DnsNames`].
pub const DNS_NAME_FIELDS: [&str; 4] = ["fd.cip.name", "fd.sip.name", "fd.lip.name", "fd.rip.name"];

/// libsinsp's first refresh period of a name (`m_base_refresh_timeout`).
pub const BASE_REFRESH: Duration = Duration::from_secs(10);
/// libsinsp's longest refresh period (`m_max_refresh_timeout`).
pub const MAX_REFRESH: Duration = Duration::from_secs(320);

/// Every constant the conditions compare a DNS-name field with (`=`, `!=`, `in` and the other string
/// operators alike: a name is resolved whenever a rule mentions it), sorted and without duplicates.
pub fn names_in_conditions<'a>(conditions: impl IntoIterator<Item = &'a Expr>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack: Vec<&Expr> = conditions.into_iter().collect();
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::And(v) | ExprKind::Or(v) => stack.extend(v.iter()),
            ExprKind::Not(x) => stack.push(x),
            ExprKind::Macro(_) => {}
            ExprKind::Check(c) => {
                let Operand::Field(f) = &c.lhs else { continue };
                if f.arg.is_some() || !DNS_NAME_FIELDS.contains(&f.name.as_str()) {
                    continue;
                }
                let mut add = |bytes: &[u8]| {
                    // A name with invalid UTF-8 cannot be resolved; it matches no address.
                    if let Ok(s) = std::str::from_utf8(bytes)
                        && !s.is_empty()
                    {
                        names.insert(s.to_owned());
                    }
                };
                match &c.rhs {
                    Some(Value::Literal(l)) => add(&l.bytes),
                    Some(Value::List(items, _)) => items.iter().for_each(|l| add(&l.bytes)),
                    _ => {}
                }
            }
        }
    }
    names
}

/// How a name becomes addresses; `getaddrinfo` ([`system_resolve`]) except in tests.
pub type Resolve = dyn Fn(&str) -> Vec<IpAddr> + Send + Sync;

/// Forward resolution through the system resolver (`getaddrinfo`, any family), as libsinsp does. A
/// name that does not resolve has no address.
pub fn system_resolve(name: &str) -> Vec<IpAddr> {
    match (name, 0u16).to_socket_addrs() {
        Ok(addrs) => {
            let mut v: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
            v.sort();
            v.dedup();
            v
        }
        Err(_) => Vec::new(),
    }
}

/// The published answer: which names each address belongs to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// The names, sorted (indices below point here).
    names: Vec<String>,
    /// Per address, the indices of the names resolving to it, ascending.
    by_addr: HashMap<IpAddr, Vec<u32>>,
}

impl Table {
    fn build(names: &[String], addrs: &[Vec<IpAddr>]) -> Table {
        let mut by_addr: HashMap<IpAddr, Vec<u32>> = HashMap::new();
        for (i, list) in addrs.iter().enumerate() {
            for a in list {
                by_addr.entry(*a).or_default().push(i as u32);
            }
        }
        Table {
            names: names.to_vec(),
            by_addr,
        }
    }

    /// The names whose addresses contain `ip`, in name order.
    pub fn names_of(&self, ip: IpAddr) -> impl Iterator<Item = &str> {
        self.by_addr
            .get(&ip)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.names.get(i as usize).map(String::as_str))
    }

    /// How many names the table knows.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the table knows no name.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

struct Shared {
    table: Mutex<Arc<Table>>,
    /// Bumped after each publication, so that views notice a new table with one load.
    generation: AtomicU64,
    stop: AtomicBool,
    /// Signalled on stop and after the first full pass.
    wake: Condvar,
    first_pass_done: Mutex<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The resolver of a ruleset's names. Dropping it stops its thread (after the lookup in progress).
pub struct DnsNames {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for DnsNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsNames")
            .field("names", &lock(&self.shared.table).len())
            .finish()
    }
}

/// Refresh periods; [`Periods::LIBSINSP`] in production, shorter in tests.
#[derive(Clone, Copy, Debug)]
pub struct Periods {
    /// The first period after a resolution, and the period after an answer changed.
    pub base: Duration,
    /// The period never grows beyond this.
    pub max: Duration,
}

impl Periods {
    /// libsinsp's defaults: 10 s, doubling up to 320 s.
    pub const LIBSINSP: Periods = Periods {
        base: BASE_REFRESH,
        max: MAX_REFRESH,
    };
}

impl DnsNames {
    /// A resolver that knows no name and starts no thread.
    pub fn empty() -> DnsNames {
        DnsNames {
            shared: Arc::new(Shared {
                table: Mutex::new(Arc::new(Table::default())),
                generation: AtomicU64::new(0),
                stop: AtomicBool::new(false),
                wake: Condvar::new(),
                first_pass_done: Mutex::new(true),
            }),
        }
    }

    /// Resolves `names` on a thread of their own with the system resolver and libsinsp's periods,
    /// waiting at most `wait` for the first answers (see the module docs).
    pub fn start(names: BTreeSet<String>, wait: Duration) -> DnsNames {
        DnsNames::start_with(names, wait, Periods::LIBSINSP, Arc::new(system_resolve))
    }

    /// [`DnsNames::start`] with the periods and the resolution function given.
    pub fn start_with(
        names: BTreeSet<String>,
        wait: Duration,
        periods: Periods,
        resolve: Arc<Resolve>,
    ) -> DnsNames {
        if names.is_empty() {
            return DnsNames::empty();
        }
        let dns = DnsNames {
            shared: Arc::new(Shared {
                table: Mutex::new(Arc::new(Table::default())),
                generation: AtomicU64::new(0),
                stop: AtomicBool::new(false),
                wake: Condvar::new(),
                first_pass_done: Mutex::new(false),
            }),
        };
        let shared = Arc::clone(&dns.shared);
        let names: Vec<String> = names.into_iter().collect();
        let spawned = std::thread::Builder::new()
            .name("frule-dns".into())
            .spawn(move || refresh_loop(&shared, &names, periods, &*resolve));
        if spawned.is_err() {
            // No thread: the names stay unresolved, which is what a failed lookup gives.
            *lock(&dns.shared.first_pass_done) = true;
            return dns;
        }
        let deadline = Instant::now() + wait;
        let mut done = lock(&dns.shared.first_pass_done);
        while !*done {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            done = dns
                .shared
                .wake
                .wait_timeout(done, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drop(done);
        dns
    }

    /// Whether every name has been resolved once.
    pub fn resolved_once(&self) -> bool {
        *lock(&self.shared.first_pass_done)
    }

    /// A reader for the event loop.
    pub fn view(&self) -> DnsView {
        DnsView {
            shared: Arc::clone(&self.shared),
            generation: self.shared.generation.load(Ordering::Acquire),
            table: Arc::clone(&lock(&self.shared.table)),
        }
    }
}

impl Drop for DnsNames {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        // Take the lock the thread waits under, so that the notification cannot slip between its
        // check of `stop` and its wait.
        let _g = lock(&self.shared.first_pass_done);
        self.shared.wake.notify_all();
    }
}

fn refresh_loop(shared: &Shared, names: &[String], periods: Periods, resolve: &Resolve) {
    let mut addrs: Vec<Vec<IpAddr>> = names.iter().map(|n| resolve(n)).collect();
    publish(shared, names, &addrs);
    {
        *lock(&shared.first_pass_done) = true;
        shared.wake.notify_all();
    }
    let now = Instant::now();
    let mut period: Vec<Duration> = vec![periods.base; names.len()];
    let mut due: Vec<Instant> = vec![now + periods.base; names.len()];
    loop {
        let next = due.iter().min().copied().unwrap_or(now + periods.max);
        {
            let mut g = lock(&shared.first_pass_done);
            loop {
                if shared.stop.load(Ordering::Acquire) {
                    return;
                }
                let now = Instant::now();
                if now >= next {
                    break;
                }
                g = shared
                    .wake
                    .wait_timeout(g, next - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
        let mut changed = false;
        let now = Instant::now();
        for i in 0..names.len() {
            if due[i] > now {
                continue;
            }
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            let fresh = resolve(&names[i]);
            if fresh != addrs[i] {
                addrs[i] = fresh;
                period[i] = periods.base;
                changed = true;
            } else {
                period[i] = (period[i] * 2).min(periods.max);
            }
            due[i] = Instant::now() + period[i];
        }
        if changed {
            publish(shared, names, &addrs);
        }
    }
}

fn publish(shared: &Shared, names: &[String], addrs: &[Vec<IpAddr>]) {
    *lock(&shared.table) = Arc::new(Table::build(names, addrs));
    shared.generation.fetch_add(1, Ordering::AcqRel);
}

/// The event loop's reader of a [`DnsNames`]: holds the latest table and swaps it for a newer one
/// in [`DnsView::refresh`], which costs one atomic load when nothing changed.
#[derive(Clone)]
pub struct DnsView {
    shared: Arc<Shared>,
    generation: u64,
    table: Arc<Table>,
}

impl std::fmt::Debug for DnsView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsView")
            .field("generation", &self.generation)
            .field("names", &self.table.len())
            .finish()
    }
}

impl Default for DnsView {
    fn default() -> DnsView {
        DnsNames::empty().view()
    }
}

impl DnsView {
    /// Picks up the resolver's latest table, if it published one since the last call.
    #[inline]
    pub fn refresh(&mut self) {
        let g = self.shared.generation.load(Ordering::Acquire);
        if g != self.generation {
            self.table = Arc::clone(&lock(&self.shared.table));
            self.generation = g;
        }
    }

    /// The table as of the last [`DnsView::refresh`].
    pub fn table(&self) -> &Table {
        &self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn parse(cond: &str) -> Expr {
        frule_lang::parser::parse_condition(cond).unwrap_or_else(|e| panic!("{cond}: {e:?}"))
    }

    #[test]
    fn names_are_collected_from_every_dns_field_and_operator() {
        let a = parse(
            "fd.sip.name = a.example and not fd.cip.name in (b.example, \"c.example\") \
             or (fd.lip.name != d.example and proc.name = e.example) or fd.rip.name exists",
        );
        let b = parse("fd.sip.name startswith f.example or fd.name = g.example");
        let got: Vec<String> = names_in_conditions([&a, &b]).into_iter().collect();
        assert_eq!(
            got,
            [
                "a.example",
                "b.example",
                "c.example",
                "d.example",
                "f.example"
            ]
        );
    }

    fn fake(answers: Arc<Mutex<HashMap<String, Vec<IpAddr>>>>) -> Arc<Resolve> {
        Arc::new(move |n: &str| lock(&answers).get(n).cloned().unwrap_or_default())
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    #[test]
    fn first_answers_are_published_before_start_returns() {
        let answers = Arc::new(Mutex::new(HashMap::from([
            (
                "a.example".to_owned(),
                vec![v4(10, 0, 0, 1), v4(10, 0, 0, 2)],
            ),
            ("b.example".to_owned(), vec![v4(10, 0, 0, 2)]),
        ])));
        let names = BTreeSet::from([
            "a.example".to_owned(),
            "b.example".to_owned(),
            "none".into(),
        ]);
        let dns = DnsNames::start_with(
            names,
            Duration::from_secs(30),
            Periods::LIBSINSP,
            fake(answers),
        );
        assert!(dns.resolved_once());
        let view = dns.view();
        let of = |ip| view.table().names_of(ip).collect::<Vec<_>>();
        assert_eq!(of(v4(10, 0, 0, 1)), ["a.example"]);
        assert_eq!(of(v4(10, 0, 0, 2)), ["a.example", "b.example"]);
        assert!(of(v4(10, 0, 0, 3)).is_empty());
    }

    #[test]
    fn a_changed_answer_reaches_the_view_after_a_refresh() {
        let answers = Arc::new(Mutex::new(HashMap::from([(
            "a.example".to_owned(),
            vec![v4(10, 0, 0, 1)],
        )])));
        let dns = DnsNames::start_with(
            BTreeSet::from(["a.example".to_owned()]),
            Duration::from_secs(30),
            Periods {
                base: Duration::from_millis(5),
                max: Duration::from_millis(20),
            },
            fake(Arc::clone(&answers)),
        );
        let mut view = dns.view();
        assert_eq!(view.table().names_of(v4(10, 0, 0, 1)).count(), 1);
        lock(&answers).insert("a.example".into(), vec![v4(10, 0, 0, 9)]);
        // The resolver re-asks within 20 ms; poll (bounded) for the new table.
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            view.refresh();
            if view.table().names_of(v4(10, 0, 0, 9)).count() == 1 {
                break;
            }
            assert!(Instant::now() < until, "the new answer never arrived");
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(view.table().names_of(v4(10, 0, 0, 1)).count(), 0);
    }

    #[test]
    fn a_slow_resolver_does_not_hold_start_beyond_its_wait() {
        let gate = Arc::new(Mutex::new(()));
        let held = lock(&gate);
        let g2 = Arc::clone(&gate);
        let resolve: Arc<Resolve> = Arc::new(move |_: &str| {
            let _g = lock(&g2);
            vec![v4(10, 0, 0, 1)]
        });
        let dns = DnsNames::start_with(
            BTreeSet::from(["slow.example".to_owned()]),
            Duration::from_millis(10),
            Periods::LIBSINSP,
            resolve,
        );
        assert!(!dns.resolved_once());
        assert!(
            dns.view()
                .table()
                .names_of(v4(10, 0, 0, 1))
                .next()
                .is_none()
        );
        drop(held);
    }

    #[test]
    fn localhost_resolves_through_the_system_resolver() {
        let addrs = system_resolve("localhost");
        if addrs.is_empty() {
            eprintln!("skipping: this host's resolver does not know localhost");
            return;
        }
        assert!(
            addrs.iter().all(|a| a.is_loopback()),
            "localhost resolved to {addrs:?}"
        );
    }

    #[test]
    fn no_names_start_no_thread_and_know_nothing() {
        let dns = DnsNames::start(BTreeSet::new(), Duration::from_secs(1));
        assert!(dns.resolved_once());
        assert!(dns.view().table().is_empty());
    }
}
