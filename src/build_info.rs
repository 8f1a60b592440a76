//! What this build is: version, git revision and branch, build user and
//! date (recorded by `build.rs`), the compiler and the platform. `--version`
//! prints it in Alertmanager's layout; `/api/v2/status` serves it as
//! `versionInfo`, with rustc's version where Alertmanager has Go's.

/// The crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// `git rev-parse HEAD` at build time, or `KLAXON_BUILD_REVISION`.
pub const REVISION: &str = env!("KLAXON_BUILD_REVISION");
/// The checked-out branch at build time, or `KLAXON_BUILD_BRANCH`.
pub const BRANCH: &str = env!("KLAXON_BUILD_BRANCH");
/// `user@host` of the build, or `KLAXON_BUILD_USER`.
pub const BUILD_USER: &str = env!("KLAXON_BUILD_USER");
/// `YYYYMMDD-HH:MM:SS` in UTC, as Prometheus' release tooling writes it, or
/// `KLAXON_BUILD_DATE`.
pub const BUILD_DATE: &str = env!("KLAXON_BUILD_DATE");
/// `rustc 1.95.0`: in place of Alertmanager's `go1.x`.
pub const RUSTC_VERSION: &str = env!("KLAXON_BUILD_RUSTC");

/// Go's `GOOS/GOARCH` spelling of the target, e.g. `linux/amd64`.
pub fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    };
    format!("{}/{arch}", std::env::consts::OS)
}

/// The `--version` text, laid out as Prometheus' `version.Print`.
pub fn version_text(program: &str) -> String {
    format!(
        "{program}, version {VERSION} (branch: {BRANCH}, revision: {REVISION})\n  \
         build user:       {BUILD_USER}\n  \
         build date:       {BUILD_DATE}\n  \
         rustc version:    {RUSTC_VERSION}\n  \
         platform:         {}",
        platform()
    )
}

/// Prometheus' `version.BuildContext()` line, with rustc for Go.
pub fn build_context() -> String {
    format!(
        "(rustc={RUSTC_VERSION}, platform={}, user={BUILD_USER}, date={BUILD_DATE})",
        platform()
    )
}

/// Whether the command line asks for `--version` (before any `--`), which
/// like Alertmanager's prints the build and exits whatever else is given.
pub fn version_requested<I, S>(args: I) -> bool
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    args.into_iter()
        .skip(1)
        .map(|a| a.as_ref().to_owned())
        .take_while(|a| a != "--")
        .any(|a| a == "--version")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_text_has_alertmanagers_layout() {
        let text = version_text("klaxon");
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert_eq!(
            lines[0],
            format!("klaxon, version {VERSION} (branch: {BRANCH}, revision: {REVISION})")
        );
        for (line, key) in
            lines[1..]
                .iter()
                .zip(["build user:", "build date:", "rustc version:", "platform:"])
        {
            // Values start in the same column as Alertmanager's.
            assert_eq!(line[..20], format!("  {key:<18}"), "{line}");
            assert!(!line[20..].starts_with(' '), "{line}");
        }
        assert!(RUSTC_VERSION.starts_with("rustc "), "{RUSTC_VERSION}");
    }

    #[test]
    fn the_build_records_a_revision_and_date() {
        assert!(!REVISION.is_empty() && !BRANCH.is_empty() && !BUILD_USER.is_empty());
        assert!(
            REVISION == "unknown" || REVISION.chars().all(|c| c.is_ascii_hexdigit()),
            "{REVISION}"
        );
        assert!(BUILD_DATE.len() >= 8, "{BUILD_DATE}");
    }

    #[test]
    fn platform_uses_gos_names() {
        let platform = platform();
        assert!(platform.starts_with(std::env::consts::OS));
        assert!(!platform.contains("x86_64") && !platform.contains("aarch64"));
    }

    #[test]
    fn version_is_requested_only_before_a_double_dash() {
        assert!(version_requested(["klaxon", "--version"]));
        assert!(version_requested([
            "klaxon",
            "--log.level=debug",
            "--version"
        ]));
        assert!(!version_requested(["klaxon"]));
        assert!(!version_requested(["klaxon", "--", "--version"]));
        assert!(!version_requested(["--version"]));
    }
}
