//! Where the API key comes from (`--api-key KEY`, `--api-key generate`, `--api-key-file PATH`)
//! and the rule it must meet: at least `MIN_KEY_CHARS` characters, so that guessing it, even
//! from many addresses at the throttle's pace, is hopeless.

use anyhow::{bail, Context};

use crate::cli::ServeArgs;

/// The shortest key accepted.
pub const MIN_KEY_CHARS: usize = 20;
/// `--api-key generate`: make a random key and print it once.
pub const GENERATE: &str = "generate";

/// The key the server requires, or `None` (no key, or an empty one: no authentication).
pub fn resolve(args: &ServeArgs) -> anyhow::Result<Option<String>> {
    let key = match (&args.api_key, &args.api_key_file) {
        (Some(_), Some(_)) => bail!("pass either --api-key or --api-key-file, not both"),
        (_, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --api-key-file {}", path.display()))?;
            let key = text.trim().to_owned();
            if key.is_empty() {
                bail!("--api-key-file {} is empty", path.display());
            }
            key
        }
        (Some(key), None) if key == GENERATE => {
            let key = generate()?;
            println!("otelscope API key (shown once; keep it, and pass it as --api-key next time): {key}");
            key
        }
        (Some(key), None) => key.clone(),
        (None, None) => return Ok(None),
    };
    if key.is_empty() {
        return Ok(None);
    }
    let chars = key.chars().count();
    if chars < MIN_KEY_CHARS {
        bail!(
            "the API key has {chars} characters; use at least {MIN_KEY_CHARS} \
             (`--api-key generate` makes a random one)"
        );
    }
    Ok(Some(key))
}

/// 32 random bytes as 64 hex digits (no character a shell or a header treats specially).
fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn resolve_with(args: &[&str]) -> anyhow::Result<Option<String>> {
        let cli = Cli::try_parse_from([&["otelscope", "serve"], args].concat())?;
        let Command::Serve(args) = cli.command else { panic!("expected serve") };
        resolve(&args)
    }

    #[test]
    fn short_keys_are_refused_with_a_reason() {
        let error = resolve_with(&["--api-key", "s3cret"]).unwrap_err().to_string();
        assert_eq!(
            error,
            "the API key has 6 characters; use at least 20 (`--api-key generate` makes a random one)"
        );
        let long = "correct-horse-battery-staple";
        assert_eq!(resolve_with(&["--api-key", long]).unwrap().as_deref(), Some(long));
        assert_eq!(resolve_with(&[]).unwrap(), None);
        assert_eq!(resolve_with(&["--api-key", ""]).unwrap(), None, "empty means none");
    }

    #[test]
    fn keys_are_generated_or_read_from_a_file() {
        let made = resolve_with(&["--api-key", "generate"]).unwrap().unwrap();
        assert_eq!(made.len(), 64);
        assert_ne!(resolve_with(&["--api-key", "generate"]).unwrap().unwrap(), made);

        let dir = std::env::temp_dir().join(format!("otelscope-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "0123456789abcdefghij-from-a-file\n").unwrap();
        let path = file.to_str().unwrap();
        assert_eq!(
            resolve_with(&["--api-key-file", path]).unwrap().as_deref(),
            Some("0123456789abcdefghij-from-a-file"),
            "the trailing newline is not part of the key"
        );
        std::fs::write(&file, "short\n").unwrap();
        assert!(resolve_with(&["--api-key-file", path]).is_err());
        assert!(resolve_with(&["--api-key-file", path, "--api-key", "x"]).is_err());
        let missing = dir.join("missing");
        let error =
            resolve_with(&["--api-key-file", missing.to_str().unwrap()]).unwrap_err().to_string();
        assert!(error.starts_with("cannot read --api-key-file"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
