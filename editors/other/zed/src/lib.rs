//! A Zed extension that only registers wikilsp for Markdown: Zed cannot start a language server
//! that no extension declares, whatever its settings say. The server itself is not downloaded:
//! the extension runs `lsp.wikilsp.binary.path` from the settings when set, else `wikilsp` on
//! the PATH of the worktree's shell.
use zed_extension_api::{self as zed, settings::LspSettings, LanguageServerId, Result};

struct Wikilsp;

impl zed::Extension for Wikilsp {
    fn new() -> Self {
        Wikilsp
    }

    fn language_server_command(
        &mut self,
        server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        let binary = LspSettings::for_worktree(server_id.as_ref(), worktree)
            .ok()
            .and_then(|s| s.binary);
        let command = binary
            .as_ref()
            .and_then(|b| b.path.clone())
            .or_else(|| worktree.which("wikilsp"))
            .ok_or_else(|| {
                "wikilsp not found: put it on PATH or set lsp.wikilsp.binary.path".to_string()
            })?;
        let args = binary.and_then(|b| b.arguments).unwrap_or_default();
        Ok(zed::Command {
            command,
            args,
            env: worktree.shell_env(),
        })
    }
}

zed::register_extension!(Wikilsp);
