//! The configuration of a vault: `.wikilsp.toml` at its root, or the same keys through the
//! client (`initializationOptions`, `workspace/didChangeConfiguration`). Plain data, read
//! leniently: an unknown key or a bad value is reported and ignored, never fatal.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// The name of the configuration file at the root of a vault.
pub const FILE_NAME: &str = ".wikilsp.toml";

/// The default URL of a moment of a video: `{video}` and `{seconds}` are filled in.
pub const DEFAULT_TIMESTAMP_URL: &str = "https://www.youtube.com/watch?v={video}&t={seconds}s";

/// Every diagnostic code, for validating `[diagnostics]` keys.
pub const DIAGNOSTIC_CODES: &[&str] = &[
    "broken-link",
    "ambiguous-link",
    "missing-heading",
    "empty-link",
    "unclosed-link",
    "timestamp-mismatch",
    "invalid-timestamp",
    "malformed-timestamp",
    "timestamp-without-video",
    "bad-frontmatter",
    "unlinked-mention",
];

/// How loud a diagnostic is, or `Off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Info,
    Hint,
    Off,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "error" => Level::Error,
            "warning" | "warn" => Level::Warning,
            "info" | "information" => Level::Info,
            "hint" => Level::Hint,
            "off" | "none" => Level::Off,
            _ => return None,
        })
    }
}

/// What completion inserts for a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionStyle {
    /// `slug | Title` (the title as a placeholder the user can type over), as this format
    /// writes its links.
    SlugAndTitle,
    /// `slug` alone.
    Slug,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// File extensions of notes, without the dot, lower-case.
    pub extensions: Vec<String>,
    /// Folders (relative to the vault, `/`-separated; gitignore-style globs) whose notes are
    /// not indexed, besides hidden and git-ignored ones.
    pub ignore: Vec<String>,
    /// The URL of a moment: `{video}` and `{seconds}` are filled in.
    pub timestamp_url: String,
    /// A level per diagnostic code that differs from its default.
    pub diagnostics: BTreeMap<String, Level>,
    pub unlinked_mentions: bool,
    pub completion: CompletionStyle,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            extensions: vec!["md".to_owned(), "markdown".to_owned()],
            ignore: Vec::new(),
            timestamp_url: DEFAULT_TIMESTAMP_URL.to_owned(),
            diagnostics: BTreeMap::new(),
            unlinked_mentions: true,
            completion: CompletionStyle::SlugAndTitle,
        }
    }
}

impl Config {
    /// The level of a diagnostic: the configured one, else its own default.
    pub fn level(&self, code: &str, default: Level) -> Level {
        self.diagnostics.get(code).copied().unwrap_or(default)
    }

    /// The URL of `seconds` into `video`.
    pub fn timestamp_url(&self, video: &str, seconds: u32) -> String {
        self.timestamp_url
            .replace("{video}", video)
            .replace("{seconds}", &seconds.to_string())
    }

    pub fn is_note_path(&self, path: &Path) -> bool {
        // By bytes: every file of the vault is asked, and `Path::extension` parses components.
        let bytes = path.as_os_str().as_encoded_bytes();
        let name = match memchr::memrchr(b'/', bytes) {
            Some(slash) if std::path::MAIN_SEPARATOR == '/' => &bytes[slash + 1..],
            _ => return self.is_note_path_slow(path),
        };
        if matches!(name, b"" | b"." | b"..") {
            return self.is_note_path_slow(path);
        }
        match memchr::memrchr(b'.', name) {
            Some(dot) if dot > 0 => {
                let extension = &name[dot + 1..];
                (self.extensions.iter()).any(|x| x.as_bytes().eq_ignore_ascii_case(extension))
            }
            _ => false,
        }
    }

    fn is_note_path_slow(&self, path: &Path) -> bool {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| self.extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
    }

    /// Reads `.wikilsp.toml` text. Returns the configuration (defaults where a key is missing
    /// or bad) and the problems, one sentence each.
    pub fn from_toml(text: &str) -> (Config, Vec<String>) {
        match text.parse::<toml::Table>() {
            Ok(table) => match serde_json::to_value(table) {
                Ok(value) => Config::from_json(&value),
                Err(e) => (Config::default(), vec![format!("{FILE_NAME}: {e}")]),
            },
            Err(e) => (
                Config::default(),
                vec![format!("{FILE_NAME} is not valid TOML: {}", e.message())],
            ),
        }
    }

    /// Reads the same keys from JSON (`initializationOptions`, settings). A `wikilsp` object
    /// wrapping them (as editors send settings) is looked into.
    pub fn from_json(value: &Value) -> (Config, Vec<String>) {
        let mut config = Config::default();
        let problems = config.merge_json(value);
        (config, problems)
    }

