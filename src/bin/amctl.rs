//! amctl: klaxon's command-line client. Its commands arrive with the CLI
//! issue; for now it reports its version.

fn main() {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version") | Some("version") | None => {
            println!("amctl {}", env!("CARGO_PKG_VERSION"));
        }
        Some(other) => {
            eprintln!("amctl: unknown command {other:?}; only --version exists so far");
            std::process::exit(2);
        }
    }
}
