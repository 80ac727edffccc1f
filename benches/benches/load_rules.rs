//! Loading and checking the upstream Falco rules: YAML, items, append/override, list substitution,
//! parsing, macro resolution, type checking and event-type resolution of
//! `falco_rules.yaml` + `falco-incubating_rules.yaml` + `falco-sandbox_rules.yaml` together.

use criterion::{Criterion, criterion_group, criterion_main};
use frule_lang::loader::{self, RulesFile};

fn load_upstream(c: &mut Criterion) {
    let files = match frule_benches::upstream_rules() {
        Ok(files) => files,
        Err(reason) => {
            eprintln!("skipping load_rules benchmark: {reason}");
            return;
        }
    };
    let files: Vec<RulesFile> = files
        .into_iter()
        .map(|(name, bytes)| RulesFile::new(name, bytes))
        .collect();
    let result = loader::load(&files);
    assert!(
        result.is_ok(),
        "the upstream rules must load without errors"
    );
    c.bench_function("load_and_check/falco+incubating+sandbox", |b| {
        b.iter(|| loader::load(std::hint::black_box(&files)))
    });
}

criterion_group!(benches, load_upstream);
criterion_main!(benches);
