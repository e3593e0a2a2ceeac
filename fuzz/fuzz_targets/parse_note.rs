//! The note parser on arbitrary bytes: read as UTF-8 when they are, and always as lossy UTF-8.
//! It must not panic, and every range it hands out must lie inside the text, on `char`
//! boundaries, with its start at or before its end. The ranges must also place the same in
//! line and column whether the note is open (the line index over its text) or closed (the
//! line map kept in the index without the text). The index's slim parse must be the full parse
//! slimmed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wikilsp::lsp::convert::{Encoding, LineIndex};
use wikilsp::syntax::{
    NO_NAME, ParsedNote, ScanNames, TextRange, TimestampKind, key_hash, link_key_into, parse_note,
    parse_note_for_index, parse_note_for_scan, parse_note_slim,
};

thread_local! {
    /// A scan's table, kept across inputs as a scan keeps it across notes.
    static SCAN: std::cell::RefCell<ScanNames> = std::cell::RefCell::new(ScanNames::new(Default::default()));
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check(text);
    }
    let lossy = String::from_utf8_lossy(data);
    if lossy.len() != data.len() || std::str::from_utf8(data).is_err() {
        check(&lossy);
    }
});

fn check(text: &str) {
    let note = parse_note(text);
    // The index's parse is the full one slimmed (its names are shared, looked up at the end).
    let mut slimmed = note.clone();
    slimmed.slim();
    assert_eq!(parse_note_slim(text), slimmed, "slim parse differs");
    // The key hashes it hands to the index are those of each link's target.
    let (slim, keys) = parse_note_for_index(text);
    assert_eq!(keys.len(), slim.links.len());
    let mut key = String::new();
    for (l, &k) in slim.links.iter().zip(keys.iter()) {
        link_key_into(&l.target, &mut key);
        let want = if l.closed() { key_hash(&key) } else { 0 };
        assert_eq!(k, want, "key hash of {:?}", l.target);
    }
    // A scan's parse is the same note; its links' numbers stand for their spellings.
    let (scanned, numbers) = SCAN.with_borrow_mut(|names| parse_note_for_scan(text, names));
    assert_eq!(scanned, slim, "a scan's parse differs");
    assert_eq!(numbers.len(), slim.links.len());
    let mut seen: Vec<(u32, &str)> = Vec::new();
    for (l, &n) in slim.links.iter().zip(numbers.iter()) {
        if !l.closed() || l.target.is_empty() {
            assert_eq!(n, NO_NAME, "number of {:?}", l.target);
            continue;
        }
        assert_ne!(n, NO_NAME, "number of {:?}", l.target);
        for &(m, t) in &seen {
            assert_eq!(m == n, t == l.target.as_str(), "numbers of {t:?} and {:?}", l.target);
        }
        seen.push((n, l.target.as_str()));
    }
    let lines = LineIndex::new(text);
    let mut ranges: Vec<(&str, TextRange)> = Vec::new();
    collect(&note, &mut ranges);
    for &(what, r) in &ranges {
        let (s, e) = (r.start as usize, r.end as usize);
        assert!(s <= e, "{what} {r:?}: start after end");
        assert!(
            e <= text.len(),
            "{what} {r:?}: past the end ({})",
            text.len()
        );
        assert!(
            text.is_char_boundary(s) && text.is_char_boundary(e),
            "{what} {r:?}: splits a char"
        );
        // Closed notes are placed from the line map alone; open ones from their text.
        let open8 = lines.range(text, r, Encoding::Utf8);
        let closed8 = note.lines.byte_range(r);
        assert_eq!(
            (
                (open8.start.line, open8.start.character),
                (open8.end.line, open8.end.character)
            ),
            closed8,
            "{what} {r:?}: line map and line index disagree (UTF-8)"
        );
        if let Some(closed16) = note.lines.utf16_range(r) {
            let open16 = lines.range(text, r, Encoding::Utf16);
            assert_eq!(
                (
                    (open16.start.line, open16.start.character),
                    (open16.end.line, open16.end.character)
                ),
                closed16,
                "{what} {r:?}: line map and line index disagree (UTF-16)"
            );
        }
    }
    // The texts the parser copies out are the texts at their ranges.
    for l in &note.links {
        assert_eq!(&text[l.target_range().as_usize()], l.target.as_str());
        if let Some((h, r)) = note.link_heading(l) {
            assert_eq!(&text[r.as_usize()], h.as_str());
        }
        assert_eq!(l.has_heading(), note.link_heading(l).is_some());
        if let Some(r) = l.display_range() {
            assert_eq!(Some(&text[r.as_usize()]), l.display(text));
        }
        assert!(l.range().start <= l.target_range().start && l.target_range().end <= l.range().end);
    }
    if let Some(f) = &note.frontmatter
        && let (Some(t), Some(r)) = (&f.title, f.title_range)
    {
        assert_eq!(&text[r.as_usize()], t);
    }
    for h in &note.headings {
        assert!(
            h.range.end <= h.section_end,
            "{h:?}: section ends before the heading"
        );
        let line = lines.position(text, h.range.start, Encoding::Utf8).line;
        assert_eq!(h.line, line, "{h:?}: line number");
    }
    for t in &note.timestamps {
        if let TimestampKind::Anchor {
            text: shown,
            text_range,
            ..
        } = &t.kind
        {
            assert_eq!(&text[text_range.as_usize()], shown);
        }
    }
    assert!(
        note.problems
            .windows(2)
            .all(|w| w[0].range.start <= w[1].range.start)
    );
    assert!(note.code.windows(2).all(|w| w[0].start <= w[1].start));
    // Parsing is a function of the text.
    assert_eq!(parse_note(text), note);
}

fn collect<'a>(note: &'a ParsedNote, out: &mut Vec<(&'static str, TextRange)>) {
    if let Some(f) = &note.frontmatter {
        out.push(("frontmatter", f.range));
        out.extend(f.title_range.map(|r| ("title", r)));
    }
    for h in &note.headings {
        out.push(("heading", h.range));
        out.push(("heading text", h.text_range));
        out.push((
            "section",
            TextRange {
                start: h.range.start,
                end: h.section_end,
            },
        ));
    }
    for l in &note.links {
        out.push(("link", l.range()));
        out.push(("link target", l.target_range()));
        out.extend(note.link_heading(l).map(|h| ("link heading", h.1)));
        out.extend(l.display_range().map(|r| ("link display", r)));
    }
    for t in &note.timestamps {
        out.push(("timestamp", t.range));
        if let TimestampKind::Anchor {
            data_t_range,
            text_range,
            ..
        } = &t.kind
        {
            out.push(("anchor text", *text_range));
            out.extend(data_t_range.map(|r| ("data-t", r)));
        }
    }
    for p in &note.problems {
        out.push(("problem", p.range));
    }
    for &c in &note.code {
        out.push(("code", c));
    }
}
