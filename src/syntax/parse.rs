pub fn parse_note(_text: &str) -> super::ParsedNote { Default::default() }
