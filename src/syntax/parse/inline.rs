//! The inline scanner: within one line of prose, wiki-links, inline code spans, backslash
//! escapes and timestamps, each found in a single forward pass.
//!
//! Only `[`, `<` and `` ` `` can start anything (a `\` only escapes one of them), so the scan
//! jumps from one to the next.

use crate::syntax::timestamp::{self, AnchorScan, LineMemo};
use crate::syntax::{Link, LinkHeading, MAX_LINK_CONTENT, Name, Problem, ProblemKind, TextRange};

use super::{Parser, trim};

const NONE: u32 = u32::MAX;

/// Runs of up to this many backticks find their partner through a table, longer ones a map.
const SHORT_RUN: usize = 16;

impl Parser<'_> {
    /// Scans `start..end`, one line without its line break.
    pub(super) fn inline(&mut self, start: usize, end: usize) {
        let bytes = self.bytes;
        let mut memo = LineMemo::default();
        let mut runs_built = false;
        let mut run = 0usize;
        let mut i = start;
        loop {
            // Prose is most of a note: jump to the next byte that can start something, then
            // look back for the backslashes that would escape it (an odd run escapes; `\\` is an
            // escaped backslash). Only those since the last token count: it consumed the rest.
            let floor = i;
            match memchr::memchr3(b'[', b'<', b'`', &bytes[i..end]) {
                Some(k) => i += k,
                None => break,
            }
            let slashes = bytes[floor..i]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count();
            if slashes % 2 == 1 {
                i += 1;
                continue;
            }
            i = match bytes[i] {
                b'`' => {
                    if !runs_built {
                        self.backtick_runs(i, end);
                        runs_built = true;
                    }
                    self.code_span(i, &mut run)
                }
                b'[' => self.bracket(i, end, &memo),
                b'<' if self.slim => timestamp::anchor_resume(self.text, i, end, &mut memo),
                b'<' => match timestamp::scan_anchor(self.text, i, end, &mut memo) {
                    AnchorScan::NotAnchor => i + 1,
                    AnchorScan::Skip { resume } => resume,
                    AnchorScan::Found {
                        timestamp,
                        problem,
                        resume,
                    } => {
                        self.note.timestamps.push(timestamp);
                        self.note.problems.extend(problem);
                        resume
                    }
                },
                _ => i + 1,
            };
        }
    }

    /// Lists the backtick runs of `from..end` and pairs each with the next run of the same
    /// length, which is where a code span opened by it would close. Done once per line, so a
    /// line of many unmatched runs stays linear.
    fn backtick_runs(&mut self, from: usize, end: usize) {
        let bytes = self.bytes;
        self.runs.clear();
        let mut k = from;
        while k < end {
            if bytes[k] == b'`' {
                let n = super::run_len(bytes, k, end, b'`');
                self.runs.push((k as u32, n as u32));
                k += n;
            } else {
                k += 1;
            }
        }
        self.next_same.clear();
        self.next_same.resize(self.runs.len(), NONE);
        self.long_runs.clear();
        let mut last = [NONE; SHORT_RUN + 1];
        for (idx, &(_, n)) in self.runs.iter().enumerate().rev() {
            let slot = if (n as usize) <= SHORT_RUN {
                &mut last[n as usize]
            } else {
                self.long_runs.entry(n).or_insert(NONE)
            };
            self.next_same[idx] = *slot;
            *slot = idx as u32;
        }
    }

    /// At a backtick: skips a whole code span, or the run alone when nothing closes it.
    fn code_span(&mut self, i: usize, run: &mut usize) -> usize {
        while *run < self.runs.len() && (self.runs[*run].0 + self.runs[*run].1) as usize <= i {
            *run += 1;
        }
        let Some(&(start, n)) = self.runs.get(*run) else {
            return i + 1;
        };
        let run_end = (start + n) as usize;
        // Landing inside a run happens only after an escaped backtick; its rest is plain text.
        if start as usize != i || self.next_same[*run] == NONE {
            *run += 1;
            return run_end;
        }
        let close = self.next_same[*run] as usize;
        *run = close + 1;
        let (cs, cn) = self.runs[close];
        let span_end = (cs + cn) as usize;
        self.note.code.push(TextRange::new(i, span_end));
        span_end
    }

    /// At `[`: a wiki-link, a plain timestamp, or just a bracket.
    fn bracket(&mut self, i: usize, end: usize, memo: &LineMemo) -> usize {
        let bytes = self.bytes;
        let n = super::run_len(bytes, i, end, b'[');
        if n >= 2 {
            // A link starts at the last `[[` of a run: `[[[x]]]` links to `x`, its outer
            // brackets are text. An embed's `!` must touch the `[[`.
            let s = i + n - 2;
            let embed =
                n == 2 && i > 0 && bytes[i - 1] == b'!' && !(i > 1 && bytes[i - 2] == b'\\');
            return self.link(s, embed, end);
        }
        if !memo.in_broken_anchor
            && !self.slim
            && let Some((ts, problem)) = timestamp::scan_plain(self.text, i, end)
        {
            let next = ts.range.end as usize;
            self.note.timestamps.push(ts);
            self.note.problems.extend(problem);
            return next;
        }
        i + 1
    }

    /// The link whose `[[` is at `s`; returns where scanning goes on.
    ///
    /// A link closes at the first `]]`. A `[[` met before any `]]` means the first link was
    /// never closed (it is being typed): it ends just before the new `[[`, which starts a link
    /// of its own.
    fn link(&mut self, s: usize, embed: bool, end: usize) -> usize {
        let bytes = self.bytes;
        let c = s + 2;
        let mut j = c;
        let mut closed = false;
        // Past the bound the link is taken as unclosed (see `MAX_LINK_CONTENT`), ending on a
        // character boundary.
        let mut end = end;
        if end - c > MAX_LINK_CONTENT {
            end = c + MAX_LINK_CONTENT;
            while !self.text.is_char_boundary(end) {
                end -= 1;
            }
        }
        // From bracket to bracket (a vault's millions of links go through here); to `end`
        // when neither `]]` nor `[[` comes.
        loop {
            let Some(k) = memchr::memchr2(b']', b'[', &bytes[j..end]) else {
                j = end;
                break;
            };
            j += k;
            match bytes[j] {
                b']' if j + 1 < end && bytes[j + 1] == b']' => {
                    closed = true;
                    break;
                }
                b'[' if j + 1 < end && bytes[j + 1] == b'[' => break,
                _ => j += 1,
            }
        }
        let content_end = j;
        let start = if embed { s - 1 } else { s };
        let range = TextRange::new(start, if closed { j + 2 } else { j });

        let pipe = memchr::memchr(b'|', &bytes[c..content_end]).map(|k| c + k);
        // In a table the pipe is written `\|`; the backslash belongs to neither side.
        let target_end = match pipe {
            Some(p) if p > c && bytes[p - 1] == b'\\' => p - 1,
            Some(p) => p,
            None => content_end,
        };
        let hash = memchr::memchr(b'#', &bytes[c..target_end]).map(|k| c + k);
        let (ta, tb) = trim(self.text, c, hash.unwrap_or(target_end));
        let heading = hash.map(|h| trim(self.text, h + 1, target_end));
        let display = pipe.map(|p| trim(self.text, p + 1, content_end));
        let slim = self.slim;
        let piece = |(a, b): (usize, usize)| {
            (
                super::super::names::name(&self.text[a..b], slim),
                TextRange::new(a, b),
            )
        };
        let (heading, heading_range) = heading.map(piece).unzip();
        let display_range = display.map(|(a, b)| TextRange::new(a, b));
        let empty = ta == tb && heading.as_deref().is_none_or(str::is_empty);

        if self.slim {
            // The index keeps no problems.
        } else if !closed {
            self.note.problems.push(Problem {
                kind: ProblemKind::UnclosedLink,
                range: TextRange::new(s, s + 2),
                message: "unclosed link: \"[[\" has no \"]]\" on this line".to_string(),
            });
        } else if empty {
            self.note.problems.push(Problem {
                kind: ProblemKind::EmptyLink,
                range,
                message: "empty link".to_string(),
            });
        }
        // The index's names are shared between notes, looked up when the note is done.
        let target = if slim {
            self.targets.push((ta as u32, tb as u32));
            (Name::new(), TextRange::new(ta, ta))
        } else {
            (
                super::super::names::name(&self.text[ta..tb], false),
                TextRange::new(ta, tb),
            )
        };
        if let Some(name) = heading {
            self.note.link_headings.push(LinkHeading {
                link_start: range.start,
                name,
            });
        }
        self.note.links.push(Link::new(
            range,
            embed,
            closed,
            target,
            heading_range,
            display_range,
        ));
        range.end as usize
    }
}
