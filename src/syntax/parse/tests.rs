//! Tests of [`parse_note`], each a small note and what a reader would expect of it.

use std::time::{Duration, Instant};

use super::*;
use crate::syntax::{MAX_LINK_CONTENT, ProblemKind, Timestamp, TimestampKind};

// ---- helpers -------------------------------------------------------------------------------

fn at(text: &str, r: TextRange) -> &str {
    &text[r.as_usize()]
}

fn kinds(p: &ParsedNote) -> Vec<ProblemKind> {
    p.problems.iter().map(|p| p.kind).collect()
}

fn one_link(text: &str) -> Link {
    let p = parse_note(text);
    assert_eq!(p.links.len(), 1, "links in {text:?}: {:?}", p.links);
    p.links.into_iter().next().unwrap()
}

/// The heading part of the one link of `text`, and the text at its range (which must agree).
fn one_heading(text: &str) -> Option<String> {
    let p = parse_note(text);
    let (name, range) = p.link_heading(&p.links[0])?;
    assert_eq!(at(text, range), &**name);
    Some(name.to_string())
}

/// What a reader sees of the one link of `text`.
fn one_shown(text: &str) -> String {
    let p = parse_note(text);
    p.shown_text(&p.links[0], text)
}

fn targets(p: &ParsedNote) -> Vec<&str> {
    p.links.iter().map(|l| l.target.as_str()).collect()
}

fn one_timestamp(text: &str) -> (ParsedNote, Timestamp) {
    let p = parse_note(text);
    assert_eq!(
        p.timestamps.len(),
        1,
        "timestamps in {text:?}: {:?}",
        p.timestamps
    );
    let t = p.timestamps[0].clone();
    (p, t)
}

fn anchor_parts(t: &Timestamp) -> (Option<&str>, Option<TextRange>, &str, TextRange) {
    match &t.kind {
        TimestampKind::Anchor {
            data_t,
            data_t_range,
            text,
            text_range,
        } => (data_t.as_deref(), *data_t_range, text.as_str(), *text_range),
        TimestampKind::Plain => panic!("expected an anchor, got {t:?}"),
    }
}

/// Every range the parser hands out lies inside the text and on `char` boundaries.
fn assert_ranges_valid(text: &str, p: &ParsedNote) {
    let check = |what: &str, r: TextRange| {
        let (s, e) = (r.start as usize, r.end as usize);
        assert!(
            s <= e && e <= text.len(),
            "{what} {r:?} out of bounds (len {})",
            text.len()
        );
        assert!(
            text.is_char_boundary(s) && text.is_char_boundary(e),
            "{what} {r:?} splits a char"
        );
    };
    if let Some(f) = &p.frontmatter {
        check("frontmatter", f.range);
        f.title_range.into_iter().for_each(|r| check("title", r));
    }
    for h in &p.headings {
        check("heading", h.range);
        check("heading text", h.text_range);
        assert!(h.section_end as usize <= text.len() && h.section_end >= h.range.end);
        assert!(text.is_char_boundary(h.section_end as usize));
    }
    for l in &p.links {
        check("link", l.range());
        check("target", l.target_range());
        if let Some((name, r)) = p.link_heading(l) {
            check("link heading", r);
            assert_eq!(at(text, r), &**name);
        }
        assert_eq!(l.has_heading(), p.link_heading(l).is_some());
        l.display_range()
            .into_iter()
            .for_each(|r| check("display", r));
        assert_eq!(at(text, l.target_range()), l.target);
    }
    for t in &p.timestamps {
        check("timestamp", t.range);
        if let TimestampKind::Anchor {
            data_t_range,
            text_range,
            ..
        } = &t.kind
        {
            check("anchor text", *text_range);
            data_t_range.iter().for_each(|r| check("data-t", *r));
        }
    }
    for pr in &p.problems {
        check("problem", pr.range);
    }
    assert!(
        p.problems
            .windows(2)
            .all(|w| w[0].range.start <= w[1].range.start),
        "problems unsorted"
    );
}

fn anchor(data_t: &str, shown: &str) -> String {
    format!("<a class=\"yt-timestamp\" data-t=\"{data_t}\">{shown}</a>")
}

// ---- links ---------------------------------------------------------------------------------

#[test]
fn a_bare_link() {
    let text = "The speaker is [[guest_historian]] today.";
    let l = one_link(text);
    assert_eq!(at(text, l.range()), "[[guest_historian]]");
    assert_eq!(l.target, "guest_historian");
    assert_eq!(at(text, l.target_range()), "guest_historian");
    assert!(l.closed() && !l.embed());
    assert_eq!((one_heading(text), l.display(text)), (None, None));
}

#[test]
fn spaces_around_the_pipe_are_not_part_of_target_or_display() {
    let text = "Talks between [[  trade_talks_2021   |   the two capitals  ]] stalled.";
    let l = one_link(text);
    assert_eq!(l.target, "trade_talks_2021");
    assert_eq!(at(text, l.target_range()), "trade_talks_2021");
    assert_eq!(l.display(text), Some("the two capitals"));
    assert_eq!(at(text, l.display_range().unwrap()), "the two capitals");
    assert_eq!(one_shown(text), "the two capitals");
}

#[test]
fn the_first_pipe_splits_display() {
    let text = "[[a | b | c]]";
    let l = one_link(text);
    assert_eq!(l.target, "a");
    assert_eq!(l.display(text), Some("b | c"));
}

#[test]
fn a_link_to_a_heading_of_another_note() {
    let text = "See [[grain_exports # Shipping routes | the routes]].";
    let l = one_link(text);
    assert_eq!(l.target, "grain_exports");
    assert_eq!(one_heading(text).as_deref(), Some("Shipping routes"));
    assert_eq!(l.display(text), Some("the routes"));

    let text = "[[grain_exports#Ports]]";
    let l = one_link(text);
    assert_eq!(
        (l.target.as_str(), one_heading(text).as_deref()),
        ("grain_exports", Some("Ports"))
    );
    assert_eq!(one_shown(text), "grain_exports > Ports");
}

