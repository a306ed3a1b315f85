//! `--shard K/N`: one of N disjoint parts of a run's trials, so a CI matrix runs N machines
//! (or N jobs on one) in parallel and `sso-harness merge-reports` joins their reports.
//!
//! The split depends only on the trial names and, when given, the durations of an earlier
//! run (`--durations results.json`): every shard computes the same assignment on its own, so
//! the N parts are disjoint and together hold every trial exactly once. With durations, the
//! longest trials are placed first, each on the shard with the least work so far (trials the
//! earlier run did not have count as its median); without, all weigh the same.
use std::collections::BTreeMap;
use std::path::Path;

/// Shard `k` of `n` (1-based, as people count them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("--shard {s:?}: expected K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Self { k, n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// Trial durations (ms) by trial name, from an earlier run's `results.json`.
pub fn durations_from(path: &Path) -> Result<BTreeMap<String, u64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let trials = v["trials"].as_array().ok_or_else(|| {
        format!(
            "{}: no `trials` list (expected a run's results.json)",
            path.display()
        )
    })?;
    Ok(trials
        .iter()
        .filter_map(|t| Some((t["name"].as_str()?.to_string(), t["duration_ms"].as_u64()?)))
        .collect())
}

/// For each name (in the given order), the 0-based shard it belongs to.
pub fn assign(names: &[String], n: usize, durations: Option<&BTreeMap<String, u64>>) -> Vec<usize> {
    let n = n.max(1);
    let median = durations
        .map(|d| {
            let mut v: Vec<u64> = d.values().copied().collect();
            v.sort_unstable();
            v.get(v.len() / 2).copied().unwrap_or(1)
        })
        .unwrap_or(1);
    let weight = |name: &str| {
        durations
            .and_then(|d| d.get(name).copied())
            .unwrap_or(median)
            .max(1)
    };
    // Heaviest first, ties by name: the same order on every machine.
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| {
        weight(&names[b])
            .cmp(&weight(&names[a]))
            .then_with(|| names[a].cmp(&names[b]))
    });
    let mut load = vec![0u64; n];
    let mut out = vec![0usize; names.len()];
    for i in order {
        let lightest = (0..n).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        load[lightest] += weight(&names[i]);
        out[i] = lightest;
    }
    out
}

/// Keeps the items whose name falls into `shard`.
pub fn select<T>(
    items: Vec<T>,
    name: impl Fn(&T) -> String,
    shard: Shard,
    durations: Option<&BTreeMap<String, u64>>,
) -> Vec<T> {
    let names: Vec<String> = items.iter().map(&name).collect();
    let owner = assign(&names, shard.n, durations);
    items
        .into_iter()
        .zip(owner)
        .filter(|(_, s)| *s == shard.k - 1)
        .map(|(t, _)| t)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("t::s{i:02}")).collect()
    }

    #[test]
    fn shards_are_disjoint_and_cover_every_trial_once() {
        let all = names(23);
        for n in 1..=5 {
            let mut seen: Vec<String> = Vec::new();
            for k in 1..=n {
                seen.extend(select(all.clone(), |s| s.clone(), Shard { k, n }, None));
            }
            seen.sort();
            assert_eq!(seen, all, "n = {n}");
        }
    }

    #[test]
    fn durations_balance_the_work() {
        let all = names(6);
        let mut d = BTreeMap::new();
        // one long trial and five short ones: the long one gets a shard to itself
        d.insert(all[0].clone(), 50_000);
        for n in &all[1..] {
            d.insert(n.clone(), 1_000);
        }
        let one = select(all.clone(), |s| s.clone(), Shard { k: 1, n: 2 }, Some(&d));
        let two = select(all.clone(), |s| s.clone(), Shard { k: 2, n: 2 }, Some(&d));
        assert_eq!(one, vec![all[0].clone()]);
        assert_eq!(two.len(), 5);
        // the same answer every time: the split is a function of names and durations only
        assert_eq!(
            select(all.clone(), |s| s.clone(), Shard { k: 2, n: 2 }, Some(&d)),
            two
        );
    }

    #[test]
    fn bad_shard_specs_say_what_is_expected() {
        for bad in ["0/2", "3/2", "1", "a/b", "1/0"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("K/N"), "{e}");
        }
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard { k: 2, n: 4 });
    }
}
