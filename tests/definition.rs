//! Go to definition over the protocol: from any part of a link to its note (at the top) or to
//! the heading its `#` part names; every candidate of an ambiguous link; the folder rules; links
//! written as titles, aliases, in other cases or punctuation (docs/format.md, "Resolution").
mod common;
use common::*;
use serde_json::{Value, json};

/// The rest of a small pottery vault that the links below point into.
const VAULT: &str = r#"
//- /people/tomas_reyes.md
---
title: Tomás Reyes
aliases:
  - Tomás
  - The kiln keeper
---

# Tomás Reyes

Host of Kiln Hours.
//- /kiln_hours/glaze_chemistry.md
---
title: Glaze Chemistry
videoId: gLz-Chm7x1Q
aliases: [Glaze maths, Potter’s wheel of oxides]
---

From: [[tomas_reyes]] <br/>

Silica, flux and alumina make every glaze <a class="yt-timestamp" data-t="00:00:12">[00:00:12]</a>.

## Why cobalt turns blue

A pinch of cobalt carbonate is enough [00:04:10].

### The bow of the wheel, up close

Centrifugal notes.
//- /kiln_hours/raku_firing.md
---
title: "Raku Firing: Fast and Smoky"
videoId: rAk-U9fIr3Z
---

From: [[tomas_reyes | Tomás]] <br/>

Pull the pot out at red heat [00:02:00].
"#;