#[test]
fn a_hash_after_the_pipe_is_display_text() {
    let text = "[[note | issue #4]]";
    let l = one_link(text);
    assert_eq!((l.target.as_str(), one_heading(text)), ("note", None));
    assert_eq!(l.display(text), Some("issue #4"));
}

#[test]
fn a_link_to_a_heading_of_the_same_note_is_not_empty() {
    let text = "As said in [[#Early years]], he left.";
    let p = parse_note(text);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let l = &p.links[0];
    assert_eq!(l.target, "");
    assert!(l.target_range().is_empty());
    assert_eq!(
        l.target_range().start as usize,
        text.find("[[").unwrap() + 2
    );
    assert_eq!(one_heading(text).as_deref(), Some("Early years"));
    assert_eq!(one_shown(text), "Early years");
}

#[test]
fn embeds_start_at_the_bang() {
    let text = "A map: ![[front_line_map.png]] and ![[summary | short]].";
    let p = parse_note(text);
    assert_eq!(p.links.len(), 2);
    assert!(p.links.iter().all(|l| l.embed()));
    assert_eq!(at(text, p.links[0].range()), "![[front_line_map.png]]");
    assert_eq!(p.links[0].target, "front_line_map.png");
    assert_eq!(p.links[1].display(text), Some("short"));
}

#[test]
fn a_bang_apart_from_the_brackets_is_not_an_embed() {
    let l = one_link("Wow! [[note]]");
    assert!(!l.embed());
    let l = one_link("Wow!\\[[[note]]");
    assert!(!l.embed());
}

#[test]
fn an_escaped_double_bracket_is_not_a_link() {
    let p = parse_note("Write \\[[like this]] to show brackets.");
    assert!(p.links.is_empty(), "{:?}", p.links);
    assert!(p.problems.is_empty());
}

#[test]
fn an_escaped_pipe_in_a_table_splits_display() {
    let text = "| who | [[guest_list\\|Guests]] |";
    let l = one_link(text);
    assert_eq!(l.target, "guest_list");
    assert_eq!(l.display(text), Some("Guests"));
}

#[test]
fn triple_brackets_link_from_the_last_double_bracket() {
    let text = "odd [[[inner]]] end";
    let l = one_link(text);
    assert_eq!(l.target, "inner");
    assert_eq!(at(text, l.range()), "[[inner]]");
}

#[test]
fn double_closing_brackets_inside_display_end_the_link() {
    let text = "[[a | b]] c]]";
    let l = one_link(text);
    assert_eq!(at(text, l.range()), "[[a | b]]");
    assert_eq!(l.display(text), Some("b"));
}

#[test]
fn an_unclosed_link_runs_to_the_end_of_its_line() {
    let text = "First line with [[draft topic | shown\nSecond line]] here.\n";
    let p = parse_note(text);
    assert_eq!(p.links.len(), 1);
    let l = &p.links[0];
    assert!(!l.closed());
    assert_eq!(at(text, l.range()), "[[draft topic | shown");
    assert_eq!(l.target, "draft topic");
    assert_eq!(l.display(text), Some("shown"));
    assert_eq!(p.problems.len(), 1);
    let pr = &p.problems[0];
    assert_eq!(pr.kind, ProblemKind::UnclosedLink);
    assert_eq!(at(text, pr.range), "[[");
    assert_eq!(
        pr.message,
        "unclosed link: \"[[\" has no \"]]\" on this line"
    );
}

#[test]
fn an_unclosed_link_stops_at_the_next_double_bracket() {
    let text = "Both [[half typed and [[whole_note]] here";
    let p = parse_note(text);
    assert_eq!(targets(&p), ["half typed and", "whole_note"]);
    assert!(!p.links[0].closed() && p.links[1].closed());
    assert_eq!(at(text, p.links[0].range()), "[[half typed and ");
    assert_eq!(at(text, p.links[1].range()), "[[whole_note]]");
    assert_eq!(kinds(&p), [ProblemKind::UnclosedLink]);
}

#[test]
fn empty_links_are_problems_over_the_whole_link() {
    for link in ["[[]]", "[[  ]]", "[[ | x]]", "[[#]]", "![[]]"] {
        let text = format!("Before {link} after.");
        let p = parse_note(&text);
        assert_eq!(p.links.len(), 1, "{link}");
        assert_eq!(p.links[0].target, "");
        assert_eq!(kinds(&p), [ProblemKind::EmptyLink], "{link}");
        assert_eq!(at(&text, p.problems[0].range), link);
        assert_eq!(p.problems[0].message, "empty link");
    }
}

#[test]
fn a_lone_double_bracket_is_unclosed_not_empty() {
    let p = parse_note("typing [[");
    assert_eq!(kinds(&p), [ProblemKind::UnclosedLink]);
    assert_eq!(p.links[0].target, "");
}

#[test]
fn lines_of_open_brackets_give_one_unclosed_link_each() {
    let text = "[[[[[[\n[[[[[[[[[[[[[\n[ [ [[ [\n";
    let p = parse_note(text);
    assert_ranges_valid(text, &p);
    assert_eq!(p.links.len(), 3);
    assert!(p.links.iter().all(|l| !l.closed()));
    assert_eq!(kinds(&p), [ProblemKind::UnclosedLink; 3]);
}

#[test]
fn offsets_are_bytes_after_cyrillic_accents_and_emoji() {
    let text = "Путин сказал 🙂 à propos d'idée fixe: [[путин_и_лукашенко | Лукашенко]] и [[café]]";
    let p = parse_note(text);
    assert_ranges_valid(text, &p);
    assert_eq!(targets(&p), ["путин_и_лукашенко", "café"]);
    assert_eq!(
        &text[p.links[0].target_range().as_usize()],
        "путин_и_лукашенко"
    );
    assert_eq!(
        &text[p.links[0].display_range().unwrap().as_usize()],
        "Лукашенко"
    );
    assert_eq!(&text[p.links[1].range().as_usize()], "[[café]]");
}

