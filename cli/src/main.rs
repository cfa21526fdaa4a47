//! The `s3-connector` binary: see [`s3_connector_cli`].

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("s3-connector: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(s3_connector_cli::run(std::env::args_os()));
    std::process::exit(code);
}
