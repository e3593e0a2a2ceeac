//! The synthetic vault: deterministic notes in the wiki-link format, written in parallel.
//!
//! Every note depends only on the seed and its own index, so a vault is the same whatever the
//! thread count, and tests can rebuild exactly the vault a bench run measured.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// Channel folders the topic notes are spread over (`channel_00` … `channel_09`).
pub const CHANNELS: usize = 10;
/// Per mille of links whose target has no note.
const BROKEN_PER_MILLE: u64 = 30;
/// Per mille of links aimed at one of the hub notes, so that a few notes gather many backlinks.
const HUB_PER_MILLE: u64 = 80;

/// What a bench or a test needs to know about a generated vault without reading it back.
#[derive(Debug, Clone)]
pub struct GeneratedVault {
    pub root: PathBuf,
    /// Topic notes first, then people; a note's index is its position here.
    pub notes: Vec<NoteInfo>,
    /// Indices into `notes` of the notes that many links point at.
    pub hubs: Vec<usize>,
    /// Slugs that links point at but no note has (nor any alias).
    pub missing: Vec<String>,
    /// Wiki-links written, over all notes (the `From:` line included).
    pub links: usize,
    /// Of those, links whose target is in `missing`.
    pub broken_links: usize,
    /// Bytes written, over all notes.
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct NoteInfo {
    /// Relative to the vault root, e.g. `channel_03/solar_grid_policy.md`.
    pub path: PathBuf,
    pub title: String,
    pub slug: String,
    pub aliases: Vec<String>,
    pub person: bool,
}

impl GeneratedVault {
    pub fn abs_path(&self, note: usize) -> PathBuf {
        self.root.join(&self.notes[note].path)
    }

    /// The note a bench opens: the first topic note, which links like every other.
    pub fn probe(&self) -> usize {
        0
    }

    pub fn slugs(&self) -> HashSet<&str> {
        self.notes.iter().map(|n| n.slug.as_str()).collect()
    }
}

/// Writes `notes` notes (at least 2) under `dir`, which must exist, and describes them.
pub fn generate_vault(dir: &Path, notes: usize, seed: u64) -> io::Result<GeneratedVault> {
    if notes < 2 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a vault needs at least 2 notes",
        ));
    }
    let plan = Plan::new(notes, seed);
    for c in 0..CHANNELS {
        fs::create_dir_all(dir.join(format!("channel_{c:02}")))?;
    }
    fs::create_dir_all(dir.join("people"))?;

    let totals = (0..plan.notes.len())
        .into_par_iter()
        .map(|i| {
            let (text, stats) = plan.render(i);
            fs::write(dir.join(&plan.notes[i].path), &text)?;
            Ok::<_, io::Error>((stats.links, stats.broken, text.len() as u64))
        })
        .try_reduce(|| (0, 0, 0), |a, b| Ok((a.0 + b.0, a.1 + b.1, a.2 + b.2)))?;

    Ok(GeneratedVault {
        root: dir.to_path_buf(),
        notes: plan.notes,
        hubs: plan.hubs,
        missing: plan.missing,
        links: totals.0,
        broken_links: totals.1,
        bytes: totals.2,
    })
}

/// splitmix64: tiny, fast, and good enough to make text look varied.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A generator for one item of a sequence, independent of how many draws the others made.
    pub fn for_item(seed: u64, item: u64) -> Rng {
        let mut r = Rng(seed ^ item.wrapping_mul(0xA076_1D64_78BD_642F));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (the slight modulo bias does not matter for text).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }

    pub fn per_mille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }

    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Lower-cased, apostrophes dropped, anything else that is not alphanumeric turned into `_`:
/// the rule the server resolves links with.
pub fn slug(title: &str) -> String {
    title
        .chars()
        .filter(|c| *c != '\'' && *c != '’')
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect()
}

/// Everything decided before the notes are written: names, places, link targets.
struct Plan {
    seed: u64,
    notes: Vec<NoteInfo>,
    topics: usize,
    hubs: Vec<usize>,
    missing: Vec<String>,
}

struct NoteStats {
    links: usize,
    broken: usize,
}

