//! PostHog in the SDK, in headless Chromium against the test receiver that
//! `cargo xtask test` starts (see `common`).
//!
//! Each test uses its own project token, so its events are told apart from
//! other tests' on the shared receiver.

#![cfg(target_arch = "wasm32")]

#[allow(dead_code)] // Each test binary uses its part of the helpers.
mod common;

use common::{dispatch, fail_next, flush, receiver, requests, start, token, wait_for};
use ff_telemetry_web::init;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/js/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = pushState)]
    fn push_state(path: &str);
    #[wasm_bindgen(js_name = replaceState)]
    fn replace_state(path: &str);
    #[wasm_bindgen(js_name = currentPath)]
    fn current_path() -> String;
    #[wasm_bindgen(js_name = storeItem)]
    fn store_item(key: &str, value: &str);
    #[wasm_bindgen(js_name = storedKeysContaining)]
    fn stored_keys_containing(text: &str) -> u32;
    /// How many Web Locks held in the origin have a name starting with `prefix`.
    #[wasm_bindgen(js_name = heldLocksStartingWith)]
    async fn held_locks_starting_with(prefix: &str) -> JsValue;
    /// Releases the Web Locks whose name starts with `prefix` (stolen), as
    /// the browser does when the page holding them goes away: the way these
    /// tests, in one page, let a page that was freed be gone.
    #[wasm_bindgen(js_name = releaseLocksStartingWith)]
    async fn release_locks_starting_with(prefix: &str);
    #[wasm_bindgen(js_name = setConfigScript)]
    fn set_config_script(json: &str);
    /// Counts `console.warn` calls containing `warning_text` and
    /// `localStorage.setItem` calls on keys containing `key_text`; returns
    /// the function that stops counting.
    #[wasm_bindgen(js_name = countWarningsAndWrites)]
    fn count_warnings_and_writes(warning_text: &str, key_text: &str) -> js_sys::Function;
    /// Counts the page's `error` events (exceptions nothing caught) until
    /// the returned function is called, which returns the count.
    #[wasm_bindgen(js_name = countPageErrors)]
    fn count_page_errors() -> js_sys::Function;
    #[wasm_bindgen(js_name = countedWarnings)]
    fn counted_warnings() -> u32;
    #[wasm_bindgen(js_name = countedWrites)]
    fn counted_writes() -> u32;
    /// `{x: "\ud800", y: "ok"}`: a lone surrogate, which a JavaScript string
    /// may hold and JSON text for a strict parser may not.
    #[wasm_bindgen(js_name = loneSurrogateProps)]
    fn lone_surrogate_props() -> JsValue;
    /// `{pad: "xxx…"}`, `n` characters.
    #[wasm_bindgen(js_name = bigProps)]
    fn big_props(n: u32) -> JsValue;
    /// Fills `localStorage` until it refuses even one more character, but
    /// for about `room` characters left free.
    #[wasm_bindgen(js_name = fillStorage)]
    fn fill_storage(room: u32);
    /// Removes what [`fill_storage`] wrote.
    #[wasm_bindgen(js_name = clearFiller)]
    fn clear_filler();
}