#[test]
fn links_follow_the_seed_style_of_list_and_from_lines() {
    let text = "---\ntitle: Talks\n---\n\nFrom: [[guest_host]] <br/> \n\n*   [[trade_route_disputes | Routes]] matter [00:01:15].\n*   Then [[ports]].\n";
    let p = parse_note(text);
    assert_eq!(targets(&p), ["guest_host", "trade_route_disputes", "ports"]);
    assert_eq!(p.timestamps.len(), 1);
    assert!(p.problems.is_empty());
}

// ---- code ----------------------------------------------------------------------------------

#[test]
fn fenced_code_hides_links_headings_and_timestamps() {
    let text = "Intro [[one]]\n\n```markdown\n# Not a heading\n[[not_a_link]] [00:00:10]\n```\n\n~~~~\n[[nor_this]]\n~~~\nstill code [[no]]\n~~~~\nAfter [[two]]\n";
    let p = parse_note(text);
    assert_eq!(targets(&p), ["one", "two"]);
    assert!(p.headings.is_empty());
    assert!(p.timestamps.is_empty());
}

#[test]
fn a_fence_closes_only_with_its_own_char_and_length() {
    let text = "````\n```\n~~~~\n[[inside]]\n````\n[[outside]]";
    assert_eq!(targets(&parse_note(text)), ["outside"]);
}

#[test]
fn an_unclosed_fence_runs_to_the_end() {
    let text = "Text [[a]]\n```\n[[b]]\n# c\n";
    let p = parse_note(text);
    assert_eq!(targets(&p), ["a"]);
    assert!(p.headings.is_empty());
}

#[test]
fn fences_may_be_indented_up_to_three_spaces() {
    let text = "Para\n\n   ```\n   [[hidden]]\n   ```\n[[shown]]";
    assert_eq!(targets(&parse_note(text)), ["shown"]);
}

#[test]
fn backticks_with_a_backtick_after_them_are_inline_code_not_a_fence() {
    let text = "```[[in_code]]``` and [[after]]";
    assert_eq!(targets(&parse_note(text)), ["after"]);
}

#[test]
fn indented_code_after_a_blank_line_is_hidden() {
    let text = "A paragraph [[one]].\n\n    [[in_code]] [00:00:05]\n\tmore code [[in_code_too]]\n\n    still code after a blank\n\nBack to [[two]].";
    let p = parse_note(text);
    assert_eq!(targets(&p), ["one", "two"]);
    assert!(p.timestamps.is_empty());
}

#[test]
fn indented_code_at_the_start_of_the_body_is_hidden() {
    assert!(parse_note("    [[code]]\ntext").links.is_empty());
    assert!(
        parse_note("---\ntitle: t\n---\n    [[code]]\n")
            .links
            .is_empty()
    );
}

#[test]
fn an_indented_line_right_after_a_paragraph_is_not_code() {
    let text = "The paragraph goes on\n    with [[a_link]] here.";
    assert_eq!(targets(&parse_note(text)), ["a_link"]);
}

#[test]
fn nested_list_items_indented_four_spaces_are_not_code() {
    let text = "The proposal:\n*   [[first_point | First]] [00:01:15]\n    *   [[nested_point]]\n        *   [[deeper_point]]\n\n    Continuation of the item with [[after_blank]].\n1.  [[numbered]]\n    [[numbered_continuation]]\n";
    let p = parse_note(text);
    assert_eq!(
        targets(&p),
        [
            "first_point",
            "nested_point",
            "deeper_point",
            "after_blank",
            "numbered",
            "numbered_continuation"
        ]
    );
    assert_eq!(p.timestamps.len(), 1);
}

#[test]
fn after_a_list_and_a_paragraph_indented_text_is_code_again() {
    let text = "- item [[a]]\n\nA paragraph.\n\n    [[code]]\n";
    assert_eq!(targets(&parse_note(text)), ["a"]);
}

#[test]
fn a_fence_inside_a_list_item_is_code() {
    let text = "*   item\n\n    ```\n    [[hidden]]\n    ```\n    [[shown]]";
    assert_eq!(targets(&parse_note(text)), ["shown"]);
}

#[test]
fn inline_code_hides_links_and_timestamps() {
    let text = "Type `[[note]]` or ``a ` [[still_code]]`` or `[00:00:10]`, then [[real]].";
    let p = parse_note(text);
    assert_eq!(targets(&p), ["real"]);
    assert!(p.timestamps.is_empty());
}

#[test]
fn an_unmatched_backtick_run_is_plain_text() {
    let text = "A stray ` here and ``` there, then [[real]] and `` one more";
    assert_eq!(targets(&parse_note(text)), ["real"]);
}

#[test]
fn code_spans_do_not_cross_lines() {
    let text = "open ` [[one]]\nclose ` [[two]]";
    assert_eq!(targets(&parse_note(text)), ["one", "two"]);
}

#[test]
fn an_escaped_backtick_does_not_open_code() {
    let text = "\\`[[shown]]\\` and `[[hidden]]`";
    assert_eq!(targets(&parse_note(text)), ["shown"]);
}

// ---- headings ------------------------------------------------------------------------------

#[test]
fn headings_have_level_text_line_and_sections() {
    let text = "# Title\nIntro.\n## First\nBody.\n### Deeper\nMore.\n## Second ##\nEnd.\n";
    let p = parse_note(text);
    let summary: Vec<_> = p
        .headings
        .iter()
        .map(|h| (h.level, h.text.as_str(), h.line))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "Title", 0),
            (2, "First", 2),
            (3, "Deeper", 4),
            (2, "Second", 6)
        ]
    );
    let starts: Vec<_> = p.headings.iter().map(|h| h.range.start).collect();
    assert_eq!(p.headings[0].section_end as usize, text.len());
    assert_eq!(p.headings[1].section_end, starts[3]);
    assert_eq!(p.headings[2].section_end, starts[3]);
    assert_eq!(p.headings[3].section_end as usize, text.len());
    assert_eq!(at(text, p.headings[3].range), "## Second ##");
    assert_eq!(at(text, p.headings[3].text_range), "Second");
    assert_eq!(p.title(), Some("Title"));
}

