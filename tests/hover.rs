//! Hover over the protocol: the markdown preview of the note a link leads to (title, video,
//! speaker, first paragraph, sections with their first moment), a section for
//! `[[note#Heading]]`, the moment of a timestamp, and what a broken link is missing.
mod common;
use common::*;
use serde_json::Value;

const VAULT: &str = r#"
//- /people/tomas_reyes.md
---
title: Tomás Reyes
aliases: [The kiln keeper]
---

Potter, host of Kiln Hours since the first bisque.

## Channels

- [[glaze_chemistry]]
//- /kiln_hours/glaze_chemistry.md
---
title: Glaze Chemistry
videoId: gLz-Chm7x1Q
---

From: [[tomas_reyes | Tomás Reyes]] <br/>

Silica, flux and alumina make every glaze <a class="yt-timestamp" data-t="00:00:12">[00:00:12]</a>; [[raku_firing | raku]] bends the rules.
A second line of the same paragraph, with [[raku_firing]] plain.

Second paragraph, not in the preview.

## Why cobalt turns blue

Text without a moment first, then [00:06:30] and later <a class="yt-timestamp" data-t="00:07:00">[00:07:00]</a>.

## Ash glazes

No moments here.

## Crawling

<a class="yt-timestamp" data-t="00:12:05">[00:12:05]</a> Crawling starts when the glaze shrinks.
//- /kiln_hours/raku_firing.md
# Raku firing

Fast and smoky.
"#;

fn vault(extra: &str) -> Fixture {
    Fixture::new(&format!("{VAULT}{extra}"))
}

const WATCH: &str = "https://www.youtube.com/watch?v=gLz-Chm7x1Q";

