//! `s3-connector invoke REQUEST`: one JSON action, its JSON answer on stdout.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use s3_connector_host::connector::ConnectorBuilder;
use s3_connector_host::documents::FsDocumentStore;
use s3_connector_host::error::Error;

/// Reads the request (text, `@FILE` or `-`), runs it and prints the answer or the error
/// object. Both go to stdout, so that an engine reads one stream; the exit code it returns
/// tells them apart.
pub async fn run(
    connector: ConnectorBuilder,
    request: &str,
    documents: Option<&Path>,
    max_inline_bytes: u64,
) -> Result<i32, Error> {
    let text = read_request(request)?;
    let mut connector = connector.max_inline_bytes(max_inline_bytes);
    if let Some(dir) = documents {
        let store = FsDocumentStore::new(dir).map_err(|e| Error::Usage(e.to_string()))?;
        connector = connector.documents(Arc::new(store));
    }
    let connector = connector.build()?;
    match connector.invoke(&text).await {
        Ok(answer) => {
            out!("{answer:#}");
            Ok(0)
        }
        Err(failure) => {
            out!("{:#}", failure.json());
            Ok(failure.exit_code())
        }
    }
}

/// Prints an error found before the action ran (no credentials, an unreadable request, a bad
/// `--documents`) as the action's JSON error object on stdout, as a failed action's; returns
/// its exit code.
pub fn print_failure(error: &Error) -> i32 {
    let failure = s3_connector_host::actions::ActionFailure::before_action(error);
    out!("{:#}", failure.json());
    failure.exit_code()
}

fn read_request(request: &str) -> Result<String, Error> {
    if request == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::Usage(format!("cannot read the request from stdin: {e}")))?;
        return Ok(text);
    }
    match request.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read the request file {path}: {e}"))),
        None => Ok(request.to_owned()),
    }
}