#[test]
fn what_is_and_is_not_an_atx_heading() {
    let text = "#hashtag\n####### seven\n   ### three spaces\n    #### four spaces is code\n#\n## Issue #4\n## Ends with hash#\n";
    let p = parse_note(text);
    let texts: Vec<_> = p.headings.iter().map(|h| h.text.as_str()).collect();
    assert_eq!(texts, ["three spaces", "", "Issue #4", "Ends with hash#"]);
}

#[test]
fn headings_count_lines_from_the_top_of_the_file() {
    let text = "---\ntitle: T\n---\n\n## Section\n";
    assert_eq!(parse_note(text).headings[0].line, 4);
}

#[test]
fn links_in_headings_are_links_and_show_as_text() {
    let text = "## [[trade_routes | Trade Routes]] and [[ports]] of [[#Intro]] via [the map](https://x.org/m)\n";
    let p = parse_note(text);
    assert_eq!(targets(&p), ["trade_routes", "ports", ""]);
    let h = &p.headings[0];
    assert_eq!(h.text, "Trade Routes and ports of Intro via the map");
    assert_eq!(at(text, h.text_range), &text[3..text.len() - 1]);
}

#[test]
fn heading_ranges_exclude_crlf() {
    let text = "## Windows heading\r\nLine [[x]]\r\n";
    let p = parse_note(text);
    assert_eq!(at(text, p.headings[0].range), "## Windows heading");
    assert_eq!(p.headings[0].text, "Windows heading");
}

/// Found by the `parse_note` fuzz target: a lone `\r` ends a line for LSP (and CommonMark), but
/// the parser read on past it, so the heading after `\r\r` was no heading, line numbers
/// counted only `\n`, and an unclosed link ran on into the next line.
#[test]
fn a_lone_cr_ends_a_line() {
    let text = "intro\r\r# Title [[a\rnext [[b]]\r## Sub\r\n";
    let p = parse_note(text);
    let heads: Vec<_> = p
        .headings
        .iter()
        .map(|h| (h.text.as_str(), h.line))
        .collect();
    assert_eq!(heads, [("Title [[a", 2), ("Sub", 4)]);
    assert_eq!(at(text, p.headings[0].range), "# Title [[a");
    assert_eq!(at(text, p.links[0].range()), "[[a");
    assert!(!p.links[0].closed());
    assert_eq!(p.links[1].target, "b");
    assert_ranges_valid(text, &p);
    // Frontmatter closed by lone `\r` lines too.
    let p = parse_note("---\rtitle: Old Mac\r---\r# Body\r");
    assert_eq!(p.title(), Some("Old Mac"));
    assert_eq!(p.headings[0].line, 3);
}

// ---- frontmatter ---------------------------------------------------------------------------

#[test]
fn frontmatter_gives_title_video_and_title_range() {
    let text = "---\ntitle: Grain corridor talks\nvideoId: Xy_12-ab3Cd\n---\n\n# Other\n";
    let p = parse_note(text);
    let f = p.frontmatter.as_ref().unwrap();
    assert_eq!(f.title.as_deref(), Some("Grain corridor talks"));
    assert_eq!(at(text, f.title_range.unwrap()), "Grain corridor talks");
    assert_eq!(p.video_id(), Some("Xy_12-ab3Cd"));
    assert_eq!(
        at(text, f.range),
        "---\ntitle: Grain corridor talks\nvideoId: Xy_12-ab3Cd\n---\n"
    );
    assert_eq!(p.title(), Some("Grain corridor talks"));
    assert!(p.problems.is_empty());
}

#[test]
fn a_quoted_title_range_excludes_the_quotes() {
    let text = "---\ntitle: \"Kyiv: the winter\"   # note\n---\n";
    let f = parse_note(text).frontmatter.unwrap();
    assert_eq!(f.title.as_deref(), Some("Kyiv: the winter"));
    assert_eq!(at(text, f.title_range.unwrap()), "Kyiv: the winter");

    let text = "---\ntitle: 'Single' # comment\n---\n";
    let f = parse_note(text).frontmatter.unwrap();
    assert_eq!(at(text, f.title_range.unwrap()), "Single");

    let text = "---\ntitle: plain value # comment\n---\n";
    let f = parse_note(text).frontmatter.unwrap();
    assert_eq!(at(text, f.title_range.unwrap()), "plain value");
}

#[test]
fn a_title_not_on_one_line_has_no_range() {
    let text = "---\ntitle: >\n  folded\n  title\n---\n";
    let f = parse_note(text).frontmatter.unwrap();
    assert_eq!(f.title.as_deref(), Some("folded title\n"));
    assert_eq!(f.title_range, None);
    let text = "---\ntitle: 'it''s'\n---\n";
    let f = parse_note(text).frontmatter.unwrap();
    assert_eq!((f.title.as_deref(), f.title_range), (Some("it's"), None));
}

#[test]
fn numbers_and_booleans_as_titles_keep_their_text() {
    assert_eq!(parse_note("---\ntitle: 1984\n---\n").title(), Some("1984"));
    assert_eq!(parse_note("---\ntitle: true\n---\n").title(), Some("true"));
    assert_eq!(parse_note("---\ntitle: 2.50\n---\n").title(), Some("2.50"));
    let f = parse_note("---\ntitle: ~\n---\n").frontmatter.unwrap();
    assert_eq!(f.title, None);
}

#[test]
fn aliases_as_a_list() {
    let text = "---\ntitle: T\naliases:\n  - Kyiv talks\n  - \"Kiev, talks\"\n  - 2022\n---\n";
    let p = parse_note(text);
    assert_eq!(p.aliases(), ["Kyiv talks", "Kiev, talks", "2022"]);
    let p = parse_note("---\naliases: [One, Two]\n---\n");
    assert_eq!(p.aliases(), ["One", "Two"]);
}

#[test]
fn a_single_string_alias_is_one_alias_even_with_commas() {
    let p = parse_note("---\naliases: Kyiv, Kiev\n---\n");
    assert_eq!(p.aliases(), ["Kyiv, Kiev"]);
}

