//! Profiles kept by `SqliteStore`: newest first with their text, deleted, and bounded by
//! count and bytes.

use otelscope_app::model::ProfileSummary;

use super::super::super::profiles::compress;
use super::super::super::{ProfileBounds, Store};
use super::super::SqliteStore;

fn summary(id: &str, created_ns: u64) -> ProfileSummary {
    ProfileSummary {
        id: id.into(),
        source: otelscope_app::model::ProfileSource::Folded,
        name: format!("profile {id}"),
        created_ns,
        stacks: 1,
        total: 3,
        unit: "samples".into(),
        nodes: Some(3),
        duration_ns: None,
    }
}

fn ids(store: &SqliteStore) -> Vec<String> {
    store.profiles().unwrap().into_iter().map(|p| p.id).collect()
}

#[test]
fn profiles_come_back_newest_first_with_their_text() {
    let store = SqliteStore::in_memory().unwrap();
    store.put_profile(&summary("a", 10), "main;work 3\n").unwrap();
    store.put_profile(&summary("b", 30), "x 3\n").unwrap();
    store.put_profile(&summary("c", 20), "y 3\n").unwrap();
    assert_eq!(ids(&store), ["b", "c", "a"]);
    let a = store.profile("a").unwrap().unwrap();
    assert_eq!((a.summary, a.folded.as_str()), (summary("a", 10), "main;work 3\n"));
    assert_eq!(store.profile("nope").unwrap(), None);
}

#[test]
fn a_deleted_profile_is_gone_and_the_others_stay() {
    let store = SqliteStore::in_memory().unwrap();
    store.put_profile(&summary("a", 10), "main;work 3\n").unwrap();
    store.put_profile(&summary("b", 20), "x 3\n").unwrap();
    assert!(store.delete_profile("a").unwrap());
    assert!(!store.delete_profile("a").unwrap(), "already gone");
    assert!(!store.delete_profile("nope").unwrap());
    assert_eq!(ids(&store), ["b"]);
    assert_eq!(store.profile("a").unwrap(), None);
    assert_eq!(store.profile("b").unwrap().unwrap().folded, "x 3\n");
}

#[test]
fn profiles_kept_before_nodes_were_counted_read_back_without_a_count() {
    let store = SqliteStore::in_memory().unwrap();
    let old = ProfileSummary { nodes: None, ..summary("old", 5) };
    store.put_profile(&old, "a;b 1\n").unwrap();
    assert_eq!(store.profile("old").unwrap().unwrap().summary.nodes, None);
    assert_eq!(store.profiles().unwrap()[0].nodes, None);
}

#[test]
fn only_the_newest_are_kept() {
    let bounds = ProfileBounds { max_profiles: 3, max_bytes: u64::MAX };
    let store = SqliteStore::in_memory().unwrap().with_profile_bounds(bounds);
    for i in 0..5u64 {
        store.put_profile(&summary(&format!("p{i}"), 100 + i), "a 1\n").unwrap();
    }
    assert_eq!(ids(&store), ["p4", "p3", "p2"]);
    // A byte bound: each row's blob is a few dozen bytes; the newest always stays.
    let text: String = (0..2000).map(|i| format!("f{i};g{} {i}\n", i * 7919 % 1000)).collect();
    let size = compress(&text).unwrap().len() as u64;
    let bounds = ProfileBounds { max_profiles: 100, max_bytes: 2 * size + size / 2 };
    let store = SqliteStore::in_memory().unwrap().with_profile_bounds(bounds);
    for i in 0..4u64 {
        store.put_profile(&summary(&format!("q{i}"), i), &text).unwrap();
    }
    assert_eq!(ids(&store), ["q3", "q2"]);
    let tiny = ProfileBounds { max_profiles: 100, max_bytes: 1 };
    let store = SqliteStore::in_memory().unwrap().with_profile_bounds(tiny);
    store.put_profile(&summary("big", 1), &text).unwrap();
    assert_eq!(ids(&store), ["big"]);
}