impl Plan {
    fn new(notes: usize, seed: u64) -> Plan {
        let mut rng = Rng::new(seed);
        let people = (notes / 100).clamp(1, notes - 1);
        let topics = notes - people;
        let mut taken = HashSet::new();
        let mut infos = Vec::with_capacity(notes);

        for _ in 0..topics {
            let title = unique(&mut rng, &mut taken, topic_title);
            let aliases = if rng.per_mille(120) {
                let n = rng.range(1, 2);
                (0..n)
                    .map(|_| unique(&mut rng, &mut taken, alias_phrase))
                    .collect()
            } else {
                Vec::new()
            };
            let channel = rng.below(CHANNELS as u64);
            let slug = slug(&title);
            infos.push(NoteInfo {
                path: PathBuf::from(format!("channel_{channel:02}/{slug}.md")),
                title,
                slug,
                aliases,
                person: false,
            });
        }
        for _ in 0..people {
            let title = unique(&mut rng, &mut taken, person_name);
            let slug = slug(&title);
            infos.push(NoteInfo {
                path: PathBuf::from(format!("people/{slug}.md")),
                title,
                slug,
                aliases: Vec::new(),
                person: true,
            });
        }

        let missing_count = (notes / 30).max(5);
        let missing = (0..missing_count)
            .map(|_| slug(&unique(&mut rng, &mut taken, topic_title)))
            .collect();

        let hub_count = (topics / 500).clamp(1, 20);
        let mut hubs: Vec<usize> = Vec::with_capacity(hub_count);
        while hubs.len() < hub_count.min(topics) {
            let h = rng.below(topics as u64) as usize;
            if !hubs.contains(&h) {
                hubs.push(h);
            }
        }
        Plan {
            seed,
            notes: infos,
            topics,
            hubs,
            missing,
        }
    }

    fn render(&self, index: usize) -> (String, NoteStats) {
        let mut w = NoteWriter {
            plan: self,
            index,
            rng: Rng::for_item(self.seed, index as u64),
            out: String::with_capacity(7000),
            stats: NoteStats {
                links: 0,
                broken: 0,
            },
            clock: 0,
            plain_timestamps: false,
        };
        w.note();
        (w.out, w.stats)
    }
}

/// Draws names until one's slug is new; the numbered fallback keeps huge vaults finite.
fn unique(rng: &mut Rng, taken: &mut HashSet<String>, make: fn(&mut Rng) -> String) -> String {
    for attempt in 0.. {
        let mut name = make(rng);
        if attempt >= 20 {
            write!(name, " {}", rng.range(2, 9999)).unwrap();
        }
        if taken.insert(slug(&name)) {
            return name;
        }
    }
    unreachable!()
}

struct NoteWriter<'a> {
    plan: &'a Plan,
    index: usize,
    rng: Rng,
    out: String,
    stats: NoteStats,
    /// Seconds into the video; only grows, so timestamps increase through the note.
    clock: u32,
    plain_timestamps: bool,
}