#[test]
fn malformed_yaml_is_reported_on_its_line_and_the_body_still_parses() {
    let text = "---\ntitle: Fine\nvideoId: [unclosed\nother: 1\n---\nBody [[still_found]]\n";
    let p = parse_note(text);
    assert_eq!(kinds(&p), [ProblemKind::BadFrontmatter]);
    let pr = &p.problems[0];
    assert!(
        pr.message.starts_with("bad frontmatter: "),
        "{}",
        pr.message
    );
    assert!(pr.range.start >= 4 && (pr.range.end as usize) < text.find("\n---\nBody").unwrap() + 1);
    assert_eq!(targets(&p), ["still_found"]);
    let f = p.frontmatter.unwrap();
    assert_eq!(f.title, None);
    assert_eq!(at(text, f.range), &text[..text.find("Body").unwrap()]);
}

#[test]
fn a_yaml_error_line_is_found() {
    let text = "---\ntitle: x\nkey: a: b\n---\n";
    let p = parse_note(text);
    assert_eq!(at(text, p.problems[0].range), "key: a: b");
}

#[test]
fn frontmatter_never_closed_is_a_problem_and_all_is_body() {
    let text = "---\ntitle: Lost\n\n## A heading [[a_link]]\n";
    let p = parse_note(text);
    assert_eq!(p.frontmatter, None);
    assert_eq!(kinds(&p), [ProblemKind::BadFrontmatter]);
    assert_eq!(at(text, p.problems[0].range), "---");
    assert!(p.problems[0].message.contains("never closed"));
    assert_eq!(targets(&p), ["a_link"]);
    assert_eq!(p.headings.len(), 1);
}

#[test]
fn frontmatter_that_is_not_a_mapping_is_a_problem() {
    for text in ["---\n- a\n- b\n---\n", "---\njust words\n---\n"] {
        let p = parse_note(text);
        assert_eq!(kinds(&p), [ProblemKind::BadFrontmatter], "{text}");
        assert_eq!(at(text, p.problems[0].range), "---");
        assert!(p.problems[0].message.contains("not a single value or list"));
    }
}

#[test]
fn a_duplicate_key_is_bad_frontmatter() {
    let text = "---\ntitle: a\ntitle: b\n---\n";
    let p = parse_note(text);
    assert_eq!(kinds(&p), [ProblemKind::BadFrontmatter]);
    assert_eq!(at(text, p.problems[0].range), "title: b");
}

#[test]
fn empty_frontmatter_is_fine() {
    for text in ["---\n---\nBody", "---\n\n---\n", "---\n# a comment\n...\n"] {
        let p = parse_note(text);
        assert!(p.problems.is_empty(), "{text:?}: {:?}", p.problems);
        assert!(p.frontmatter.is_some());
        assert_eq!(p.title(), None);
    }
}

#[test]
fn nothing_in_frontmatter_is_a_link_heading_or_timestamp() {
    let text = "---\ntitle: \"[[not_a_link]]\"\n# comment: [00:01:00]\nnote: <a class=\"yt-timestamp\" data-t=\"00:00:01\">[00:00:01]</a>\n---\n";
    let p = parse_note(text);
    assert!(p.links.is_empty() && p.headings.is_empty() && p.timestamps.is_empty());
    assert_eq!(p.title(), Some("[[not_a_link]]"));
}

#[test]
fn frontmatter_with_crlf_bom_and_trailing_spaces() {
    let text = "\u{feff}---  \r\ntitle: Windows note\r\nvideoId: abc\r\n---\t\r\n[[link]]\r\n";
    let p = parse_note(text);
    assert_ranges_valid(text, &p);
    let f = p.frontmatter.as_ref().unwrap();
    assert_eq!(at(text, f.title_range.unwrap()), "Windows note");
    assert_eq!(f.range.start, 3);
    assert_eq!(at(text, f.range).lines().last(), Some("---\t"));
    assert_eq!(at(text, p.links[0].range()), "[[link]]");
}

#[test]
fn a_bom_before_the_body_is_skipped() {
    let text = "\u{feff}# Heading\n[[x]]";
    let p = parse_note(text);
    assert_eq!(p.headings[0].text, "Heading");
    assert_eq!(p.headings[0].range.start, 3);
    assert_eq!(at(text, p.links[0].range()), "[[x]]");
}

#[test]
fn dashes_not_on_the_first_line_are_no_frontmatter() {
    let p = parse_note("\n---\ntitle: x\n---\n");
    assert_eq!(p.frontmatter, None);
    assert!(p.problems.is_empty());
    assert_eq!(parse_note("----\ntitle: x\n----\n").frontmatter, None);
}