fn config(receiver: &str, token: &str, capture_pageview: bool) -> String {
    format!(
        r#"{{"posthog": {{"apikey": "{token}", "apiurl": "{receiver}", "capture_pageview": {capture_pageview}}}}}"#
    )
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

/// Events the receiver accepted (status 200) for `token`, in arrival order.
async fn delivered(receiver: &str, token: &str) -> Vec<Value> {
    requests(receiver, token)
        .await
        .into_iter()
        .filter(|r| r["status"] == 200)
        .flat_map(|r| r["events"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("?"))
        .collect()
}

/// How many different `uuid`s the events carry (each must have one).
fn distinct_uuids(events: &[Value]) -> usize {
    let mut uuids: Vec<&str> = events
        .iter()
        .map(|e| e["uuid"].as_str().expect("every event has a uuid"))
        .collect();
    uuids.sort_unstable();
    uuids.dedup();
    uuids.len()
}

/// The status the receiver answered to each request for `token`, in order.
async fn statuses(receiver: &str, token: &str) -> Vec<Value> {
    let requests = requests(receiver, token).await;
    requests.iter().map(|r| r["status"].clone()).collect()
}

#[wasm_bindgen_test]
async fn route_sequence_yields_exactly_the_expected_events_in_order() {
    let rx = receiver();
    let token = token("routes");
    let t = start(&config(rx, &token, false));
    t.route_changed(s("/app/a"), Some(s("/")), None);
    t.route_changed(s("/app/b?tab=2"), Some(s("/app/a")), Some(s("/app/:id")));
    t.route_changed(s("/app/b?tab=2"), Some(s("/app/a")), Some(s("/app/:id")));
    t.capture(
        s("clicked"),
        Some(js_sys::JSON::parse(r#"{"k": 1}"#).unwrap()),
        None,
    );
    flush(&t).await;

    let reqs = requests(rx, &token).await;
    assert!(
        reqs.iter()
            .all(|r| r["path"] == "/batch/" && r["status"] == 200)
    );
    assert!(reqs[0]["gzip"].as_bool().unwrap(), "CompressionStream gzip");
    assert_eq!(reqs[0]["content_type"], "text/plain");
    let events = delivered(rx, &token).await;
    assert_eq!(
        names(&events),
        ["$pageview", "$pageleave", "$pageview", "clicked"]
    );
    let (first, leave, view, clicked) = (&events[0], &events[1], &events[2], &events[3]);
    let p = |e: &Value, k: &str| e["properties"][k].clone();
    assert!(
        p(first, "$current_url")
            .as_str()
            .unwrap()
            .ends_with("/app/a")
    );
    assert!(
        p(leave, "$current_url")
            .as_str()
            .unwrap()
            .ends_with("/app/a")
    );
    assert_eq!(p(leave, "to"), "/app/b?tab=2");
    assert!(
        p(view, "$current_url")
            .as_str()
            .unwrap()
            .ends_with("/app/b?tab=2")
    );
    assert_eq!(p(view, "from"), "/app/a");
    assert_eq!(p(view, "$pathname"), "/app/b");
    assert_eq!(p(view, "route_template"), "/app/:id", "beside the real URL");
    assert!(p(first, "route_template").is_null(), "no template given");
    assert_eq!(p(view, "$prev_pageview_id"), p(first, "$pageview_id"));
    assert_eq!(p(leave, "$prev_pageview_id"), p(first, "$pageview_id"));
    assert!(p(view, "$prev_pageview_duration").is_number());
    assert_eq!(p(clicked, "k"), 1);
    assert_eq!(p(clicked, "$pageview_id"), p(view, "$pageview_id"));
    for e in &events {
        assert_eq!(p(e, "$lib"), "ff-telemetry-web");
        assert_eq!(p(e, "token"), token.as_str());
        assert_eq!(p(e, "distinct_id"), p(e, "$device_id"));
        assert!(e["uuid"].as_str().is_some_and(|u| u.len() == 36));
        assert!(p(e, "$session_id").is_string() && p(e, "$window_id").is_string());
    }
}

#[wasm_bindgen_test]
async fn capture_pageview_on_tracks_history_once_per_navigation() {
    let rx = receiver();
    let token = token("history");
    let original = current_path();
    let t = start(&config(rx, &token, true));
    push_state("/history/one");
    // The router adapter reports the same navigation: no second $pageview.
    t.route_changed(s("/history/one"), Some(s(&original)), None);
    // Query-only History changes are state, not pages.
    replace_state("/history/one?panel=3");
    flush(&t).await;
    drop(t);
    replace_state(&original);

    let events = delivered(rx, &token).await;
    assert_eq!(names(&events), ["$pageview", "$pageleave", "$pageview"]);
    assert_eq!(events[2]["properties"]["$pathname"], "/history/one");
}

#[wasm_bindgen_test]
async fn a_second_init_shares_the_running_telemetry() {
    let rx = receiver();
    let (first_token, other_token) = (token("twice"), token("twice-other"));
    let original = current_path();
    let first = start(&config(rx, &first_token, true));
    // A second init on the page (another config even) gets the running
    // clients, not a second set that would capture each navigation again.
    let second = start(&config(rx, &other_token, true));
    push_state("/twice/one");
    // Dropping one handle keeps the clients of the other running.
    drop(first);
    second.capture(s("still running"), None, None);
    flush(&second).await;
    drop(second);
    replace_state(&original);

    let events = delivered(rx, &first_token).await;
    assert_eq!(
        names(&events),
        ["$pageview", "$pageleave", "$pageview", "still running"]
    );
    assert!(requests(rx, &other_token).await.is_empty());
}

#[wasm_bindgen_test]
async fn capture_pageview_off_only_counts_router_changes() {
    let rx = receiver();
    let token = token("nohistory");
    let original = current_path();
    let t = start(&config(rx, &token, false));
    push_state("/nohistory/one");
    // Nothing was viewed, so leaving sends no $pageleave either.
    dispatch("pagehide");
    dispatch("pageshow");
    flush(&t).await;
    assert!(
        requests(rx, &token).await.is_empty(),
        "no automatic pageviews"
    );
    t.route_changed(s("/nohistory/two"), Some(s("/nohistory/one")), None);
    flush(&t).await;
    drop(t);
    replace_state(&original);
    assert_eq!(names(&delivered(rx, &token).await), ["$pageview"]);
}

#[wasm_bindgen_test]
async fn opt_out_sends_nothing_and_is_remembered() {
    let rx = receiver();
    let token = token("optout");
    let t = start(&config(rx, &token, false));
    t.route_changed(s("/before-opt-out"), None, None);
    t.opt_out();
    assert!(t.has_opted_out());
    t.route_changed(s("/after-opt-out"), None, None);
    t.capture(s("secret"), None, None);
    flush(&t).await;
    drop(t);
    // A new page load with automatic pageviews still sends nothing.
    let again = start(&config(rx, &token, true));
    assert!(again.has_opted_out());
    again.route_changed(s("/next-load"), None, None);
    flush(&again).await;
    drop(again);
    assert!(requests(rx, &token).await.is_empty());
}

#[wasm_bindgen_test]
async fn server_errors_are_retried_until_every_event_is_delivered_once() {
    let rx = receiver();
    let token = token("retry");
    fail_next(rx, &token, "/batch/", 503, 2, "{}").await;
    let t = start(&config(rx, &token, false));
    t.route_changed(s("/retry/a"), None, None);
    t.route_changed(s("/retry/b"), Some(s("/retry/a")), None);
    flush(&t).await;
    let events = wait_for(|| delivered(rx, &token), 3).await;
    drop(t);

    let statuses = statuses(rx, &token).await;
    assert_eq!(statuses, [503, 503, 200]);
    assert_eq!(names(&events), ["$pageview", "$pageleave", "$pageview"]);
    assert_eq!(distinct_uuids(&events), 3, "each event once");
}

#[wasm_bindgen_test]
async fn a_reload_delivers_events_left_unsent() {
    let rx = receiver();
    let token = token("reload");
    let before = start(&config(rx, &token, false));
    before.route_changed(s("/reload/a"), None, None);
    before.capture(s("before reload"), None, None);
    // The page dies before its 3 s flush: nothing was sent.
    drop(before);
    release_locks_starting_with(&format!("ff_telemetry_{token}:")).await;
    assert!(requests(rx, &token).await.is_empty());

    // The next page adopts the queue of the page that is gone: its Web
    // Lock is free, which the browser says in a task of its own.
    let after = start(&config(rx, &token, false));
    let events = wait_for(|| delivered(rx, &token), 2).await;
    drop(after);
    assert_eq!(names(&events), ["$pageview", "before reload"]);
}

#[wasm_bindgen_test]
async fn pagehide_delivers_the_final_pageleave_by_beacon() {
    let rx = receiver();
    let token = token("pagehide");
    let t = start(&config(rx, &token, false));
    t.route_changed(s("/leaving/page"), None, None);
    t.capture(s("last click"), None, None);
    dispatch("pagehide");
    let events = wait_for(|| delivered(rx, &token), 3).await;
    dispatch("pageshow");
    drop(t);

    assert_eq!(names(&events), ["$pageview", "last click", "$pageleave"]);
    let leave = &events[2]["properties"];
    assert!(
        leave["$current_url"]
            .as_str()
            .unwrap()
            .ends_with("/leaving/page")
    );
    assert!(leave["$prev_pageview_duration"].is_number());
    let reqs = requests(rx, &token).await;
    assert_eq!(reqs.len(), 1, "one beacon");
    assert!(!reqs[0]["gzip"].as_bool().unwrap());
}

#[wasm_bindgen_test]
async fn init_without_arguments_reads_the_config_element() {
    let rx = receiver();
    let token = token("element");
    set_config_script(&config(rx, &token, false));
    let t = init(None);
    t.route_changed(s("/from-element"), None, None);
    flush(&t).await;
    drop(t);
    set_config_script("{}");
    assert_eq!(names(&delivered(rx, &token).await), ["$pageview"]);
}

#[wasm_bindgen_test]
async fn without_posthog_config_every_call_is_a_quiet_no_op() {
    for config in [
        None,
        Some(js_sys::Object::new().into()),
        Some(JsValue::from(42)),
    ] {
        let t = init(config);
        t.route_changed(JsValue::from(7), Some(JsValue::NULL), None);
        t.capture(JsValue::NULL, Some(JsValue::from(1)), None);
        t.identify(s("u"), None, None);
        t.group(s("team"), s("t"), None);
        t.reset();
        t.opt_in();
        t.opt_out();
        assert!(!t.has_opted_out());
        flush(&t).await;
    }
}

#[wasm_bindgen_test]
async fn bad_arguments_are_ignored_without_throwing() {
    let rx = receiver();
    let token = token("badargs");
    let t = start(&config(rx, &token, false));
    t.route_changed(JsValue::from(5), None, None);
    t.capture(
        s("with bad props"),
        Some(JsValue::from("not an object")),
        None,
    );
    t.identify(JsValue::NULL, None, None);
    t.identify(
        s("user-1"),
        Some(js_sys::JSON::parse(r#"{"plan": "team"}"#).unwrap()),
        None,
    );
    t.group(s("team"), s("t-1"), None);
    t.capture(s("after"), None, None);
    flush(&t).await;
    drop(t);
    let events = delivered(rx, &token).await;
    assert_eq!(names(&events), ["$identify", "$groupidentify", "after"]);
    assert_eq!(events[0]["properties"]["$set"]["plan"], "team");
    assert_eq!(events[2]["properties"]["distinct_id"], "user-1");
    assert_eq!(events[2]["properties"]["$groups"]["team"], "t-1");
}

#[wasm_bindgen_test]
async fn cookieless_and_memory_persistence_store_nothing() {
    let rx = receiver();
    for (mode, option) in [
        ("cookieless", r#""cookieless": true"#),
        ("memory", r#""persistence": "memory""#),
    ] {
        let token = token(mode);
        let json = format!(
            r#"{{"posthog": {{"apikey": "{token}", "apiurl": "{rx}", "capture_pageview": false}}, {option}}}"#
        );
        let t = start(&json);
        t.route_changed(s("/private"), None, None);
        t.identify(s("someone"), None, None);
        assert_eq!(stored_keys_containing(&token), 0, "{mode}");
        flush(&t).await;
        drop(t);
        let events = delivered(rx, &token).await;
        assert_eq!(names(&events), ["$pageview", "$identify"], "{mode}");
        let device_id = &events[0]["properties"]["$device_id"];
        assert_eq!(device_id.is_null(), mode == "cookieless", "{mode}");
    }
}

#[wasm_bindgen_test]
async fn a_large_unload_is_split_and_what_the_browser_refuses_waits_for_the_next_load() {
    let rx = receiver();
    let token = token("bigunload");
    let big = js_sys::JSON::parse(&format!(r#"{{"blob": "{}"}}"#, "x".repeat(3_000))).unwrap();
    let t = start(&config(rx, &token, false));
    for _ in 0..40 {
        t.capture(s("big"), Some(big.clone()), None);
    }
    dispatch("pagehide");
    drop(t);
    release_locks_starting_with(&format!("ff_telemetry_{token}:")).await;
    // The next page load sends whatever the browser did not take.
    let next = start(&config(rx, &token, false));
    let events = wait_for(|| delivered(rx, &token), 40).await;
    drop(next);
    dispatch("pageshow");

    assert!(
        requests(rx, &token).await.len() >= 2,
        "120 KB cannot go in one beacon"
    );
    assert_eq!(events.len(), 40);
    assert_eq!(distinct_uuids(&events), 40, "each event once");
}

#[wasm_bindgen_test]
async fn a_refused_batch_is_dropped_not_retried() {
    let rx = receiver();
    let token = token("refused");
    fail_next(rx, &token, "/batch/", 400, 1, "{}").await;
    let t = start(&config(rx, &token, false));
    t.capture(s("refused"), None, None);
    flush(&t).await;
    t.capture(s("accepted"), None, None);
    flush(&t).await;
    drop(t);

    assert_eq!(statuses(rx, &token).await, [400, 200]);
    assert_eq!(
        names(&delivered(rx, &token).await),
        ["accepted"],
        "the refused event is not resent"
    );
}

#[wasm_bindgen_test]
async fn a_burst_that_overflows_the_queue_warns_once_and_saves_once() {
    let rx = receiver();
    let token = token("burst");
    let t = start(&config(rx, &token, false));
    let stop_counting = count_warnings_and_writes("queue full", &format!("ff_telemetry_{token}"));
    for _ in 0..1_500 {
        t.capture(s("burst"), None, None);
    }
    let (warnings, writes_during_the_burst) = (counted_warnings(), counted_writes());
    // The save is a microtask: it has run once this await has resumed.
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::UNDEFINED))
        .await
        .expect("resolves");
    let writes_after_the_task = counted_writes();
    let _ = stop_counting.call0(&JsValue::NULL);
    assert_eq!(
        warnings, 1,
        "1,500 events into a queue of 1,000: one warning"
    );
    assert_eq!(writes_during_the_burst, 0);
    assert_eq!(
        writes_after_the_task, 2,
        "the burst is saved once: one write of the state, one of this page's queue"
    );
    flush(&t).await;
    drop(t);
    let events = delivered(rx, &token).await;
    assert_eq!(
        events.len(),
        1_000,
        "the newest 1,000 are kept and delivered"
    );
}

// Several tabs (README, "How the data flows"): each page keeps its queue
// under a key of its own, holding the Web Lock of that name while it lives,
// and adopts the queue of a page that is gone (its lock free).
#[wasm_bindgen_test]
async fn a_page_holds_its_queues_lock_and_adopts_the_queue_of_a_page_that_is_gone() {
    let rx = receiver();
    let token = token("tabs");
    let gone = format!("ff_telemetry_{token}:12345");
    let queued =
        format!(r#"{{"event":"left by a closed tab","properties":{{"token":"{token}"}}}}"#);
    store_item(&gone, &format!("\n{queued}"));
    let t = start(&config(rx, &token, false));
    let events = wait_for(|| delivered(rx, &token), 1).await;
    let queues_left = stored_keys_containing(&format!("ff_telemetry_{token}:"));
    let prefix = format!("ff_telemetry_{token}:");
    let held = held_locks_starting_with(&prefix).await.as_f64();
    drop(t);
    assert_eq!(
        names(&events),
        ["left by a closed tab"],
        "adopted and sent at once"
    );
    assert_eq!(
        queues_left, 1,
        "the closed tab's key removed, this page's kept"
    );
    assert_eq!(held, Some(1.0), "this page's lock held while it lives");
}

#[wasm_bindgen_test]
async fn unreadable_stored_state_starts_a_fresh_identity_and_keeps_the_queue() {
    let rx = receiver();
    // A state line in a format this version does not read (an older tag),
    // then a queued event.
    let token = token("unreadable-state");
    let queued = format!(
        r#"{{"event":"queued earlier","properties":{{"token":"{token}","distinct_id":"user-1"}}}}"#
    );
    let old_state = r#"["ff-telemetry-state 1","device-1","user-1","1","","","",""]"#;
    store_item(
        &format!("ff_telemetry_{token}"),
        &[old_state, &queued].join("\n"),
    );
    let t = start(&config(rx, &token, false));
    assert!(!t.has_opted_out());
    t.route_changed(s("/after"), None, None);
    flush(&t).await;
    drop(t);
    let events = delivered(rx, &token).await;
    assert_eq!(names(&events), ["queued earlier", "$pageview"]);
    let view = &events[1]["properties"];
    assert_eq!(
        view["distinct_id"], view["$device_id"],
        "a fresh anonymous id"
    );
    assert_ne!(view["distinct_id"], Value::from("user-1"));
    assert_ne!(view["$device_id"], Value::from("device-1"));
}

// `JSON.stringify` writes a lone surrogate as `\ud800`, which serde_json (the
// receiver, PostHog's capture service) refuses with a 400: the whole batch,
// "after" included, would be lost. mergeProps writes U+FFFD instead.
#[wasm_bindgen_test]
async fn a_lone_surrogate_in_caller_properties_does_not_lose_the_batch() {
    let rx = receiver();
    let token = token("surrogate");
    let t = start(&config(rx, &token, false));
    t.capture(s("surrogate"), Some(lone_surrogate_props()), None);
    t.capture(s("after"), None, None);
    flush(&t).await;
    drop(t);

    let statuses = statuses(rx, &token).await;
    assert!(
        !statuses.is_empty() && statuses.iter().all(|s| s == 200),
        "answers: {statuses:?}"
    );
    let events = delivered(rx, &token).await;
    assert_eq!(names(&events), ["surrogate", "after"]);
    assert!(events[0]["properties"]["x"].is_string());
    assert_eq!(events[0]["properties"]["y"], "ok");
}

#[wasm_bindgen_test]
async fn freeing_the_handle_right_after_a_call_leaves_nothing_to_throw_later() {
    let rx = receiver();
    let token = token("freenow");
    let stop_counting = count_page_errors();
    let t = start(&config(rx, &token, false));
    // Queues the event and a deferred save (a microtask), then `free()`s
    // the handle in the same task, as a component unmounting would.
    t.capture(s("last words"), None, None);
    drop(t);
    // The microtask and anything else queued by the browser run now.
    common::sleep(0).await;
    let errors = stop_counting.call0(&JsValue::NULL).unwrap();
    assert_eq!(errors.as_f64(), Some(0.0), "the page saw an error");
}

// Storage with room for the state but not for the unsent queue: the state
// (here the identified user) must still be saved.
#[wasm_bindgen_test]
async fn a_queue_too_big_for_storage_does_not_lose_the_saved_identity() {
    let rx = receiver();
    let token = token("quota-identity");
    fill_storage(4_000);
    let t = start(&config(rx, &token, false));
    let stop_counting = count_warnings_and_writes("could not save", "-");
    t.capture(s("big"), Some(big_props(8_000)), None);
    t.identify(s("user-42"), None, None);
    // Each saves at once.
    for _ in 0..3 {
        t.opt_in();
    }
    let _ = stop_counting.call0(&JsValue::NULL);
    // The page dies before its 3 s flush.
    drop(t);
    let again = start(&config(rx, &token, false));
    again.capture(s("after reload"), None, None);
    flush(&again).await;
    drop(again);
    clear_filler();
    assert_eq!(
        counted_warnings(),
        1,
        "a full storage warns once, not per save"
    );
    let events = delivered(rx, &token).await;
    assert_eq!(names(&events), ["after reload"]);
    assert_eq!(events[0]["properties"]["distinct_id"], "user-42");
}

// A full `localStorage` (the app's own data) refuses writes, but what it
// holds is still there: a stored opt-out must hold.
#[wasm_bindgen_test]
async fn a_stored_opt_out_holds_when_storage_is_full() {
    let rx = receiver();
    let token = token("full-optout");
    let t = start(&config(rx, &token, false));
    t.opt_out();
    drop(t);
    fill_storage(0);
    let again = start(&config(rx, &token, true));
    let opted_out = again.has_opted_out();
    again.capture(s("after opting out"), None, None);
    flush(&again).await;
    drop(again);
    clear_filler();
    assert!(opted_out);
    assert!(requests(rx, &token).await.is_empty());
}
