pub fn slug(t: &str) -> String { t.to_string() } pub fn loose_key(t: &str) -> String { t.to_string() }
