//! The choices the process knows, one store per cache location (the environment's, or a
//! thread's [`super::with_tune_cache`]): read from the location's file at first use, added to
//! by tuning, written back at each new choice.
//!
//! Each store also keeps, per family, a typed table `problem → variant` of what it has looked
//! up, so the automatic choice on a hardware adapter costs one hash lookup per launch (no
//! string is formatted after a problem's first launch).

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use super::file::{self, Entry, Identity, Loaded};
use super::setting::{self, CacheSetting};
use crate::context::gpu;
use crate::variant::Variant;

/// `family: problem`, the key of a choice in the store and the file.
pub fn key<V: Variant>(problem: &V::Problem) -> String {
    format!("{}: {problem:?}", V::FAMILY)
}

struct Store {
    /// The file, or `Err(why there is none)`.
    path: Result<PathBuf, String>,
    identity: Identity,
    choices: BTreeMap<String, Entry>,
    /// Per variant type: `HashMap<V::Problem, Option<V>>`, what `choices` says for a problem.
    typed: HashMap<TypeId, Box<dyn Any + Send>>,
    /// Why the file on disk was ignored (until it is rewritten).
    ignored: Option<String>,
    /// The last failed write (reported once).
    write_error: Option<String>,
    /// Whether the first use of a choice read from the file was announced.
    announced: bool,
}

impl Store {
    fn open(setting: &CacheSetting, identity: Identity) -> Store {
        let path = match setting {
            CacheSetting::Off(why) => Err(why.clone()),
            CacheSetting::Dir(dir) => Ok(file::path_in(dir, &identity)),
        };
        let (choices, ignored) = match &path {
            Err(_) => (BTreeMap::new(), None),
            Ok(p) => match file::load(p, &identity) {
                Loaded::Missing => (BTreeMap::new(), None),
                Loaded::Choices(c) => (c, None),
                Loaded::Ignored(why) => {
                    eprintln!(
                        "atelier: ignoring the tune cache {}: {why}; it is rewritten at the next tuning",
                        p.display()
                    );
                    (BTreeMap::new(), Some(why))
                }
            },
        };
        Store {
            path,
            identity,
            choices,
            typed: HashMap::new(),
            ignored,
            write_error: None,
            announced: false,
        }
    }

    fn table<V: Variant>(&mut self) -> &mut HashMap<V::Problem, Option<V>> {
        self.typed
            .entry(TypeId::of::<V>())
            .or_insert_with(|| Box::new(HashMap::<V::Problem, Option<V>>::new()))
            .downcast_mut()
            .expect("one table type per variant type")
    }

    /// The stored choice for `problem`, if it names a variant that can run it here.
    fn lookup<V: Variant>(&mut self, problem: &V::Problem) -> Option<V> {
        if let Some(known) = self.table::<V>().get(problem) {
            return *known;
        }
        // first time this process meets the problem: anything here was read from the file
        // (tuning fills the table itself)
        let found = self
            .choices
            .get(&key::<V>(problem))
            .and_then(|e| V::parse(&e.variant))
            .filter(|v| V::candidates(problem).contains(v));
        if found.is_some() && !self.announced {
            self.announced = true;
            if let Ok(path) = &self.path {
                eprintln!(
                    "atelier: using tuned choices measured earlier on this adapter ({}; {}=off to measure again)",
                    path.display(),
                    setting::ENV
                );
            }
        }
        self.table::<V>().insert(*problem, found);
        found
    }

    fn remember<V: Variant>(&mut self, problem: &V::Problem, chosen: V, times: &[(V, f64)]) {
        let entry = Entry {
            variant: chosen.name().to_string(),
            ms: times
                .iter()
                .map(|(v, s)| (v.name().to_string(), s * 1e3))
                .collect(),
        };
        self.choices.insert(key::<V>(problem), entry);
        self.table::<V>().insert(*problem, Some(chosen));
        let Ok(path) = &self.path else {
            return;
        };
        match file::save(path, &self.identity, &self.choices) {
            Ok(()) => {
                self.ignored = None;
                self.write_error = None;
            }
            Err(e) => {
                if self.write_error.is_none() {
                    eprintln!(
                        "atelier: cannot write the tune cache {}: {e}; tuned choices last for this run only",
                        path.display()
                    );
                }
                self.write_error = Some(e);
            }
        }
    }
}

fn stores() -> &'static Mutex<HashMap<CacheSetting, Store>> {
    static STORES: OnceLock<Mutex<HashMap<CacheSetting, Store>>> = OnceLock::new();
    STORES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Runs `f` on the store of the cache location in force on this thread, opening it (reading
/// its file) the first time.
fn with_store<R>(f: impl FnOnce(&mut Store) -> R) -> R {
    setting::with_current(|setting| {
        let mut stores = stores().lock().unwrap_or_else(|e| e.into_inner());
        if !stores.contains_key(setting) {
            let store = Store::open(setting, Identity::of(&gpu().info));
            stores.insert(setting.clone(), store);
        }
        f(stores.get_mut(setting).expect("opened above"))
    })
}

pub fn lookup<V: Variant>(problem: &V::Problem) -> Option<V> {
    with_store(|s| s.lookup(problem))
}

pub fn remember<V: Variant>(problem: &V::Problem, chosen: V, times: &[(V, f64)]) {
    with_store(|s| s.remember(problem, chosen, times))
}

/// What `atelier info` says about the tune cache.
#[derive(Clone, Debug)]
pub struct CacheSummary {
    /// The file (it may not exist yet), or why there is none.
    pub path: Result<PathBuf, String>,
    /// Choices this process knows for this adapter: read from the file or tuned since.
    pub choices: usize,
    /// Why the file on disk is ignored (another adapter, unreadable), until it is rewritten.
    pub ignored: Option<String>,
    /// Why the last write failed.
    pub write_error: Option<String>,
}

pub fn summary() -> CacheSummary {
    with_store(|s| CacheSummary {
        path: s.path.clone(),
        choices: s.choices.len(),
        ignored: s.ignored.clone(),
        write_error: s.write_error.clone(),
    })
}