/// The 0-based index of the line of `preview` that contains `needle`.
fn line_with(preview: &str, needle: &str) -> usize {
    preview
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in the preview:\n{preview}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_a_link_previews_the_note() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Today: [[glaze_chemistry | the chemistry]].
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let hover = server
        .hover(&path, pos_in(&text, "the chemistry", "chem", 0))
        .await;
    assert_eq!(
        hover["range"],
        range_of(&text, "[[glaze_chemistry | the chemistry]]")
    );
    assert_eq!(hover["contents"]["kind"], "markdown");
    let preview = hover["contents"]["value"].as_str().unwrap();

    // Title first, then the video, the speaker, the first paragraph, the sections.
    assert_eq!(line_with(preview, "Glaze Chemistry"), 0, "{preview}");
    let video = line_with(preview, &format!("({WATCH})"));
    let from = line_with(preview, "From: Tomás Reyes");
    let paragraph = line_with(preview, "Silica, flux and alumina make every glaze");
    let cobalt = line_with(preview, "Why cobalt turns blue");
    let ash = line_with(preview, "Ash glazes");
    let crawling = line_with(preview, "Crawling");
    assert!(
        video < from && from < paragraph && paragraph < cobalt,
        "{preview}"
    );
    assert!(cobalt < ash && ash < crawling, "{preview}");

    // The first paragraph, with the anchor as a link to its moment and links as display text.
    assert!(
        preview.contains(&format!(
            "Silica, flux and alumina make every glaze [00:00:12]({WATCH}&t=12s); raku bends the rules."
        )),
        "{preview}"
    );
    assert!(
        // A link without display text reads as the title of the note it leads to.
        preview.contains("A second line of the same paragraph, with Raku firing plain."),
        "{preview}"
    );
    assert!(!preview.contains("Second paragraph"), "{preview}");

    // Each section with the first moment in it, clickable.
    let lines: Vec<&str> = preview.lines().collect();
    assert!(
        lines[cobalt].contains(&format!("[00:06:30]({WATCH}&t=390s)")),
        "{preview}"
    );
    assert!(!lines[cobalt].contains("00:07:00"), "{preview}");
    assert!(!lines[ash].contains('['), "{preview}");
    assert!(
        lines[crawling].contains(&format!("[00:12:05]({WATCH}&t=725s)")),
        "{preview}"
    );

    // Nothing of the markup is left.
    for markup in ["<a", "</a>", "<br", "[[", "]]", "yt-timestamp"] {
        assert!(!preview.contains(markup), "{markup:?} left in:\n{preview}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_the_from_line_previews_the_speaker() {
    let fx = vault("");
    let path = fx.path("kiln_hours/glaze_chemistry.md");
    let text = fx.text("kiln_hours/glaze_chemistry.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let hover = server
        .hover(&path, pos_in(&text, "[[tomas_reyes |", "tomas", 0))
        .await;
    assert_eq!(
        hover["range"],
        range_of(&text, "[[tomas_reyes | Tomás Reyes]]")
    );
    let preview = hover["contents"]["value"].as_str().unwrap();
    assert_eq!(line_with(preview, "Tomás Reyes"), 0, "{preview}");
    assert!(
        preview.contains("Potter, host of Kiln Hours since the first bisque."),
        "{preview}"
    );
    assert!(preview.contains("Channels"), "{preview}");
    assert!(
        !preview.contains("youtube.com"),
        "no video, no link:\n{preview}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_a_heading_link_previews_that_section() {
    let fx = vault(
        r#"
//- /kiln_hours/today.md
Why blue? [[glaze_chemistry#why Cobalt turns BLUE | cobalt]].
"#,
    );
    let path = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let hover = server
        .hover(&path, pos_in(&text, "| cobalt]]", "cobalt", 0))
        .await;
    assert_eq!(
        hover["range"],
        range_of(&text, "[[glaze_chemistry#why Cobalt turns BLUE | cobalt]]")
    );
    let preview = hover["contents"]["value"].as_str().unwrap();
    assert_eq!(line_with(preview, "Why cobalt turns blue"), 0, "{preview}");
    assert!(
        preview.contains(&format!(
            "Text without a moment first, then [00:06:30]({WATCH}&t=390s) and later [00:07:00]({WATCH}&t=420s)."
        )),
        "{preview}"
    );
    for elsewhere in ["Silica", "No moments here", "Crawling starts"] {
        assert!(!preview.contains(elsewhere), "{elsewhere:?} in:\n{preview}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_a_same_note_heading_link_previews_that_section() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/log.md
# Firing log

Back to [[#Cone 10 schedule]].

## Cone 10 schedule

Ramp slowly through quartz inversion.

## Unloading

Wait a day.
"#,
    );
    let path = fx.path("kiln_hours/log.md");
    let text = fx.text("kiln_hours/log.md");
    let mut server = TestServer::start(fx.root()).await;
    let preview = server
        .hover_text(&path, pos_in(&text, "[[#Cone", "Cone", 0))
        .await;
    assert!(preview.contains("Cone 10 schedule"), "{preview}");
    assert!(
        preview.contains("Ramp slowly through quartz inversion."),
        "{preview}"
    );
    assert!(!preview.contains("Wait a day"), "{preview}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_of_a_big_note_stays_short() {
    let mut big = String::from(
        "---\ntitle: The Big Book of Glazes\nvideoId: bIg-B00kGlZ\n---\n\nFrom: [[tomas_reyes]] <br/>\n\n",
    );
    big.push_str(&"A very long first paragraph about glazes that goes on and on. ".repeat(60));
    big.push_str("\n\n");
    for i in 0..80 {
        big.push_str(&format!(
            "## Glaze number {i} and its many properties\n\nAt [{:02}:{:02}:00] we mix batch {i}. {}\n\n",
            i / 60,
            i % 60,
            "Filler text about this glaze. ".repeat(20)
        ));
    }
    let fx = vault(&format!(
        "//- /kiln_hours/big_book.md\n{big}//- /kiln_hours/today.md\nSee [[big_book]].\n"
    ));
    let path = fx.path("kiln_hours/today.md");
    let text = fx.text("kiln_hours/today.md");
    let mut server = TestServer::start(fx.root()).await;
    let preview = server
        .hover_text(&path, pos_in(&text, "[[big_book]]", "big", 0))
        .await;
    assert!(big.len() > 20_000);
    // "under about 1,500 characters"
    assert!(
        preview.chars().count() <= 1600,
        "{} chars:\n{preview}",
        preview.chars().count()
    );
    assert_eq!(
        line_with(&preview, "The Big Book of Glazes"),
        0,
        "{preview}"
    );
    assert!(
        preview.contains("A very long first paragraph about glazes"),
        "{preview}"
    );
    assert!(
        preview.contains("Glaze number 0 and its many properties"),
        "{preview}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_a_timestamp_gives_its_moment_and_video_link() {
    let fx = vault("");
    let path = fx.path("kiln_hours/glaze_chemistry.md");
    let text = fx.text("kiln_hours/glaze_chemistry.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    // A plain timestamp.
    let hover = server
        .hover(&path, pos_in(&text, "[00:06:30]", "06", 0))
        .await;
    assert_eq!(hover["range"], range_of(&text, "[00:06:30]"));
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(value.contains("00:06:30"), "{value}");
    assert!(value.contains(&format!("({WATCH}&t=390s)")), "{value}");
    // An anchor, hovered on its attribute and on its text.
    let anchor = r#"<a class="yt-timestamp" data-t="00:12:05">[00:12:05]</a>"#;
    for inner in ["class", "[00:12:05]"] {
        let hover = server.hover(&path, pos_in(&text, anchor, inner, 1)).await;
        assert_eq!(hover["range"], range_of(&text, anchor), "on {inner}");
        let value = hover["contents"]["value"].as_str().unwrap();
        assert!(value.contains("00:12:05"), "{value}");
        assert!(value.contains(&format!("({WATCH}&t=725s)")), "{value}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_a_short_timestamp_counts_minutes_and_seconds() {
    let fx = vault(
        r#"
//- /kiln_hours/lecture.md
---
title: Lecture
videoId: lEc-Tur3aBc
---

Light covers the kiln in no time [01:05].
"#,
    );
    let path = fx.path("kiln_hours/lecture.md");
    let text = fx.text("kiln_hours/lecture.md");
    let mut server = TestServer::start(fx.root()).await;
    let hover = server.hover(&path, pos_in(&text, "[01:05]", "]", 0)).await;
    assert_eq!(hover["range"], range_of(&text, "[01:05]"));
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("https://www.youtube.com/watch?v=lEc-Tur3aBc&t=65s"),
        "{value}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_a_timestamp_without_video_has_no_link() {
    let fx = vault(
        r#"
//- /kiln_hours/stream.md
# Stream

Asked at [00:03:10].
"#,
    );
    let path = fx.path("kiln_hours/stream.md");
    let text = fx.text("kiln_hours/stream.md");
    let mut server = TestServer::start(fx.root()).await;
    let hover = server
        .hover(&path, pos_in(&text, "[00:03:10]", "03", 0))
        .await;
    assert_eq!(hover["range"], range_of(&text, "[00:03:10]"));
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(value.contains("00:03:10"), "{value}");
    assert!(!value.contains("youtube.com"), "{value}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_a_broken_link_says_no_note_exists_and_how_many_links_use_it() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Build an [[anagama_kiln]], then fire the [[anagama_kiln | anagama]] twice.
//- /people/ana_lima.md
Ana wants an [[anagama_kiln]] too, and a [[noborigama]].
"#,
    );
    let path = fx.path("kiln_hours/plans.md");
    let text = fx.text("kiln_hours/plans.md");
    let ana = fx.path("people/ana_lima.md");
    let ana_text = fx.text("people/ana_lima.md");
    let mut server = TestServer::start(fx.root()).await;
    let hover = server
        .hover(&path, pos_in(&text, "[[anagama_kiln]]", "kiln", 0))
        .await;
    assert_eq!(hover["range"], range_of(&text, "[[anagama_kiln]]"));
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(value.contains("anagama_kiln"), "{value}");
    assert!(value.to_lowercase().contains("no note"), "{value}");
    assert!(value.contains('3'), "three links use it:\n{value}");
    // A target only one link uses.
    let value = server
        .hover_text(&ana, pos_in(&ana_text, "[[noborigama]]", "nobo", 0))
        .await;
    assert!(value.contains("noborigama"), "{value}");
    assert!(value.to_lowercase().contains("no note"), "{value}");
    assert!(!value.contains('3') && !value.contains('2'), "{value}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_a_broken_link_counts_every_spelling_of_the_target() {
    let fx = vault(
        r#"
//- /kiln_hours/plans.md
Build an [[anagama_kiln]], then an [[Anagama Kiln]] and an [[anagama kiln | anagama]].

[[anag
"#,
    );
    let path = fx.path("kiln_hours/plans.md");
    let text = fx.text("kiln_hours/plans.md");
    let mut server = TestServer::start(fx.root()).await;
    // All three links name the same missing note (the one `anagama_kiln.md` would be);
    // completion offers it as one target used by 3 links.
    let got = server
        .completion(&path, position(&text, text.len() - 1))
        .await;
    let offered = completion_items(&got)
        .into_iter()
        .find(|i| {
            i["label"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .replace(['_', ' '], "")
                == "anagamakiln"
        })
        .expect("the missing target is offered");
    assert!(
        offered["detail"].as_str().unwrap().contains("3 links"),
        "{offered:#}"
    );
    let value = server
        .hover_text(&path, pos_in(&text, "[[Anagama Kiln]]", "Kiln", 0))
        .await;
    assert!(
        value.contains("3 links"),
        "hover should agree with completion:\n{value}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_an_ambiguous_link_lists_the_candidates() {
    let fx = Fixture::new(
        r#"
//- /kiln_hours/introduction.md
# Welcome to Kiln Hours
//- /glaze_lab/introduction.md
# Welcome to the Glaze Lab
//- /people/ana_lima.md
See the [[introduction]].
"#,
    );
    let path = fx.path("people/ana_lima.md");
    let text = fx.text("people/ana_lima.md");
    let mut server = TestServer::start(fx.root()).await;
    let hover = server
        .hover(&path, pos_in(&text, "[[introduction]]", "intro", 0))
        .await;
    assert_eq!(hover["range"], range_of(&text, "[[introduction]]"));
    let value = hover["contents"]["value"].as_str().unwrap();
    for candidate in ["kiln_hours/introduction", "glaze_lab/introduction"] {
        assert!(value.contains(candidate), "{value}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_plain_text_is_null() {
    let fx = vault("");
    let path = fx.path("kiln_hours/glaze_chemistry.md");
    let text = fx.text("kiln_hours/glaze_chemistry.md");
    let mut server = TestServer::start(fx.root()).await;
    let got = server
        .hover(&path, pos_in(&text, "No moments here", "moments", 0))
        .await;
    assert_eq!(got, Value::Null);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_ranges_count_utf16_units_on_crlf_lines() {
    let fx = vault(
        "//- /kiln_hours/abroad.md\r\n---\r\ntitle: Abroad\r\nvideoId: aBr-0aD1234\r\n---\r\n\r\n🔥🏺 Crème brûlée, глазурь «Ёж»: [[glaze_chemistry | химия]] at [00:01:05]\r\nNext line\r\n",
    );
    let path = fx.path("kiln_hours/abroad.md");
    let text = fx.text("kiln_hours/abroad.md");
    let mut server = TestServer::start(fx.root()).await;
    server.open(&path).await;
    let hover = server.hover(&path, pos_in(&text, "химия", "мия", 0)).await;
    assert_eq!(
        hover["range"],
        range_of(&text, "[[glaze_chemistry | химия]]")
    );
    let hover = server
        .hover(&path, pos_in(&text, "[00:01:05]", "]", 0))
        .await;
    assert_eq!(hover["range"], range_of(&text, "[00:01:05]"));
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("https://www.youtube.com/watch?v=aBr-0aD1234&t=65s"),
        "{value}"
    );
    server.shutdown().await;
}