#[test]
fn an_alias_bomb_costs_nothing() {
    let mut yaml = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for n in 0..30 {
        let prev = if n == 0 {
            "a".to_string()
        } else {
            format!("b{}", n - 1)
        };
        yaml.push_str(&format!(
            "b{n}: &b{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let text = format!("---\n{yaml}title: Bomb\n---\n");
    let started = Instant::now();
    let p = parse_note(&text);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(p.title(), Some("Bomb"));
}

#[test]
fn deep_yaml_nesting_does_not_overflow() {
    let text = format!("---\nx: {}\n---\n", "- ".repeat(200_000));
    let p = parse_note(&text);
    assert_ranges_valid(&text, &p);
    let text = format!("---\nx: {}\n---\n", "[".repeat(100_000));
    let p = parse_note(&text);
    assert_eq!(kinds(&p), [ProblemKind::BadFrontmatter]);
}

// ---- timestamps ----------------------------------------------------------------------------

#[test]
fn a_valid_anchor() {
    let text = format!("He said so {}.", anchor("00:08:33", "[00:08:33]"));
    let (p, t) = one_timestamp(&text);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(t.seconds, Some(8 * 60 + 33));
    assert_eq!(at(&text, t.range), anchor("00:08:33", "[00:08:33]"));
    let (data_t, data_t_range, shown, shown_range) = anchor_parts(&t);
    assert_eq!(data_t, Some("00:08:33"));
    assert_eq!(at(&text, data_t_range.unwrap()), "00:08:33");
    assert_eq!(shown, "[00:08:33]");
    assert_eq!(at(&text, shown_range), "[00:08:33]");
}

#[test]
fn anchor_attributes_in_any_order_and_quotes() {
    let text = "x <a data-t='01:02:03' class='yt-timestamp'>[01:02:03]</a> y";
    let (p, t) = one_timestamp(text);
    assert!(p.problems.is_empty());
    assert_eq!(t.seconds, Some(3723));
}

#[test]
fn long_hours_are_fine() {
    let (p, t) = one_timestamp(&anchor("100:00:01", "[100:00:01]"));
    assert!(p.problems.is_empty());
    assert_eq!(t.seconds, Some(360_001));
}

#[test]
fn a_broken_attribute_is_malformed() {
    let text = "<a class=\"yt-timestamp\" data-t=\"00:08:33>[00:08:33]</a> then [[x]]";
    let (p, t) = one_timestamp(text);
    assert_eq!(kinds(&p), [ProblemKind::MalformedTimestamp]);
    assert_eq!(p.problems[0].range, t.range);
    assert_eq!(
        at(text, t.range),
        "<a class=\"yt-timestamp\" data-t=\"00:08:33>[00:08:33]</a>"
    );
    assert_eq!(anchor_parts(&t).0, None);
    assert!(
        p.problems[0].message.contains("data-t"),
        "{}",
        p.problems[0].message
    );
    assert_eq!(targets(&p), ["x"]);
}

#[test]
fn an_anchor_without_data_t_is_malformed() {
    let text = "<a class=\"yt-timestamp\">[00:08:33]</a>";
    let (p, t) = one_timestamp(text);
    assert_eq!(kinds(&p), [ProblemKind::MalformedTimestamp]);
    assert_eq!(t.seconds, None);
    assert_eq!(
        p.problems[0].message,
        "malformed timestamp: no data-t attribute"
    );
}

#[test]
fn an_unterminated_anchor_runs_to_the_end_of_the_line() {
    let text =
        "Said <a class=\"yt-timestamp\" data-t=\"00:00:30\">[00:00:30] and [[topic]]\nNext line.";
    let (p, t) = one_timestamp(text);
    assert_eq!(kinds(&p), [ProblemKind::MalformedTimestamp]);
    assert_eq!(at(text, t.range), &text[5..text.find('\n').unwrap()]);
    assert_eq!(t.seconds, Some(30));
    assert_eq!(targets(&p), ["topic"]);

    let text = "Said <a class=\"yt-timestamp\" data-t=\"00:00:30\"\n";
    let (p, t) = one_timestamp(text);
    assert_eq!(kinds(&p), [ProblemKind::MalformedTimestamp]);
    assert_eq!(at(text, t.range), &text[5..text.len() - 1]);
}

#[test]
fn a_plain_html_anchor_is_no_timestamp() {
    let text = "<a href=\"https://x.org\">[[inside]]</a> and <a href=\"y\">open [00:00:05]";
    let p = parse_note(text);
    assert_eq!(targets(&p), ["inside"]);
    assert_eq!(p.timestamps.len(), 1);
    assert_eq!(p.timestamps[0].kind, TimestampKind::Plain);
    assert!(p.problems.is_empty());
}

#[test]
fn a_four_part_or_non_digit_data_t_is_malformed() {
    for data_t in ["00:08:33:12", "ab:cd:ef", "", "8m33s"] {
        let text = anchor(data_t, "[00:08:33]");
        let (p, t) = one_timestamp(&text);
        assert_eq!(kinds(&p), [ProblemKind::MalformedTimestamp], "{data_t}");
        assert_eq!(t.seconds, None);
        assert_eq!(anchor_parts(&t).0, Some(data_t));
        assert!(p.problems[0].message.contains(&format!("\"{data_t}\"")));
    }
}

#[test]
fn minutes_or_seconds_of_sixty_or_more_are_invalid() {
    for (data_t, shown, named) in [
        ("00:61:05", "[00:61:05]", "minutes 61"),
        ("00:01:60", "[00:01:60]", "seconds 60"),
        ("00:01:05", "[00:01:99]", "seconds 99"),
    ] {
        let text = anchor(data_t, shown);
        let (p, t) = one_timestamp(&text);
        assert_eq!(
            kinds(&p),
            [ProblemKind::InvalidTimestamp],
            "{data_t} {shown}"
        );
        assert_eq!(t.seconds, None);
        assert!(
            p.problems[0].message.contains(named),
            "{}",
            p.problems[0].message
        );
    }
}

#[test]
fn a_two_part_data_t_is_malformed_but_readable() {
    let text = anchor("08:33", "[08:33]");
    let (p, t) = one_timestamp(&text);
    assert_eq!(kinds(&p), [ProblemKind::MalformedTimestamp]);
    assert_eq!(
        p.problems[0].message,
        "malformed timestamp: data-t \"08:33\" should be HH:MM:SS"
    );
    assert_eq!(t.seconds, Some(513));
}

#[test]
fn text_without_brackets_or_empty_is_malformed() {
    for shown in ["00:08:33", "", "soon"] {
        let text = anchor("00:08:33", shown);
        let (p, t) = one_timestamp(&text);
        assert_eq!(kinds(&p), [ProblemKind::MalformedTimestamp], "{shown:?}");
        assert_eq!(t.seconds, Some(513));
        assert_eq!(anchor_parts(&t).2, shown);
    }
}

#[test]
fn data_t_and_text_naming_different_moments_mismatch() {
    let text = format!("Later {}", anchor("00:08:33", "[00:09:10]"));
    let (p, t) = one_timestamp(&text);
    assert_eq!(kinds(&p), [ProblemKind::TimestampMismatch]);
    let pr = &p.problems[0];
    assert_eq!(at(&text, pr.range), "[00:09:10]");
    assert_eq!(pr.range, anchor_parts(&t).3);
    assert!(
        pr.message.contains("[00:09:10]") && pr.message.contains("00:08:33"),
        "{}",
        pr.message
    );
    assert_eq!(t.seconds, Some(513));
}

#[test]
fn short_text_naming_the_same_moment_is_no_mismatch() {
    let (p, t) = one_timestamp(&anchor("00:08:33", "[08:33]"));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(t.seconds, Some(513));
}

#[test]
fn plain_timestamps() {
    let text = "It began [00:01:15] and ended [08:33], see [1:02:03] too.";
    let p = parse_note(text);
    let found: Vec<_> = p
        .timestamps
        .iter()
        .map(|t| (at(text, t.range), t.seconds))
        .collect();
    assert_eq!(
        found,
        [
            ("[00:01:15]", Some(75)),
            ("[08:33]", Some(513)),
            ("[1:02:03]", Some(3723))
        ]
    );
    assert!(p.timestamps.iter().all(|t| t.kind == TimestampKind::Plain));
    assert!(p.problems.is_empty());
}

#[test]
fn a_plain_timestamp_out_of_range_is_invalid() {
    let text = "Odd [00:75:10] moment.";
    let (p, t) = one_timestamp(text);
    assert_eq!(t.seconds, None);
    assert_eq!(kinds(&p), [ProblemKind::InvalidTimestamp]);
    assert_eq!(at(text, p.problems[0].range), "[00:75:10]");
    assert!(p.problems[0].message.contains("minutes 75"));
}

#[test]
fn markdown_link_text_and_near_misses_are_not_plain_timestamps() {
    let text = "Watch [00:01:15](https://youtu.be/x?t=75), [1:5], [00:1:05], [a:00], [[00:01:00]] [ 00:01:00 ].";
    let p = parse_note(text);
    assert!(p.timestamps.is_empty(), "{:?}", p.timestamps);
    assert_eq!(targets(&p), ["00:01:00"]);
}

#[test]
fn an_anchor_counts_once_not_again_for_its_bracketed_text() {
    let (p, _) = one_timestamp(&anchor("00:00:30", "[00:00:30]"));
    assert!(p.problems.is_empty());
}

#[test]
fn problems_come_sorted_by_position() {
    let text = format!(
        "---\ntitle: [x\n---\n[[]] then {} and [[open\n[00:99:00]",
        anchor("00:00:01", "[00:00:02]")
    );
    let p = parse_note(&text);
    assert_eq!(
        kinds(&p),
        [
            ProblemKind::BadFrontmatter,
            ProblemKind::EmptyLink,
            ProblemKind::TimestampMismatch,
            ProblemKind::UnclosedLink,
            ProblemKind::InvalidTimestamp,
        ]
    );
    assert_ranges_valid(&text, &p);
}

// ---- robustness ----------------------------------------------------------------------------

#[test]
fn nasty_inputs_keep_every_range_valid() {
    let nasty = [
        "",
        "\u{feff}",
        "---",
        "---\n",
        "---\r\n...\r\n",
        "[[",
        "]]",
        "[[[[[[",
        "![[",
        "!",
        "\\",
        "\\[[",
        "[[|]]",
        "[[#|#]]",
        "[[é",
        "[[é|",
        "[[\u{2068}Kyiv\u{2069}]]",
        "# [[",
        "## [[a | b",
        "## [x](",
        "#### [[é]] [é](ü) ####",
        "`",
        "``[[x]]``` ```",
        "```",
        "~~~\n[[x]]",
        "<a",
        "<a ",
        "<a class=\"yt-timestamp\"",
        "<a class=\"yt-timestamp\" data-t=\"",
        "<a class=\"yt-timestamp\" data-t=\"é\">[é]</a>",
        "<a class=yt-timestamp data-t=00:00:01>[00:00:01]</a>",
        "<a data-t=\"00:00:01\"\">[00:00:01]</a>",
        "<a =\"\" ' data-t>é</a>",
        "<A CLASS=\"yt-timestamp\" DATA-T=\"00:00:01\">[00:00:01]</A>",
        "[00:00:00",
        "[99999:59:59] [999999:00:00] [00:60:60]",
        "é[[x]]\r",
        "\r\n\r\n[[x]]\r",
        "    \t[[x]]",
        "*\n    [[x]]",
        "1)\n    [[x]]",
        "- - -\n    [[x]]",
        "\u{a0}\u{a0}[[x]]",
        "🙂[[🙂|🙂#🙂]]🙂",
    ];
    for text in nasty {
        let p = parse_note(text);
        assert_ranges_valid(text, &p);
    }
}

#[test]
fn ten_thousand_links_on_one_line() {
    let text = "[[linked_topic | Shown]] ".repeat(10_000);
    let started = Instant::now();
    let p = parse_note(&text);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(p.links.len(), 10_000);
    assert!(p.problems.is_empty());
}

#[test]
fn a_one_megabyte_note_with_two_thousand_links() {
    let mut text = String::from("---\ntitle: Big\n---\n");
    let mut n = 0;
    while text.len() < 1_000_000 {
        text.push_str("## Part\n\nSome ordinary words about the talks and their outcomes, with no markup at all here. ");
        text.push_str(
            "More prose follows, long enough to make the note heavy. "
                .repeat(5)
                .as_str(),
        );
        if n < 2000 {
            text.push_str(&format!(
                "[[topic_{n} | Topic]] {}\n\n",
                anchor("00:01:00", "[00:01:00]")
            ));
            n += 1;
        }
        text.push('\n');
    }
    let started = Instant::now();
    let p = parse_note(&text);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(p.links.len(), 2000);
    assert_eq!(p.timestamps.len(), 2000);
    assert!(p.problems.is_empty());
}

#[test]
fn pathological_lines_stay_linear() {
    let lines = [
        "`` ` ``` ```` ".repeat(20_000),
        (1..2000).map(|n| "`".repeat(n) + " ").collect::<String>(),
        "<a class=\"yt-timestamp\" ".repeat(20_000),
        "<a x=\"yt-timestamp\">".repeat(20_000),
        "<a \"<a '".repeat(20_000),
        "[[ ".repeat(50_000),
        "[".repeat(200_000),
        "]]".repeat(100_000),
        "[00:0".repeat(50_000),
        "\\`".repeat(100_000),
    ];
    for line in &lines {
        let started = Instant::now();
        let p = parse_note(line);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "slow on {:?}…",
            &line[..20]
        );
        assert!(p.problems.len() <= line.len());
    }
}

#[test]
fn a_fifty_megabyte_note() {
    let block =
        "## Heading\nA line with [[a_link | shown]] and [00:00:01] and `code`.\n    indented\n";
    let text = block.repeat(50_000_000 / block.len());
    // Linear, not timed (machines are noisy): a quadratic step would not finish at all.
    let p = parse_note(&text);
    let n = 50_000_000 / block.len();
    assert_eq!(
        (p.headings.len(), p.links.len(), p.timestamps.len()),
        (n, n, n)
    );
}

#[test]
fn code_ranges_cover_fences_indented_lines_and_spans() {
    let text =
        "Para with `a span` here.\n\n```rust\nlet x;\n```\n\n    indented\n\n~~~\nnever closed\n";
    let p = parse_note(text);
    let got: Vec<&str> = p.code.iter().map(|r| at(text, *r)).collect();
    assert_eq!(
        got,
        [
            "`a span`",
            "```rust\nlet x;\n```",
            "    indented",
            "~~~\nnever closed\n"
        ]
    );
    let mut slim = p.clone();
    slim.slim();
    assert!(slim.code.is_empty());
}

/// The index parses closed notes without making what it drops; the result must be what the
/// full parse gives once slimmed, whatever the note holds.
#[test]
fn the_slim_parse_is_the_full_parse_slimmed() {
    let pieces = [
        "[[topic]]",
        "[[a | b]]",
        "![[embed#h]]",
        "[[x#Heading | shown]]",
        "[[",
        "]]",
        "[[]]",
        "<a class=\"yt-timestamp\" data-t=\"00:01:02\">[00:01:02]</a>",
        "<a class=\"yt-timestamp\" data-t=\"00:01:02\">[00:01:03]</a>",
        "<a class=\"yt-timestamp\" data-t=\"00:01",
        "<a class=\"yt-timestamp\" data-t=\"1:02\">[1:02]</a>",
        "<a class=\"yt-timestamp\" data-t=\"\">[]</a>",
        "<a class=\"yt-timestamp\" data-t=\"00:01:02\">[00:01:02]",
        "<a class=\"yt-timestamp\" data-t=\"00:01:02\">[00:01:02]</A>",
        "]</a>",
        ">",
        "<a href=\"x\">",
        "</a>",
        "<a href=\"[[in_tag]]\">",
        "<a class=\"yt-timestamp\" data-t=\"[[t]]\">",
        "<a data-t=\"1\">[[u]]",
        "<a ",
        "<b>",
        "[00:01:15]",
        "[99:99]",
        "[0[[y]]",
        "`code [[no]]`",
        "``",
        "\\[[esc]]",
        "\\\\[[yes]]",
        "\n",
        "\n\n",
        "\n```\n",
        "\n    indented [[z]]\n",
        "\n# Title\n",
        "\n## Sec [[h]]\n",
        "\n- item [[i]]\n",
        "\n## [[h | Shown]] head\n",
        "\n# [[t|T]]\n",
        "Жé 🎬 ",
        "plain words ",
        "|",
        "#",
        "\r\n",
        "\\`",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for round in 0..3000 {
        let mut text = String::new();
        if round % 3 == 0 {
            text.push_str("---\ntitle: T [[x]]\nvideoId: abc\n---\n");
        }
        for _ in 0..next(40) {
            text.push_str(pieces[next(pieces.len())]);
        }
        let mut full = parse_note(&text);
        full.slim();
        assert_eq!(crate::syntax::parse_note_slim(&text), full, "{text:?}");
    }
}

#[test]
fn a_link_is_twenty_four_bytes() {
    // The index of a 100,000-note vault holds 4.4 million links: each byte here is 4.4 MB.
    assert_eq!(std::mem::size_of::<Link>(), 24);
}

#[test]
fn a_link_longer_than_the_bound_is_unclosed_and_the_line_goes_on() {
    // A `[[` whose `]]` comes more than MAX_LINK_CONTENT bytes later: the link stops at the
    // bound (on a character boundary, here inside a run of Cyrillic), the rest of the line is
    // read as usual and the link after it is found.
    let long = "ж".repeat(40_000);
    let text = format!("a [[{long}]] b [[topic | Тема]]\n");
    let p = parse_note(&text);
    assert_eq!(
        p.links.len(),
        2,
        "{:?}",
        p.links.iter().map(|l| l.range()).collect::<Vec<_>>()
    );
    let first = &p.links[0];
    assert!(!first.closed());
    let inner = first.range().len() as usize - 2;
    assert!(
        inner <= MAX_LINK_CONTENT && inner > MAX_LINK_CONTENT - 2,
        "{inner}"
    );
    assert!(text.is_char_boundary(first.range().end as usize));
    assert_eq!(first.target.len(), inner);
    assert_eq!(kinds(&p), [ProblemKind::UnclosedLink]);
    let second = &p.links[1];
    assert_eq!(
        (
            second.target.as_str(),
            second.closed(),
            second.display(&text),
            at(&text, second.range())
        ),
        ("topic", true, Some("Тема"), "[[topic | Тема]]")
    );
    // A link just under the bound keeps every part and range.
    let name = "x".repeat(MAX_LINK_CONTENT - 20);
    let text = format!("![[{name}#part | shown]]");
    let l = one_link(&text);
    assert!(l.closed() && l.embed());
    assert_eq!(at(&text, l.range()), text);
    assert_eq!(at(&text, l.target_range()), name);
    assert_eq!(one_heading(&text).as_deref(), Some("part"));
    assert_eq!(l.display(&text), Some("shown"));
}