impl NoteWriter<'_> {
    fn note(&mut self) {
        let plan = self.plan;
        let info = &plan.notes[self.index];
        let person = info.person;
        self.out.push_str("---\ntitle: ");
        self.out.push_str(&info.title);
        self.out.push('\n');
        if !person {
            self.out.push_str("videoId: ");
            for _ in 0..11 {
                let c = VIDEO_ID_CHARS[self.rng.below(VIDEO_ID_CHARS.len() as u64) as usize];
                self.out.push(c as char);
            }
            self.out.push('\n');
        }
        if !info.aliases.is_empty() {
            self.out.push_str("aliases:\n");
            for a in &info.aliases {
                self.out.push_str("  - ");
                self.out.push_str(a);
                self.out.push('\n');
            }
        }
        self.out.push_str("---\n\n");
        if !person {
            let speaker = plan.topics + self.rng.below(plan.people() as u64) as usize;
            self.out.push_str("From: [[");
            self.out.push_str(&plan.notes[speaker].slug);
            self.out.push_str("]] <br/> \n\n");
            self.stats.links += 1;
        }
        self.plain_timestamps = self.rng.per_mille(150);
        self.clock = self.rng.range(3, 40) as u32;
        let with_time = !person;

        let target_len = self.rng.range(4900, 5900) as usize;
        self.paragraph(with_time);
        while self.out.len() < target_len {
            self.out.push_str("## ");
            self.heading();
            self.out.push_str("\n\n");
            for _ in 0..self.rng.range(1, 2) {
                self.paragraph(with_time);
            }
            if self.out.len() < target_len && self.rng.per_mille(350) {
                self.out.push_str("### ");
                self.heading();
                self.out.push('\n');
                if self.rng.per_mille(400) {
                    self.bullets(with_time);
                } else {
                    self.paragraph(with_time);
                }
            }
        }
    }

    fn heading(&mut self) {
        let n = self.rng.range(2, 5);
        for k in 0..n {
            let word = self.word();
            if k == 0 {
                push_capitalized(&mut self.out, word);
            } else {
                self.out.push(' ');
                self.out.push_str(word);
            }
        }
    }

    /// 3 to 10 links spread over a few sentences, as in a note written from a video.
    fn paragraph(&mut self, with_time: bool) {
        let sentences = self.rng.range(3, 6) as usize;
        let mut links_in = [0usize; 6];
        for _ in 0..self.rng.range(3, 10) {
            links_in[self.rng.below(sentences as u64) as usize] += 1;
        }
        for (s, links) in links_in.iter().take(sentences).enumerate() {
            if s > 0 {
                self.out.push(' ');
            }
            self.sentence(*links, with_time);
        }
        self.out.push_str("\n\n");
    }

    fn bullets(&mut self, with_time: bool) {
        for _ in 0..self.rng.range(2, 5) {
            self.out.push_str("*   ");
            self.sentence(1, with_time);
            self.out.push('\n');
        }
        self.out.push('\n');
    }

    fn sentence(&mut self, links: usize, with_time: bool) {
        let words = self.rng.range(7, 18) as usize;
        let mut link_at = [usize::MAX; 10];
        for slot in link_at.iter_mut().take(links) {
            *slot = self.rng.below(words as u64) as usize;
        }
        for k in 0..words {
            if k > 0 {
                self.out.push(' ');
            }
            let word = self.word();
            if k == 0 {
                push_capitalized(&mut self.out, word);
            } else {
                self.out.push_str(word);
            }
            for _ in link_at.iter().filter(|&&at| at == k) {
                self.out.push(' ');
                self.link();
            }
        }
        // As in the notes written from videos, the moment goes before the full stop.
        if with_time && self.rng.per_mille(700) {
            self.clock += self.rng.range(2, 45) as u32;
            let (h, m, s) = (self.clock / 3600, self.clock / 60 % 60, self.clock % 60);
            if self.plain_timestamps {
                write!(self.out, " [{h:02}:{m:02}:{s:02}]").unwrap();
            } else {
                write!(
                    self.out,
                    " <a class=\"yt-timestamp\" data-t=\"{h:02}:{m:02}:{s:02}\">[{h:02}:{m:02}:{s:02}]</a>"
                )
                .unwrap();
            }
        }
        self.out.push('.');
    }

    fn link(&mut self) {
        let plan = self.plan;
        self.stats.links += 1;
        let roll = self.rng.below(1000);
        let (slug, shown): (&str, Option<String>) = if roll < BROKEN_PER_MILLE {
            self.stats.broken += 1;
            let m = &plan.missing[self.rng.below(plan.missing.len() as u64) as usize];
            (m, Some(m.replace('_', " ")))
        } else {
            let target = if roll < BROKEN_PER_MILLE + HUB_PER_MILLE {
                plan.hubs[self.rng.below(plan.hubs.len() as u64) as usize]
            } else {
                let mut t = self.rng.below(plan.notes.len() as u64) as usize;
                if t == self.index {
                    t = (t + 1) % plan.notes.len();
                }
                t
            };
            (&plan.notes[target].slug, Some(self.display_for(target)))
        };
        self.out.push_str("[[");
        self.out.push_str(slug);
        // Most links carry display text, and most put spaces around the pipe.
        if let Some(shown) = shown.filter(|_| self.rng.per_mille(800)) {
            self.out
                .push_str(if self.rng.per_mille(880) { " | " } else { "|" });
            self.out.push_str(&shown);
        }
        self.out.push_str("]]");
    }

    fn display_for(&mut self, target: usize) -> String {
        let plan = self.plan;
        let info = &plan.notes[target];
        match self.rng.below(10) {
            0 | 1 if !info.aliases.is_empty() => {
                info.aliases[self.rng.below(info.aliases.len() as u64) as usize].clone()
            }
            0..=3 => info.title.clone(),
            4..=7 => {
                let words: Vec<&str> = info.title.split(' ').collect();
                let from = self.rng.below(words.len() as u64) as usize;
                let len = self.rng.range(1, 3) as usize;
                words[from..(from + len).min(words.len())].join(" ")
            }
            _ => format!("{} {}", self.rng.pick(NON_ASCII), self.rng.pick(NOUNS)),
        }
    }

    fn word(&mut self) -> &'static str {
        match self.rng.below(100) {
            0..=1 => self.rng.pick(NON_ASCII),
            2..=40 => self.rng.pick(FILLER),
            41..=65 => self.rng.pick(NOUNS),
            66..=80 => self.rng.pick(ADJECTIVES),
            _ => self.rng.pick(VERBS),
        }
    }
}