    /// Applies the keys present in `value` over this configuration.
    pub fn merge_json(&mut self, value: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        let value = match value.get("wikilsp") {
            Some(inner) if inner.is_object() => inner,
            _ => value,
        };
        let Some(map) = value.as_object() else {
            if !value.is_null() {
                problems.push("the wikilsp configuration must be a table of keys".to_owned());
            }
            return problems;
        };
        for (key, v) in map {
            if v.is_null() {
                // Unset in the client: the file or the default decides.
                continue;
            }
            match key.as_str() {
                "extensions" => match string_list(v) {
                    Some(list) if !list.is_empty() => {
                        self.extensions = list
                            .into_iter()
                            .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
                            .collect();
                    }
                    _ => problems.push("`extensions` must be a non-empty list of file extensions, such as [\"md\"]".to_owned()),
                },
                "ignore" => match string_list(v) {
                    Some(list) => self.ignore = list,
                    None => problems.push("`ignore` must be a list of folders, such as [\"drafts\"]".to_owned()),
                },
                "timestamp_url" => match v.as_str() {
                    Some(url) if url.contains("{seconds}") => self.timestamp_url = url.to_owned(),
                    _ => problems.push("`timestamp_url` must be a string holding {seconds} (and usually {video})".to_owned()),
                },
                "unlinked_mentions" => match v.as_bool() {
                    Some(b) => self.unlinked_mentions = b,
                    None => problems.push("`unlinked_mentions` must be true or false".to_owned()),
                },
                "completion" => match v.as_str() {
                    Some("slug_and_title") => self.completion = CompletionStyle::SlugAndTitle,
                    Some("slug") => self.completion = CompletionStyle::Slug,
                    _ => problems.push("`completion` must be \"slug_and_title\" or \"slug\"".to_owned()),
                },
                "diagnostics" => match v.as_object() {
                    Some(levels) => {
                        for (code, level) in levels {
                            if !DIAGNOSTIC_CODES.contains(&code.as_str()) {
                                problems.push(format!("unknown diagnostic `{code}` in [diagnostics]"));
                                continue;
                            }
                            match level.as_str().and_then(Level::parse) {
                                Some(l) => {
                                    self.diagnostics.insert(code.clone(), l);
                                }
                                None => problems.push(format!(
                                    "diagnostics.{code} must be \"error\", \"warning\", \"info\", \"hint\" or \"off\""
                                )),
                            }
                        }
                    }
                    None => problems.push("`diagnostics` must be a table of code = level".to_owned()),
                },
                // The editor's own settings of the extension, sent along with ours.
                "server" | "trace" => {}
                other => problems.push(format!("unknown configuration key `{other}`")),
            }
        }
        problems
    }
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_key_is_read_from_toml() {
        let (c, problems) = Config::from_toml(
            r#"
extensions = ["md", ".MDX"]
ignore = ["drafts", "archive/old"]
timestamp_url = "https://example.org/v/{video}?t={seconds}"
unlinked_mentions = false
completion = "slug"

[diagnostics]
broken-link = "error"
timestamp-without-video = "off"
"#,
        );
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(c.extensions, ["md", "mdx"]);
        assert_eq!(c.ignore, ["drafts", "archive/old"]);
        assert_eq!(c.timestamp_url("abc", 90), "https://example.org/v/abc?t=90");
        assert!(!c.unlinked_mentions);
        assert_eq!(c.completion, CompletionStyle::Slug);
        assert_eq!(c.level("broken-link", Level::Warning), Level::Error);
        assert_eq!(c.level("timestamp-without-video", Level::Hint), Level::Off);
        assert_eq!(c.level("empty-link", Level::Error), Level::Error);
        assert!(c.is_note_path(Path::new("a/b.mdx")));
        assert!(!c.is_note_path(Path::new("a/b.markdown")));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported_and_ignored() {
        let (c, problems) = Config::from_json(&json!({
            "wikilsp": {
                "extensions": [],
                "colour": "blue",
                "timestamp_url": "https://example.org",
                "diagnostics": { "broken-link": "loud", "no-such-code": "off", "empty-link": "hint" },
                "unlinked_mentions": "yes",
            }
        }));
        assert_eq!(c.extensions, ["md", "markdown"]);
        assert_eq!(c.timestamp_url, DEFAULT_TIMESTAMP_URL);
        assert!(c.unlinked_mentions);
        assert_eq!(c.level("empty-link", Level::Error), Level::Hint);
        assert_eq!(c.level("broken-link", Level::Warning), Level::Warning);
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("unknown configuration key `colour`"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("unknown diagnostic `no-such-code`"))
        );
    }

    #[test]
    fn broken_toml_keeps_the_defaults() {
        let (c, problems) = Config::from_toml("extensions = [\"md\"\n");
        assert_eq!(c, Config::default());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("is not valid TOML"), "{problems:?}");
    }
}