fn vault(extra: &str) -> Fixture {
    Fixture::new(&format!("{VAULT}{extra}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_on_every_part_of_a_link_leads_to_the_top_of_the_note() {
    let fx = vault(
        r#"
//- /kiln_hours/sawdust_reduction.md
---
title: Sawdust Reduction
---

Drop the hot pot into [[raku_firing | the raku bin]] and close the lid.
"#,
    );
    let path = fx.path("kiln_hours/sawdust_reduction.md");
    let text = fx.text("kiln_hours/sawdust_reduction.md");
    let link = "[[raku_firing | the raku bin]]";
    let start = find(&text, link);
    let expected = location(&fx.uri("kiln_hours/raku_firing.md"), top());
    // The note is not open: the server answers from the index it built on `initialized`.
    let mut server = TestServer::start(fx.root()).await;
    let spots = [
        ("on the first [", start),
        ("on the second [", start + 1),
        ("at the start of the target", start + 2),
        ("inside the target", find_in(&text, link, "firing")),
        ("on the pipe", find_in(&text, link, "|")),
        ("on the display text", find_in(&text, link, "raku bin")),
        ("on the first ]", start + link.len() - 2),
        ("on the second ]", start + link.len() - 1),
    ];
    for (what, offset) in spots {
        let got = server.definition(&path, position(&text, offset)).await;
        assert_eq!(got, expected, "definition {what}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_outside_any_link_is_null() {
    let fx = vault(
        r#"
//- /kiln_hours/sawdust_reduction.md
Drop the hot pot into [[raku_firing]] and close the lid.
"#,
    );
    let path = fx.path("kiln_hours/sawdust_reduction.md");
    let text = fx.text("kiln_hours/sawdust_reduction.md");
    let mut server = TestServer::start(fx.root()).await;
    for needle in ["Drop", "close the lid"] {
        let got = server
            .definition(&path, position(&text, find(&text, needle)))
            .await;
        assert_eq!(got, Value::Null, "definition on {needle:?}");
    }
    // One character before the `[[`.
    let before = find(&text, "[[") - 1;
    assert_eq!(
        server.definition(&path, position(&text, before)).await,
        Value::Null
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_on_the_from_line_leads_to_the_speaker() {
    let fx = vault("");
    let path = fx.path("kiln_hours/glaze_chemistry.md");
    let text = fx.text("kiln_hours/glaze_chemistry.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let got = server
        .definition(&path, pos_in(&text, "From: [[tomas_reyes]]", "reyes", 0))
        .await;
    assert_eq!(got, location(&fx.uri("people/tomas_reyes.md"), top()));
    // With display text too.
    let raku = fx.path("kiln_hours/raku_firing.md");
    let raku_text = fx.text("kiln_hours/raku_firing.md");
    let got = server
        .definition(
            &raku,
            pos_in(&raku_text, "[[tomas_reyes | Tomás]]", "Tomás", 1),
        )
        .await;
    assert_eq!(got, location(&fx.uri("people/tomas_reyes.md"), top()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heading_link_leads_to_the_heading_line() {
    let fx = vault(
        r#"
//- /kiln_hours/blue_pots.md
Cobalt is strong: [[glaze_chemistry#Why cobalt turns blue | see why]].
"#,
    );
    let path = fx.path("kiln_hours/blue_pots.md");
    let text = fx.text("kiln_hours/blue_pots.md");
    let target = fx.text("kiln_hours/glaze_chemistry.md");
    let expected = location(
        &fx.uri("kiln_hours/glaze_chemistry.md"),
        line_range(&target, "## Why cobalt turns blue"),
    );
    let link = "[[glaze_chemistry#Why cobalt turns blue | see why]]";
    let mut server = TestServer::start(fx.root()).await;
    for inner in ["[[", "glaze", "#", "Why cobalt", "see why", "]]"] {
        let got = server
            .definition(&path, pos_in(&text, link, inner, 0))
            .await;
        assert_eq!(got, expected, "definition on {inner:?}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heading_link_matches_the_heading_whatever_its_case_and_punctuation() {
    let fx = vault(
        r#"
//- /kiln_hours/blue_pots.md
See [[glaze_chemistry#WHY Cobalt turns blue?]] and [[glaze_chemistry#The Bow of the Wheel — Up Close]].
"#,
    );
    let path = fx.path("kiln_hours/blue_pots.md");
    let text = fx.text("kiln_hours/blue_pots.md");
    let target = fx.text("kiln_hours/glaze_chemistry.md");
    let uri = fx.uri("kiln_hours/glaze_chemistry.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .definition(&path, pos_in(&text, "#WHY", "WHY", 0))
        .await;
    assert_eq!(
        got,
        location(&uri, line_range(&target, "## Why cobalt turns blue"))
    );
    let got = server
        .definition(&path, pos_in(&text, "#The Bow", "Bow", 0))
        .await;
    assert_eq!(
        got,
        location(
            &uri,
            line_range(&target, "### The bow of the wheel, up close")
        )
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heading_link_to_a_missing_heading_leads_to_the_top_of_the_note() {
    let fx = vault(
        r#"
//- /kiln_hours/blue_pots.md
See [[glaze_chemistry#Copper reds]].
"#,
    );
    let path = fx.path("kiln_hours/blue_pots.md");
    let text = fx.text("kiln_hours/blue_pots.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .definition(&path, pos_in(&text, "[[glaze", "glaze", 0))
        .await;
    assert_eq!(
        got,
        location(&fx.uri("kiln_hours/glaze_chemistry.md"), top())
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_note_heading_link_leads_to_the_heading_in_this_note() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/firing_log.md
# Firing log

Jump to [[#Cone 10 schedule | the schedule]].

## Cone 10 schedule

Ramp slowly through quartz inversion.
"#,
    );
    let path = fx.path("kiln_hours/firing_log.md");
    let text = fx.text("kiln_hours/firing_log.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .definition(&path, pos_in(&text, "[[#Cone", "Cone", 0))
        .await;
    assert_eq!(
        got,
        location(
            &fx.uri("kiln_hours/firing_log.md"),
            line_range(&text, "## Cone 10 schedule")
        )
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_link_returns_every_candidate() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/introduction.md
# Welcome to Kiln Hours
//- /glaze_lab/introduction.md
# Welcome to the Glaze Lab
//- /people/tomas_reyes.md
# Tomás Reyes

He opened both channels with an [[introduction]].
"#,
    );
    let path = fx.path("people/tomas_reyes.md");
    let text = fx.text("people/tomas_reyes.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .definition(&path, pos_in(&text, "[[introduction]]", "intro", 0))
        .await;
    let mut got: Vec<Value> = got.as_array().expect("an array of locations").clone();
    got.sort_by_key(|l| l["uri"].as_str().unwrap().to_owned());
    assert_eq!(
        got,
        vec![
            location(&fx.uri("glaze_lab/introduction.md"), top()),
            location(&fx.uri("kiln_hours/introduction.md"), top()),
        ]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_stem_in_two_folders_the_link_stays_in_its_folder() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/introduction.md
# Welcome to Kiln Hours
//- /glaze_lab/introduction.md
# Welcome to the Glaze Lab
//- /kiln_hours/kiln_hours.md
# Kiln Hours

Start with the [[introduction]].
//- /glaze_lab/glaze_lab.md
# Glaze Lab

Start with the [[introduction | first video]].
"#,
    );
    let mut server = TestServer::start(fx.root()).await;
    for folder in ["kiln_hours", "glaze_lab"] {
        let path = fx.path(&format!("{folder}/{folder}.md"));
        let text = std::fs::read_to_string(&path).unwrap();
        let got = server
            .definition(&path, pos_in(&text, "[[introduction", "intro", 0))
            .await;
        assert_eq!(
            got,
            location(&fx.uri(&format!("{folder}/introduction.md")), top()),
            "from {folder}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nearest_enclosing_folder_wins_over_sibling_and_deeper_folders() {
    let fx = Fixture::new(
        r#"
//- /glaze.md
# Glaze (top)
//- /a/glaze.md
# Glaze (a)
//- /a/c/glaze.md
# Glaze (a/c)
//- /a/b/notes.md
A link from a/b to [[glaze]].
"#,
    );
    let path = fx.path("a/b/notes.md");
    let text = fx.text("a/b/notes.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .definition(&path, pos_in(&text, "[[glaze]]", "glaze", 0))
        .await;
    assert_eq!(got, location(&fx.uri("a/glaze.md"), top()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_link_resolves_by_path_and_a_moved_path_by_its_last_segment() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/introduction.md
# Welcome to Kiln Hours
//- /glaze_lab/introduction.md
# Welcome to the Glaze Lab
//- /people/tomas_reyes.md
See [[glaze_lab/introduction | the lab]], [[Kiln_Hours/Introduction.md]] and [[old_stuff/raku_firing]].
//- /kiln_hours/raku_firing.md
# Raku
"#,
    );
    let path = fx.path("people/tomas_reyes.md");
    let text = fx.text("people/tomas_reyes.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .definition(&path, pos_in(&text, "[[glaze_lab/", "lab/", 0))
        .await;
    assert_eq!(got, location(&fx.uri("glaze_lab/introduction.md"), top()));
    let got = server
        .definition(&path, pos_in(&text, "[[Kiln_Hours/", "Kiln", 0))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/introduction.md"), top()));
    let got = server
        .definition(&path, pos_in(&text, "[[old_stuff/", "old", 0))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/raku_firing.md"), top()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_by_title_alias_case_punctuation_and_extension_resolve() {
    let fx = vault(
        r#"
//- /kiln_hours/index.md
# Kiln Hours

- [[Raku Firing: Fast and Smoky | raku]] (by title)
- [[Glaze maths]] (by alias)
- [[Potter's wheel of oxides]] (by alias with a typographic apostrophe)
- [[The Kiln Keeper]] (by alias, other case)
- [[Glaze_Chemistry]] (stem, other case)
- [[glaze-chemistry]] (loose key)
- [[glaze chemistry]] (slug)
- [[raku_firing.md]] (extension)
- ![[glaze_chemistry]] (embed)
"#,
    );
    let path = fx.path("kiln_hours/index.md");
    let text = fx.text("kiln_hours/index.md");
    let glaze = fx.uri("kiln_hours/glaze_chemistry.md");
    let raku = fx.uri("kiln_hours/raku_firing.md");
    let tomas = fx.uri("people/tomas_reyes.md");
    let cases = [
        ("[[Raku Firing", &raku),
        ("[[Glaze maths", &glaze),
        ("[[Potter's", &glaze),
        ("[[The Kiln Keeper", &tomas),
        ("[[Glaze_Chemistry", &glaze),
        ("[[glaze-chemistry", &glaze),
        ("[[glaze chemistry", &glaze),
        ("[[raku_firing.md", &raku),
        ("![[glaze_chemistry", &glaze),
    ];
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    for (link, uri) in cases {
        let got = server
            .definition(&path, pos_in(&text, link, link, link.len() - 1))
            .await;
        assert_eq!(got, location(uri, top()), "definition of {link}");
    }
    // The `!` of the embed belongs to the link too.
    let got = server
        .definition(&path, pos_in(&text, "![[glaze_chemistry", "!", 0))
        .await;
    assert_eq!(got, location(&glaze, top()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_links_and_links_in_code_lead_nowhere() {
    let fx = vault(
        r#"
//- /kiln_hours/notes.md
A [[wood_firing]] that no note has yet.

```
[[glaze_chemistry]] in a fence
```

Inline `[[raku_firing]]` code.
"#,
    );
    let path = fx.path("kiln_hours/notes.md");
    let text = fx.text("kiln_hours/notes.md");
    let mut server = TestServer::start(fx.root()).await;
    for inner in ["wood", "glaze", "raku"] {
        let got = server
            .definition(&path, pos_in(&text, inner, inner, 1))
            .await;
        assert_eq!(got, Value::Null, "definition on {inner}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_inside_a_heading_leads_to_its_note() {
    let fx = vault(
        r#"
//- /people/ana_lima.md
# Ana Lima

## [[raku_firing | Raku]] at the studio
"#,
    );
    let path = fx.path("people/ana_lima.md");
    let text = fx.text("people/ana_lima.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .definition(&path, pos_in(&text, "| Raku]]", "Raku", 0))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/raku_firing.md"), top()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf16_columns_after_accents_cyrillic_and_emoji_on_the_same_line() {
    let fx = vault(
        r#"
//- /kiln_hours/glazes_abroad.md
🔥🔥🔥 Crème brûlée glaze, глазурь «Ёж» 🏺: [[glaze_chemistry#Why cobalt turns blue | кобальт]] and [[raku_firing]]
"#,
    );
    let path = fx.path("kiln_hours/glazes_abroad.md");
    let text = fx.text("kiln_hours/glazes_abroad.md");
    let glaze_text = fx.text("kiln_hours/glaze_chemistry.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    // Read as UTF-8 bytes, these columns would land well before the links.
    let got = server
        .definition(&path, pos_in(&text, "[[glaze", "[[", 0))
        .await;
    assert_eq!(
        got,
        location(
            &fx.uri("kiln_hours/glaze_chemistry.md"),
            line_range(&glaze_text, "## Why cobalt turns blue")
        )
    );
    let got = server
        .definition(&path, pos_in(&text, "кобальт]]", "]]", 1))
        .await;
    assert_eq!(
        got,
        location(
            &fx.uri("kiln_hours/glaze_chemistry.md"),
            line_range(&glaze_text, "## Why cobalt turns blue")
        )
    );
    let got = server
        .definition(&path, pos_in(&text, "[[raku", "raku", 0))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/raku_firing.md"), top()));
    // Just after the last `]]` (the end of the line) is still on the link.
    let got = server
        .definition(&path, position(&text, text.trim_end().len()))
        .await;
    assert_eq!(got, location(&fx.uri("kiln_hours/raku_firing.md"), top()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heading_range_counts_utf16_units_and_excludes_the_crlf() {
    let fx = Fixture::new(
        "//- /kiln_hours/raku_firing.md\r\n---\r\ntitle: Raku\r\n---\r\n\r\n## 🔥 Ёлка reduction, crème\r\n\r\nSmoke.\r\n//- /kiln_hours/log.md\r\nSee [[raku_firing#🔥 Ёлка reduction, crème]].\r\n",
    );
    let path = fx.path("kiln_hours/log.md");
    let text = fx.text("kiln_hours/log.md");
    let target = fx.text("kiln_hours/raku_firing.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .definition(&path, pos_in(&text, "[[raku", "raku", 0))
        .await;
    let heading = line_range(&target, "## 🔥 Ёлка");
    // `## 🔥 Ёлка reduction, crème` is 27 UTF-16 units (the emoji counts two).
    assert_eq!(heading["end"], json!({ "line": 4, "character": 27 }));
    assert_eq!(got, location(&fx.uri("kiln_hours/raku_firing.md"), heading));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_into_a_note_whose_path_has_spaces_and_accents() {
    let fx = Fixture::new(
        r#"
//- /Kiln Hours/Émaux & glaçures.md
# Émaux et glaçures
//- /Kiln Hours/index.md
See [[Émaux & glaçures]].
"#,
    );
    let path = fx.path("Kiln Hours/index.md");
    let text = fx.text("Kiln Hours/index.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let got = server
        .definition(&path, pos_in(&text, "[[Émaux", "aux", 0))
        .await;
    assert_eq!(
        got,
        location(&fx.uri("Kiln Hours/Émaux & glaçures.md"), top())
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolution_stops_at_the_first_level_that_finds_a_note() {
    let fx = Fixture::new(
        r#"
//- /studio/Shino.md
# Shino (stem, other case)
//- /kiln_hours/carbon_trap.md
---
title: shino
---
//- /kiln_hours/plans.md
Glaze it [[shino]], then [[SHINO]].
"#,
    );
    // `shino` is the title (level 4) of a note in the linking note's own folder, and the stem,
    // ignoring case (level 3), of a note elsewhere: level 3 comes first and settles it.
    let path = fx.path("kiln_hours/plans.md");
    let text = fx.text("kiln_hours/plans.md");
    let mut server = TestServer::start(fx.root()).await;
    for link in ["[[shino]]", "[[SHINO]]"] {
        let got = server.definition(&path, pos_in(&text, link, "]]", 0)).await;
        assert_eq!(got, location(&fx.uri("studio/Shino.md"), top()), "{link}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_come_from_frontmatter_else_the_first_level_1_heading_and_aliases_may_be_one_string()
{
    let fx = Fixture::new(
        r#"
//- /kiln_hours/cone_chart.md
---
title: "   "
aliases: Orton cones
---

Intro text.

# The [Cone](https://example.org/cones) Chart of [[tomas_reyes | Tomás]]
//- /kiln_hours/wood_ash.md
## Not the title

# Ash from the Woodstove
//- /kiln_hours/plans.md
[[The Cone Chart of Tomás]] [[Orton Cones]] [[Ash from the Woodstove]]
"#,
    );
    let path = fx.path("kiln_hours/plans.md");
    let text = fx.text("kiln_hours/plans.md");
    let mut server = TestServer::start(fx.root()).await;
    let cases = [
        ("[[The Cone", "kiln_hours/cone_chart.md"),
        ("[[Orton", "kiln_hours/cone_chart.md"),
        ("[[Ash from", "kiln_hours/wood_ash.md"),
    ];
    for (link, target) in cases {
        let got = server.definition(&path, pos_in(&text, link, link, 3)).await;
        assert_eq!(got, location(&fx.uri(target), top()), "{link}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heading_links_match_the_plain_text_of_headings() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/channel.md
# Kiln Hours

### [Introduction](https://www.youtube.com/watch?v=iNtr0-K1lnH)

## Cone 10 schedule ##

## [[raku_firing | The raku day]]
//- /kiln_hours/raku_firing.md
# Raku
//- /kiln_hours/plans.md
[[channel#Introduction]] [[channel#cone 10 schedule]] [[channel#The Raku Day]]
"#,
    );
    let path = fx.path("kiln_hours/plans.md");
    let text = fx.text("kiln_hours/plans.md");
    let channel = fx.text("kiln_hours/channel.md");
    let uri = fx.uri("kiln_hours/channel.md");
    let mut server = TestServer::start(fx.root()).await;
    let cases = [
        ("#Introduction", "### [Introduction]"),
        ("#cone 10", "## Cone 10 schedule ##"),
        ("#The Raku Day", "## [[raku_firing"),
    ];
    for (part, heading) in cases {
        let got = server.definition(&path, pos_in(&text, part, part, 1)).await;
        assert_eq!(got, location(&uri, line_range(&channel, heading)), "{part}");
    }
    server.shutdown().await;
}