impl Plan {
    fn people(&self) -> usize {
        self.notes.len() - self.topics
    }
}

fn push_capitalized(out: &mut String, word: &str) {
    let mut chars = word.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
}

fn topic_title(rng: &mut Rng) -> String {
    let mut t = String::new();
    push_capitalized(&mut t, rng.pick(ADJECTIVES));
    t.push(' ');
    t.push_str(rng.pick(NOUNS));
    match rng.below(4) {
        0 => {
            t.push(' ');
            t.push_str(rng.pick(NOUNS));
        }
        1 => {
            write!(t, " and {}", rng.pick(NOUNS)).unwrap();
        }
        2 => {
            write!(
                t,
                " {} {}",
                rng.pick(&["in", "of", "for", "after"]),
                rng.pick(PLACES)
            )
            .unwrap();
        }
        _ => {
            write!(
                t,
                " {} {} {}",
                rng.pick(NOUNS),
                rng.pick(&["and", "with"]),
                rng.pick(NOUNS)
            )
            .unwrap();
        }
    }
    // A few possessives exercise the apostrophe-dropping slug rule.
    if rng.per_mille(50) {
        t = format!("{}'s {}", rng.pick(PLACES), t.to_lowercase());
        let mut c = String::new();
        push_capitalized(&mut c, &t);
        t = c;
    }
    t
}

fn alias_phrase(rng: &mut Rng) -> String {
    let mut t = String::new();
    push_capitalized(&mut t, rng.pick(NOUNS));
    t.push(' ');
    let words = if rng.per_mille(300) { NON_ASCII } else { NOUNS };
    t.push_str(rng.pick(words));
    t
}

fn person_name(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
}

const VIDEO_ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const ADJECTIVES: &[&str] = &[
    "regional",
    "economic",
    "political",
    "coastal",
    "early",
    "late",
    "modern",
    "ancient",
    "urban",
    "rural",
    "northern",
    "southern",
    "eastern",
    "western",
    "public",
    "private",
    "digital",
    "civic",
    "fiscal",
    "monetary",
    "industrial",
    "agrarian",
    "maritime",
    "alpine",
    "federal",
    "local",
    "global",
    "strategic",
    "cultural",
    "legal",
    "military",
    "scientific",
    "medical",
    "academic",
    "religious",
    "secular",
    "informal",
    "formal",
    "seasonal",
    "nuclear",
    "solar",
    "hidden",
    "foreign",
    "domestic",
    "rapid",
    "gradual",
    "uneven",
    "stable",
    "volatile",
    "shared",
];

