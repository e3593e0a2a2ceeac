//! Diagnostics of open notes over the protocol: each code of docs/format.md with its severity
//! and exact range, nothing from code, links in headings, recomputation on every change and
//! whenever the index changes, UTF-16 and CRLF ranges, and the example vault's eight problems
//! (plus its unlinked-mention hints).
mod common;
use common::*;
use serde_json::{Value, json};

/// Notes the fixtures below link to.
const VAULT: &str = r#"
//- /people/tomas_reyes.md
---
title: Tomás Reyes
---

Host of Kiln Hours.
//- /kiln_hours/glaze_chemistry.md
---
title: Glaze Chemistry
videoId: gLz-Chm7x1Q
---

From: [[tomas_reyes]] <br/>

## Why cobalt turns blue

A pinch is enough [00:04:10].
//- /kiln_hours/introduction.md
# Welcome to Kiln Hours
//- /glaze_lab/introduction.md
# Welcome to the Glaze Lab
"#;

fn vault(extra: &str) -> Fixture {
    Fixture::new(&format!("{VAULT}{extra}"))
}

/// Opens `rel` and waits for its diagnostics to be `expected(text)`.
async fn open_and_expect(
    server: &mut TestServer,
    fx: &Fixture,
    rel: &str,
    expected: impl FnOnce(&str) -> Vec<Value>,
) -> Vec<Value> {
    let path = fx.path(rel);
    let text = server.open(&path).await;
    server.expect_diagnostics(&path, expected(&text)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_link_is_a_warning_on_its_target_naming_it() {
    let fx = vault(
        r#"
//- /kiln_hours/wood_firing_plans.md
---
title: Wood Firing Plans
videoId: wFp-Pl4n5aZ
---

From: [[tomas_reyes]] <br/>

We will try [[anagama_kiln | an anagama]] next spring, and ![[ ash_glazes ]].
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = open_and_expect(&mut server, &fx, "kiln_hours/wood_firing_plans.md", |t| {
        vec![
            diag(
                "broken-link",
                WARNING,
                range_in(t, "[[anagama_kiln |", "anagama_kiln"),
            ),
            diag(
                "broken-link",
                WARNING,
                range_in(t, "![[ ash_glazes ]]", "ash_glazes"),
            ),
        ]
    })
    .await;
    let messages: Vec<&str> = got.iter().map(|d| d["message"].as_str().unwrap()).collect();
    assert!(messages[0].contains("anagama_kiln"), "{messages:?}");
    assert!(messages[1].contains("ash_glazes"), "{messages:?}");
    assert!(got.iter().all(|d| d["source"] == "wikilsp"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_link_is_a_warning_naming_the_candidates() {
    let fx = vault(
        r#"
//- /people/ana_lima.md
# Ana Lima

She appears in the [[introduction | first video]].
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = open_and_expect(&mut server, &fx, "people/ana_lima.md", |t| {
        vec![diag(
            "ambiguous-link",
            WARNING,
            range_in(t, "[[introduction", "introduction"),
        )]
    })
    .await;
    let message = got[0]["message"].as_str().unwrap();
    assert!(message.contains("kiln_hours/introduction"), "{message}");
    assert!(message.contains("glaze_lab/introduction"), "{message}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_heading_is_a_warning_on_the_heading_part() {
    let fx = vault(
        r#"
//- /kiln_hours/blue_pots.md
# Blue pots

See [[glaze_chemistry#Copper reds | reds]], [[glaze_chemistry # why COBALT turns blue]] and [[#Nowhere]].

## Plan
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/blue_pots.md", |t| {
        vec![
            diag("missing-heading", WARNING, range_of(t, "Copper reds")),
            diag("missing-heading", WARNING, range_of(t, "Nowhere")),
        ]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_links_are_errors_on_the_whole_link() {
    let fx = vault(
        r#"
//- /kiln_hours/empties.md
One [[]], two [[ ]], three [[ | text]] and an embed ![[]].
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/empties.md", |t| {
        vec![
            diag("empty-link", ERROR, range_in(t, "One [[]]", "[[]]")),
            diag("empty-link", ERROR, range_of(t, "[[ ]]")),
            diag("empty-link", ERROR, range_of(t, "[[ | text]]")),
            diag("empty-link", ERROR, range_of(t, "![[]]")),
        ]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unclosed_link_is_an_error_at_its_brackets_and_nothing_else() {
    let fx = vault(
        r#"
//- /kiln_hours/unclosed.md
Ask [[tomas_reyes about the kiln
Then [[nobody_yet and [[glaze_chemistry]] on one line.
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/unclosed.md", |t| {
        vec![
            diag("unclosed-link", ERROR, range_in(t, "Ask [[", "[[")),
            diag("unclosed-link", ERROR, range_in(t, "Then [[", "[[")),
        ]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamp_problems_have_their_codes_and_ranges() {
    let fx = vault(
        r#"
//- /kiln_hours/bad_times.md
---
title: Bad times
videoId: bAd-T1m3s0Q
---

Fine: [01:05], [00:01:45], <a class="yt-timestamp" data-t="00:08:33">[00:08:33]</a>.

Mismatch: <a class="yt-timestamp" data-t="00:14:05">[00:14:50]</a>.

Invalid: [00:61:10], [12:75] and <a class="yt-timestamp" data-t="00:08:60">[00:08:60]</a>.

Two parts: <a class="yt-timestamp" data-t="08:33">[08:33]</a>
Four parts: <a class="yt-timestamp" data-t="00:08:33:12">[00:08:33]</a>
No brackets: <a class="yt-timestamp" data-t="00:09:33">00:09:33</a>
Empty text: <a class="yt-timestamp" data-t="00:10:33"></a>
No data-t: <a class="yt-timestamp">[00:12:33]</a>
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/bad_times.md", |t| {
        let anchor = |inner: &str| {
            // The whole anchor that holds `inner`.
            let at = find(t, inner);
            let start = t[..at].rfind("<a ").unwrap();
            let end = at + t[at..].find("</a>").unwrap() + 4;
            range(t, start, end)
        };
        vec![
            diag("timestamp-mismatch", WARNING, range_of(t, "[00:14:50]")),
            diag("invalid-timestamp", WARNING, range_of(t, "[00:61:10]")),
            diag("invalid-timestamp", WARNING, range_of(t, "[12:75]")),
            diag("invalid-timestamp", WARNING, anchor("\"00:08:60\"")),
            diag("malformed-timestamp", WARNING, anchor("\"08:33\"")),
            diag("malformed-timestamp", WARNING, anchor("\"00:08:33:12\"")),
            diag("malformed-timestamp", WARNING, anchor("\"00:09:33\"")),
            diag("malformed-timestamp", WARNING, anchor("\"00:10:33\"")),
            diag("malformed-timestamp", WARNING, anchor("[00:12:33]")),
        ]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anchor_with_an_unquoted_data_t_is_malformed() {
    let fx = vault(
        r#"
//- /kiln_hours/no_quotes.md
---
title: No quotes
videoId: n0Q-u0t3sZZ
---

No quotes: <a class="yt-timestamp" data-t=00:11:33>[00:11:33]</a> then text.
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    // docs/format.md, "Timestamp problems": `data-t=00:08:33` is a broken attribute.
    open_and_expect(&mut server, &fx, "kiln_hours/no_quotes.md", |t| {
        let start = find(t, "<a ");
        let end = find(t, "</a>") + 4;
        vec![diag("malformed-timestamp", WARNING, range(t, start, end))]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anchor_with_an_unclosed_quote_is_malformed() {
    let fx = vault(
        r#"
//- /kiln_hours/bad_quote.md
---
title: Bad quote
videoId: bAd-Qu0t3sZ
---

Open quote: <a class="yt-timestamp" data-t="00:08:33>[00:08:33]</a> then text.
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/bad_quote.md", |t| {
        let start = find(t, "<a ");
        let end = find(t, "</a>") + 4;
        vec![diag("malformed-timestamp", WARNING, range(t, start, end))]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_without_a_video_id_give_one_hint_on_the_first() {
    let fx = vault(
        r#"
//- /kiln_hours/studio_stream.md
---
title: Studio stream
---

# Studio stream

Nobody recorded it; the first question came at [00:03:10] and the last at
<a class="yt-timestamp" data-t="01:02:03">[01:02:03]</a>.
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    let got = open_and_expect(&mut server, &fx, "kiln_hours/studio_stream.md", |t| {
        vec![diag(
            "timestamp-without-video",
            HINT,
            range_of(t, "[00:03:10]"),
        )]
    })
    .await;
    assert!(got[0]["message"].as_str().unwrap().contains("videoId"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontmatter_that_never_closes_is_an_error_and_the_whole_file_is_body() {
    let fx = vault(
        r#"
//- /kiln_hours/unclosed_frontmatter.md
---
title: Never closed
See [[anagama_kiln]] at [00:02:00].
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(
        &mut server,
        &fx,
        "kiln_hours/unclosed_frontmatter.md",
        |t| {
            vec![
                diag("bad-frontmatter", ERROR, range(t, 0, 3)),
                diag("broken-link", WARNING, range_of(t, "anagama_kiln")),
                diag("timestamp-without-video", HINT, range_of(t, "[00:02:00]")),
            ]
        },
    )
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontmatter_that_is_not_a_mapping_is_an_error_and_its_keys_are_unused() {
    let fx = vault(
        r#"
//- /kiln_hours/list_frontmatter.md
---
- videoId: nOt-A-mAp00
- title: A list
---

Body with [[anagama_kiln]] at [00:02:00].
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/list_frontmatter.md", |t| {
        vec![
            diag("bad-frontmatter", ERROR, range(t, 0, 3)),
            diag("broken-link", WARNING, range_of(t, "anagama_kiln")),
            // The videoId inside the list is not read.
            diag("timestamp-without-video", HINT, range_of(t, "[00:02:00]")),
        ]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontmatter_whose_yaml_does_not_parse_is_an_error_inside_the_block() {
    let fx = vault(
        r#"
//- /kiln_hours/broken_yaml.md
---
title: [unclosed
videoId: bR0-k3nYaMl
---

Body with [[anagama_kiln]].
"#,
    );
    let path = fx.path("kiln_hours/broken_yaml.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&path).await;
    // Where in the block the YAML error is reported is not specified; it is in the block.
    let got = server
        .diagnostics_where(&path, |d| d.iter().any(|d| d["code"] == "bad-frontmatter"))
        .await;
    let bad: Vec<&Value> = got
        .iter()
        .filter(|d| d["code"] == "bad-frontmatter")
        .collect();
    assert_eq!(bad.len(), 1, "{got:#?}");
    assert_eq!(bad[0]["severity"], ERROR);
    assert!(
        bad[0]["range"]["start"]["line"].as_u64().unwrap() <= 3,
        "{got:#?}"
    );
    assert!(
        bad[0]["range"]["end"]["line"].as_u64().unwrap() <= 3,
        "{got:#?}"
    );
    // The body still starts after the closing line.
    let others: Vec<Value> = summarize(&got)
        .into_iter()
        .filter(|d| d["code"] != "bad-frontmatter")
        .collect();
    assert_eq!(
        others,
        [diag(
            "broken-link",
            WARNING,
            range_of(&text, "anagama_kiln")
        )]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontmatter_after_a_bom_is_read_and_after_a_blank_line_is_not_frontmatter() {
    let fx = vault(
        "
//- /kiln_hours/bom.md
\u{feff}---
title: With a BOM
videoId: w1tH-b0M000
---

At [00:01:00] see [[glaze_chemistry]].
//- /kiln_hours/blank_first.md

---
title: Blank first line
---

No frontmatter here, so no error; see [[glaze_chemistry]].
",
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/bom.md", |_| vec![]).await;
    open_and_expect(&mut server, &fx, "kiln_hours/blank_first.md", |_| vec![]).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_inside_code_is_a_link_or_a_timestamp() {
    let fx = vault(
        r#"
//- /kiln_hours/checklist.md
# Checklist

```text
[[object_name]] at [21:40] <a class="yt-timestamp" data-t="08:33">[08:33]</a> [[
```

~~~~
[[tilde_fenced]] [00:61:00] [[]]
~~~~

    [[indented_code]] [12:75]

Inline `[[inline_code]]` and ``[00:61:10] [[`` spans.

Not a timestamp: [00:01:15](https://example.org/clip), and \[[escaped]] is no link.

- A list item
    continued with [[list_continuation]]
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/checklist.md", |t| {
        vec![diag(
            "broken-link",
            WARNING,
            range_of(t, "list_continuation"),
        )]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_innermost_double_bracket_opens_the_link() {
    let fx = vault(
        r#"
//- /kiln_hours/brackets.md
Triple [[[anagama_kiln]]] and [[[glaze_chemistry]]].
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/brackets.md", |t| {
        vec![diag("broken-link", WARNING, range_of(t, "anagama_kiln"))]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_in_headings_are_checked() {
    let fx = vault(
        r#"
//- /people/ana_lima.md
# [[tomas_reyes | Tomás]]'s apprentice

## [[anagama_kiln | The Anagama]] project

### [[glaze_chemistry#Cobalt blues | Blues]]
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "people/ana_lima.md", |t| {
        vec![
            diag("broken-link", WARNING, range_of(t, "anagama_kiln")),
            diag("missing-heading", WARNING, range_of(t, "Cobalt blues")),
        ]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_are_recomputed_on_each_change() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Fire with [[tomas_reyes]].
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&path).await;
    server.expect_diagnostics(&path, vec![]).await;
    // Retype the target: `tomas_reyes` → `tomas_reyez`.
    let at = find(&text, "reyes") + 4;
    server.edit(&path, 2, range(&text, at, at + 1), "z").await;
    let text = text.replace("reyes", "reyez");
    server
        .expect_diagnostics(
            &path,
            vec![diag("broken-link", WARNING, range_of(&text, "tomas_reyez"))],
        )
        .await;
    // And back.
    server.edit(&path, 3, range(&text, at, at + 1), "s").await;
    server.expect_diagnostics(&path, vec![]).await;
    // A whole new text.
    server
        .change(&path, 4, json!([{ "text": "New [[]] text\n" }]))
        .await;
    server
        .expect_diagnostics(
            &path,
            vec![diag(
                "empty-link",
                ERROR,
                range_of("New [[]] text\n", "[[]]"),
            )],
        )
        .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_the_missing_note_in_the_editor_clears_the_warning_in_every_open_note() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Build an [[anagama_kiln]].
//- /people/ana_lima.md
# Ana Lima

She wants an [[Anagama Kiln | anagama]] too.
//- /kiln_hours/log.md
# Firing log
"#,
    );
    let plans = fx.path("kiln_hours/plans.md");
    let ana = fx.path("people/ana_lima.md");
    let log = fx.path("kiln_hours/log.md");
    let mut server = TestServer::start(fx.root()).await;
    let plans_text = server.open(&plans).await;
    let ana_text = server.open(&ana).await;
    let log_text = server.open(&log).await;
    let plans_broken = vec![diag(
        "broken-link",
        WARNING,
        range_of(&plans_text, "anagama_kiln"),
    )];
    let ana_broken = vec![diag(
        "broken-link",
        WARNING,
        range_of(&ana_text, "Anagama Kiln"),
    )];
    server
        .expect_diagnostics(&plans, plans_broken.clone())
        .await;
    server.expect_diagnostics(&ana, ana_broken.clone()).await;

    // A new, unsaved note opened in the editor.
    let new = fx.path("kiln_hours/anagama_kiln.md");
    server.open_with(&new, "# Anagama kiln\n").await;
    server.expect_diagnostics(&plans, vec![]).await;
    server.expect_diagnostics(&ana, vec![]).await;

    // Closed without saving: it never existed.
    server.close(&new).await;
    server
        .expect_diagnostics(&plans, plans_broken.clone())
        .await;
    server.expect_diagnostics(&ana, ana_broken.clone()).await;

    // Another open note takes the name as an alias.
    let at = log_text.len();
    server
        .edit(
            &log,
            2,
            range(&log_text, 0, at),
            "---\naliases: [Anagama kiln]\n---\n# Firing log\n",
        )
        .await;
    server.expect_diagnostics(&plans, vec![]).await;
    server.expect_diagnostics(&ana, vec![]).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_count_utf16_units_after_accents_cyrillic_and_emoji() {
    let fx = vault(
        r#"
//- /kiln_hours/abroad.md
---
title: Abroad
videoId: aBr-0aD1234
---

🔥🏺 Crème brûlée, глазурь «Ёж»: [[anagama_kiln]] at [00:61:10], then [[]] and [[glaze_chemistry#Синий]].
👩‍👩‍👧 Семья [[
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/abroad.md", |t| {
        vec![
            diag("broken-link", WARNING, range_of(t, "anagama_kiln")),
            diag("invalid-timestamp", WARNING, range_of(t, "[00:61:10]")),
            diag("empty-link", ERROR, range_of(t, "[[]]")),
            diag("missing-heading", WARNING, range_of(t, "Синий")),
            diag("unclosed-link", ERROR, range_in(t, "Семья [[", "[[")),
        ]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_are_right_on_crlf_lines() {
    let fx = vault(
        "//- /kiln_hours/windows.md\r\n---\r\ntitle: Windows\r\nvideoId: w1nD-0w5aBc\r\n---\r\n\r\n## [[anagama_kiln | Anagama]]\r\n\r\nCrème [[glaze_chemistry#Nope]] at [00:61:10]\r\nEnd [[anagama_kiln\r\n[[]]\r\n",
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/windows.md", |t| {
        assert!(t.contains("\r\n"));
        vec![
            diag(
                "broken-link",
                WARNING,
                range_in(t, "## [[anagama_kiln", "anagama_kiln"),
            ),
            diag("missing-heading", WARNING, range_of(t, "Nope")),
            diag("invalid-timestamp", WARNING, range_of(t, "[00:61:10]")),
            diag("unclosed-link", ERROR, range_in(t, "End [[", "[[")),
            diag("empty-link", ERROR, range_of(t, "[[]]")),
        ]
    })
    .await;
    server.shutdown().await;
}

/// docs/format.md, "Unlinked mentions": the names of other notes the example vault's prose
/// writes without linking them (all correct: each is a title or alias of exactly one other
/// note), as (file, text around the mention that occurs once, the mention).
const EXAMPLE_MENTIONS: [(&str, &str, &str); 20] = [
    ("backyard_photons/backyard_photons.md", "Maren'", "Maren"),
    (
        "backyard_photons/choosing_a_first_telescope.md",
        "Maren'",
        "Maren",
    ),
    (
        "backyard_photons/dark_adaptation_and_averted_vision.md",
        "Maren ",
        "Maren",
    ),
    ("backyard_photons/introduction.md", "Maren s", "Maren"),
    ("backyard_photons/introduction.md", "Maren wa", "Maren"),
    ("backyard_photons/introduction.md", "Maren wi", "Maren"),
    (
        "backyard_photons/light_pollution_and_the_bortle_scale.md",
        "Maren ",
        "Maren",
    ),
    ("backyard_photons/sketching_the_moon.md", "Maren ", "Maren"),
    (
        "backyard_photons/spectroscopy_on_a_budget.md",
        "Inês n",
        "Inês",
    ),
    (
        "backyard_photons/spectroscopy_on_a_budget.md",
        "Maren,",
        "Maren",
    ),
    ("backyard_photons/star_party_qa.md", "Maren d", "Maren"),
    ("backyard_photons/star_party_qa.md", "Maren l", "Maren"),
    ("backyard_photons/star_party_qa.md", "Maren'", "Maren"),
    (
        "deep_field_lectures/cepheid_variables.md",
        "Andromeda ",
        "Andromeda",
    ),
    (
        "deep_field_lectures/solar_wind_and_magnetosphere.md",
        "Inês c",
        "Inês",
    ),
    (
        "deep_field_lectures/solar_wind_and_magnetosphere.md",
        "Inês s",
        "Inês",
    ),
    (
        "deep_field_lectures/the_cosmic_distance_ladder.md",
        "orbits",
        "orbits",
    ),
    ("observing_checklist.md", "Maren'", "Maren"),
    ("people/ines_carvalho.md", "Maren ", "Maren"),
    ("people/ines_carvalho.md", "solar wind", "solar wind"),
];

/// docs/format.md, "Deliberate problems": the example vault's eight findings, as
/// (file, line, column, code, severity, the text the range covers).
const EXAMPLE_FINDINGS: [(&str, usize, usize, &str, u8, &str); 8] = [
    (
        "backyard_photons/choosing_a_first_telescope.md",
        25,
        363,
        "timestamp-mismatch",
        WARNING,
        "[00:14:50]",
    ),
    (
        "backyard_photons/dark_adaptation_and_averted_vision.md",
        26,
        72,
        "broken-link",
        WARNING,
        "zodiacal_light",
    ),
    (
        "backyard_photons/sketching_the_moon.md",
        27,
        116,
        "malformed-timestamp",
        WARNING,
        r#"<a class="yt-timestamp" data-t="08:33">[08:33]</a>"#,
    ),
    (
        "backyard_photons/star_party_qa.md",
        14,
        44,
        "timestamp-without-video",
        HINT,
        "[00:03:10]",
    ),
    (
        "backyard_photons/the_messier_marathon.md",
        23,
        35,
        "empty-link",
        ERROR,
        "[[]]",
    ),
    (
        "deep_field_lectures/solar_wind_and_magnetosphere.md",
        17,
        107,
        "broken-link",
        WARNING,
        "Coronal Mass Ejections",
    ),
    (
        "deep_field_lectures/the_cosmic_distance_ladder.md",
        30,
        496,
        "invalid-timestamp",
        WARNING,
        "[00:61:10]",
    ),
    (
        "the_andromeda_galaxy.md",
        29,
        257,
        "broken-link",
        WARNING,
        "triangulum_galaxy",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_vault_reports_exactly_its_deliberate_problems() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/vault");
    let mut server = TestServer::start(&root).await;
    let mut notes: Vec<std::path::PathBuf> = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "md") {
                notes.push(p);
            }
        }
    }
    notes.sort();
    assert_eq!(notes.len(), 23);
    for note in &notes {
        let rel = note.strip_prefix(&root).unwrap().to_str().unwrap();
        let text = server.open(note).await;
        let expected: Vec<Value> =
            EXAMPLE_FINDINGS
                .iter()
                .filter(|f| f.0 == rel)
                .map(|&(_, line, col, code, severity, covered)| {
                    let start = json!({ "line": line - 1, "character": col - 1 });
                    let line_text = text.lines().nth(line - 1).unwrap();
                    assert!(
                        line_text[col - 1..].starts_with(covered),
                        "{rel}:{line}:{col}"
                    );
                    let end = json!({ "line": line - 1, "character": col - 1 + covered.len() });
                    diag(code, severity, json!({ "start": start, "end": end }))
                })
                .chain(EXAMPLE_MENTIONS.iter().filter(|m| m.0 == rel).map(
                    |&(_, context, mention)| {
                        diag("unlinked-mention", HINT, range_in(&text, context, mention))
                    },
                ))
                .collect();
        server.expect_diagnostics(note, expected).await;
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headings_in_code_and_hashtags_are_not_headings() {
    let fx = vault(
        r#"
//- /kiln_hours/recipes.md
# Recipes

```
## Fake heading
```

#hashtag line

    ## Indented heading

## Real heading
//- /kiln_hours/plans.md
[[recipes#Fake heading]] [[recipes#hashtag line]] [[recipes#Indented heading]] [[recipes#Real heading]]
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/plans.md", |t| {
        vec![
            diag("missing-heading", WARNING, range_of(t, "Fake heading")),
            diag("missing-heading", WARNING, range_of(t, "hashtag line")),
            diag("missing-heading", WARNING, range_of(t, "Indented heading")),
        ]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_link_with_a_heading_is_only_ambiguous() {
    let fx = vault(
        r#"
//- /people/ana_lima.md
See [[introduction#Nowhere]].
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "people/ana_lima.md", |t| {
        vec![diag(
            "ambiguous-link",
            WARNING,
            range_in(t, "[[introduction", "introduction"),
        )]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blank_video_id_is_no_video_id() {
    let fx = vault(
        r#"
//- /kiln_hours/blank_video.md
---
title: Blank video
videoId: ""
---

At [00:01:00] the kiln opened.
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    open_and_expect(&mut server, &fx, "kiln_hours/blank_video.md", |t| {
        vec![diag(
            "timestamp-without-video",
            HINT,
            range_of(t, "[00:01:00]"),
        )]
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_diagnostics_carry_the_document_version() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Fire [[glaze_chemistry]].
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let text = server.open(&path).await;
    server.expect_diagnostics(&path, vec![]).await;
    let at = find(&text, "glaze_chemistry");
    server
        .edit(&path, 7, range(&text, at, at + 15), "wood_firing")
        .await;
    let edited = text.replacen("glaze_chemistry", "wood_firing", 1);
    let u = uri(&path);
    let msg = server
        .wait_for("diagnostics of version 7", |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == u.as_str()
                && m["params"]["version"] == 7
        })
        .await;
    assert_eq!(
        summarize(msg["params"]["diagnostics"].as_array().unwrap()),
        [diag(
            "broken-link",
            WARNING,
            range_of(&edited, "wood_firing")
        )]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_not_judged_before_the_vault_is_indexed() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/glaze_chemistry.md
# Glaze Chemistry
//- /kiln_hours/today.md
Fire with [[glaze_chemistry]], then [[anagama_kiln]], then [[]].
"#,
    );
    let today = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    // Open the note before the client says `initialized`: nothing is indexed yet, so only
    // what the note alone shows may be reported.
    let mut server = TestServer::spawn(fx.root());
    server.initialize(json!({})).await;
    server.open_with(&today, &text).await;
    server
        .expect_diagnostics(
            &today,
            vec![diag("empty-link", ERROR, range_of(&text, "[[]]"))],
        )
        .await;
    server.notify("initialized", json!({})).await;
    server.wait_indexed().await;
    server
        .expect_diagnostics(
            &today,
            vec![
                diag("broken-link", WARNING, range_of(&text, "anagama_kiln")),
                diag("empty-link", ERROR, range_of(&text, "[[]]")),
            ],
        )
        .await;
    // The link to the note that exists was never reported broken.
    let reported_broken = server.seen.iter().any(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| {
                    d["message"]
                        .as_str()
                        .unwrap_or("")
                        .contains("glaze_chemistry")
                })
    });
    assert!(!reported_broken, "{:#?}", server.seen);
    server.shutdown().await;
}
