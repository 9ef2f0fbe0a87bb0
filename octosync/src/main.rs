//! The `octosync` command line: see `octosync --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match octosync::cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(octosync::cli::main(cli));
    ExitCode::from(code)
}