const NOUNS: &[&str] = &[
    "policy",
    "trade",
    "energy",
    "grid",
    "harbor",
    "railway",
    "border",
    "treaty",
    "election",
    "reform",
    "market",
    "currency",
    "tariff",
    "pipeline",
    "river",
    "valley",
    "mountain",
    "forest",
    "archive",
    "library",
    "museum",
    "theater",
    "parliament",
    "court",
    "ministry",
    "council",
    "alliance",
    "union",
    "network",
    "supply",
    "demand",
    "labor",
    "migration",
    "census",
    "climate",
    "drought",
    "harvest",
    "famine",
    "epidemic",
    "vaccine",
    "hospital",
    "school",
    "university",
    "press",
    "censorship",
    "propaganda",
    "protest",
    "strike",
    "revolution",
    "monarchy",
    "republic",
    "constitution",
    "budget",
    "debt",
    "inflation",
    "bank",
    "insurance",
    "transport",
    "aviation",
    "shipping",
    "fishery",
    "mining",
    "steel",
    "textile",
    "software",
    "satellite",
    "telescope",
    "observatory",
    "reactor",
    "dam",
    "canal",
    "bridge",
    "tunnel",
    "fortress",
    "dynasty",
    "empire",
    "colony",
    "frontier",
    "diplomacy",
    "sanction",
    "embargo",
    "negotiation",
    "summit",
    "referendum",
    "coalition",
    "opposition",
    "governor",
    "mayor",
    "village",
    "province",
];

const VERBS: &[&str] = &[
    "shaped",
    "reduced",
    "expanded",
    "delayed",
    "funded",
    "blocked",
    "opened",
    "closed",
    "replaced",
    "followed",
    "preceded",
    "challenged",
    "supported",
    "weakened",
    "strengthened",
    "divided",
    "united",
    "described",
    "questioned",
    "explained",
    "revealed",
    "measured",
    "predicted",
    "ignored",
    "announced",
    "negotiated",
    "signed",
    "rejected",
    "approved",
    "built",
];

const FILLER: &[&str] = &[
    "the", "a", "of", "and", "in", "to", "with", "for", "on", "by", "as", "that", "this", "its",
    "their", "from", "at", "which", "was", "were", "is", "are", "has", "had", "been", "more",
    "less", "most", "many", "some", "after", "before", "during", "while", "because", "although",
    "however", "then", "also", "only", "still", "often", "rarely", "not", "into", "over", "under",
];

const PLACES: &[&str] = &[
    "Belarus",
    "Lithuania",
    "Norway",
    "Portugal",
    "Chile",
    "Kenya",
    "Vietnam",
    "Canada",
    "Peru",
    "Morocco",
    "Finland",
    "Georgia",
    "Mongolia",
    "Iceland",
    "Ghana",
    "Uruguay",
    "Nepal",
    "Oman",
];

/// Accented and Cyrillic words, so that byte, char and UTF-16 offsets differ on many lines.
const NON_ASCII: &[&str] = &[
    "idée",
    "café",
    "naïve",
    "Zürich",
    "São",
    "Kraków",
    "façade",
    "déjà",
    "señor",
    "Málaga",
    "Øresund",
    "Besançon",
    "Москва",
    "политика",
    "выборы",
    "союз",
    "граница",
    "экономика",
    "Беларусь",
    "договор",
];

const FIRST_NAMES: &[&str] = &[
    "Anna", "Boris", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Irina", "Jonas",
    "Katya", "Lukas", "Marta", "Nikolai", "Olga", "Pavel", "Quentin", "Rosa", "Sergei", "Tamara",
    "Ulrich", "Vera", "Wiktor", "Xenia", "Yuri", "Zofia", "Amir", "Bianca", "Cyril", "Dora",
];

const LAST_NAMES: &[&str] = &[
    "Abramov",
    "Berg",
    "Castell",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gallo",
    "Horvat",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Orlov",
    "Petrov",
    "Quist",
    "Rossi",
    "Sokolov",
    "Tanaka",
    "Ulyanov",
    "Varga",
    "Weber",
    "Yilmaz",
    "Zeller",
    "Almeida",
    "Brandt",
    "Costa",
    "Daniels",
    "Engel",
    "Falk",
    "Grieg",
    "Holm",
    "Ibsen",
    "Jovanovic",
    "Kuznetsov",
];

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn read_all(v: &GeneratedVault) -> Vec<String> {
        (0..v.notes.len())
            .map(|i| fs::read_to_string(v.abs_path(i)).unwrap())
            .collect()
    }

    #[test]
    fn same_seed_same_vault_other_seed_other_vault() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let va = generate_vault(a.path(), 300, 7).unwrap();
        let vb = generate_vault(b.path(), 300, 7).unwrap();
        let vc = generate_vault(c.path(), 300, 8).unwrap();
        assert_eq!(read_all(&va), read_all(&vb));
        assert_eq!(va.bytes, vb.bytes);
        assert_ne!(read_all(&va), read_all(&vc));
    }

    #[test]
    fn notes_look_like_the_format() {
        let dir = tempfile::tempdir().unwrap();
        let v = generate_vault(dir.path(), 2000, 1).unwrap();
        let avg = v.bytes as f64 / v.notes.len() as f64;
        assert!((5500.0..6800.0).contains(&avg), "average note size {avg}");

        let slugs = v.slugs();
        assert_eq!(slugs.len(), v.notes.len(), "slugs are unique");
        let link = Regex::new(r"\[\[([^\[\]|]*?)\s*(?:\|[^\[\]]*)?\]\]").unwrap();
        let (mut links, mut broken, mut aliases, mut non_ascii) = (0usize, 0usize, 0, 0);
        for (i, text) in read_all(&v).iter().enumerate() {
            let info = &v.notes[i];
            assert_eq!(info.path.file_stem().unwrap().to_str().unwrap(), info.slug);
            assert!(text.starts_with(&format!("---\ntitle: {}\n", info.title)));
            if !info.person {
                assert!(text.contains("\nvideoId: "));
                assert!(text.contains("\nFrom: [["));
                assert!(text.contains("\n## "));
            }
            aliases += text.contains("\naliases:\n") as usize;
            non_ascii += !text.is_ascii() as usize;
            for c in link.captures_iter(text) {
                links += 1;
                broken += !slugs.contains(&c[1]) as usize;
            }
            for para in text.split("\n\n").filter(|p| {
                let first = p.chars().next().unwrap_or('#');
                first.is_alphabetic() && !p.starts_with("From:") && !p.starts_with("title:")
            }) {
                let n = link.find_iter(para).count();
                assert!((3..=10).contains(&n), "paragraph with {n} links: {para}");
            }
        }
        assert_eq!(links, v.links);
        assert_eq!(broken, v.broken_links);
        let ratio = broken as f64 / links as f64;
        assert!((0.02..0.04).contains(&ratio), "broken ratio {ratio}");
        assert!(aliases > 50, "{aliases} notes with aliases");
        assert!(
            non_ascii > v.notes.len() / 2,
            "{non_ascii} notes with non-ASCII text"
        );
    }

    #[test]
    fn hubs_gather_many_backlinks() {
        let dir = tempfile::tempdir().unwrap();
        let v = generate_vault(dir.path(), 1000, 3).unwrap();
        let hub = &v.notes[v.hubs[0]].slug;
        let needle = format!("[[{hub}");
        let backlinks: usize = read_all(&v)
            .iter()
            .map(|t| t.matches(&needle).count())
            .sum();
        assert!(backlinks > 100, "{backlinks} backlinks to the hub");
    }

    #[test]
    fn timestamps_increase_through_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let v = generate_vault(dir.path(), 50, 5).unwrap();
        let ts = Regex::new(r"\[(\d\d):(\d\d):(\d\d)\]").unwrap();
        for text in read_all(&v) {
            let secs: Vec<u32> = ts
                .captures_iter(&text)
                .map(|c| {
                    c[1].parse::<u32>().unwrap() * 3600
                        + c[2].parse::<u32>().unwrap() * 60
                        + c[3].parse::<u32>().unwrap()
                })
                .collect();
            assert!(secs.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn slug_follows_the_rule() {
        assert_eq!(
            slug("Russia's strategy and relations"),
            "russias_strategy_and_relations"
        );
        assert_eq!(slug("Solar grid in Peru"), "solar_grid_in_peru");
    }
}
