//! The `s3-connector` command line, in the manner of `aws s3`.
//!
//! Exit codes: 0 success, 1 the operation failed (S3 or network), 2 usage or bad input,
//! 3 refused by the host's policy, 130 and 143 ended by SIGINT or SIGTERM.

#[macro_use]
mod print;
mod commands;
mod concurrency;
mod config_file;
mod cp_flags;
mod credentials_source;
mod demo;
mod download_flags;
mod filters;
#[doc(hidden)]
pub mod fuzzing;
mod invoke;
mod job_scope;
mod key_path;
mod local_checksum;
mod ls_view;
mod many_progress;
mod move_check;
mod network_flags;
mod no_credentials;
mod output;
mod pinned_time;
mod policy_source;
mod progress;
mod quiet_flags;
mod recursive;
mod recursive_run;
mod s3_uri;
mod serve;
mod serve_token;
mod signals;
mod signing_key;
mod sync;
mod tally;
mod times;
mod transfer;
mod upload_checksum;
mod upload_flags;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use config_file::ConfigFile;
use download_flags::DownloadFlags;
use policy_source::PolicySource;
use s3_connector_host::EdgeWorld;
use s3_connector_host::audit::{AuditSink, FileSink, StderrSink};
use s3_connector_host::connector::{Connector, ConnectorBuilder};
use s3_connector_host::credentials::ProfileSettings;
use s3_connector_host::error::Error;
use s3_connector_host::settings::Connection;
use upload_flags::UploadFlags;

const AFTER_HELP: &str = "\
POLICY:
  --allow BUCKET[/PREFIX][=ACCESS] grants ACCESS (comma-separated: read, write, delete, list, admin;
  default read,write,delete,list) on BUCKET (or * for every bucket), limited to
  keys starting with PREFIX. Prefixes are literal: photos/in also matches photos/inbox/x; end a
  prefix with / to mean a folder (--verbose warns otherwise). Repeat it, or use [[allow]] tables in --config; --allow
  flags replace the file's rules, and an empty list (allow = []) allows nothing. Listing all
  buckets needs '*=list'. --verbose prints the rules in force.
  WITHOUT ANY --allow OR [[allow]], THE CLI ALLOWS EVERY BUCKET AND OPERATION on the configured
  endpoint, and warns on stderr (--allow '*=read,write,delete,list,admin' says you mean it; --allow
  '*' alone leaves out admin, so mb and rb; the library has no such default).

CREDENTIALS, in order: --access-key-id/--secret-access-key (with --session-token for temporary
  keys; --session-token alone is refused), the [credentials] or [roles_anywhere] table of
  --config (IAM Roles Anywhere with an X.509 certificate; skipped when --profile is given), then the
  AWS SDKs' default chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
  AWS_SESSION_TOKEN; the profile (--profile, AWS_PROFILE, else default) in AWS_SHARED_CREDENTIALS_FILE
  (~/.aws/credentials) and AWS_CONFIG_FILE (~/.aws/config), with role_arn/source_profile,
  credential_process and web_identity_token_file; AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN;
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI; the EC2 instance metadata service (IMDSv2)
  unless AWS_EC2_METADATA_DISABLED=true. --verbose names the source on stderr.
  --role-arn ARN then assumes ARN with those credentials (STS at AWS_ENDPOINT_URL_STS if set), and
  --session-policy sends the --allow rules as the role session's policy, so AWS enforces them too.
ENDPOINT: --endpoint, then endpoint in --config, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's
  endpoint_url, else AWS.
REGION: --region, then region in --config, AWS_REGION, AWS_DEFAULT_REGION, the profile's region,
  else us-east-1.

EXIT CODES: 0 success, 1 the operation failed (and ls of a prefix that matched nothing, as aws
  s3 ls), 2 usage or bad input (a missing local file, no credentials from any source) and, as
  aws, a recursive download that skipped a key with a warning, 3 refused by the policy, 130 and 143 ended by SIGINT or SIGTERM (a partial download is removed first). A
  closed stdout (| head) stops the printing, not the work. With --json, usage errors are JSON too.
RECURSIVE: rm, cp and mv --recursive take s3://BUCKET/d as the folder d/ (not dx), as the aws CLI
  does; rm --recursive --raw-prefix matches the raw prefix. Folder markers (keys ending in /) are
  not downloaded. cp and mv --recursive go between two S3 folders too, one call per object. mv
  checks every permission it needs (every object's, with --recursive) before changing anything.
DOWNLOADS make a missing directory, honour the umask and take the object's Last-Modified.
MANY OBJECTS: sync and the recursive commands take --exclude/--include (the last matching pattern
  decides) and --concurrency N (default 10); a failed object is named and the others go on (exit 1).";

/// Command-line arguments.
#[derive(Parser)]
#[command(next_help_heading = "Global options")]
#[command(name = "s3-connector", version, about = "A sandboxed S3 client: the S3 plugin runs in WebAssembly, the host enforces the policy.", after_help = AFTER_HELP)]
struct Cli {
    /// S3 endpoint URL, for example http://127.0.0.1:9000.
    #[arg(long, global = true, value_name = "URL")]
    endpoint: Option<String>,
    /// Signing region.
    #[arg(long, global = true)]
    region: Option<String>,
    /// Path-style addressing (endpoint/bucket/key) instead of virtual-hosted.
    #[arg(long, global = true)]
    path_style: bool,
    /// AWS's FIPS endpoint (s3-fips.REGION.amazonaws.com); beats AWS_USE_FIPS_ENDPOINT and the
    /// profile's use_fips_endpoint; refused with an explicit endpoint.
    #[arg(long, global = true)]
    use_fips_endpoint: bool,
    /// AWS's dual-stack endpoint (s3.dualstack.REGION.amazonaws.com); beats
    /// AWS_USE_DUALSTACK_ENDPOINT and the profile's use_dualstack_endpoint; refused with an
    /// explicit endpoint.
    #[arg(long, global = true)]
    use_dualstack_endpoint: bool,
    /// Access key id.
    #[arg(long, global = true, value_name = "ID")]
    access_key_id: Option<String>,
    /// Secret access key (prefer the environment or --config: flags show in process lists).
    #[arg(long, global = true, value_name = "SECRET", hide_env_values = true)]
    secret_access_key: Option<String>,
    /// Session token of temporary credentials.
    #[arg(long, global = true, value_name = "TOKEN")]
    session_token: Option<String>,
    /// Shared-config profile for credentials, region and endpoint (default: AWS_PROFILE, else default).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// Assume this role (STS AssumeRole) with the credentials found; see CREDENTIALS below.
    #[arg(long, global = true, value_name = "ARN")]
    role_arn: Option<String>,
    /// With --role-arn: limit the role session to the --allow rules with an IAM session policy.
    #[arg(long, global = true, requires = "role_arn")]
    session_policy: bool,
    /// Say on stderr where the credentials came from (never the secrets).
    #[arg(long, short, global = true)]
    verbose: bool,
    /// Grant access: BUCKET[/PREFIX][=ACCESS]. Repeatable. See POLICY below.
    #[arg(long, global = true, value_name = "RULE")]
    allow: Vec<String>,
    /// TOML file with endpoint, region, path_style, [credentials] and [[allow]] rules.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Machine-readable JSON output (and JSON errors on stderr).
    #[arg(long, global = true)]
    json: bool,
    /// Append one JSON line per request decision (allowed or denied) to FILE; - is stderr.
    #[arg(long, global = true, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Tries per request in all; transient failures (503, SlowDown, resets, ...) are retried
    /// with backoff. 1 never retries.
    #[arg(long, global = true, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: u32,
    /// The tenant named in audit records.
    #[arg(long, global = true, value_name = "NAME", default_value = "default")]
    tenant: String,
    /// Pin the clock the plugin sees (YYYYMMDDTHHMMSSZ or RFC 3339): reproducible signatures and URLs.
    #[arg(long, global = true, value_name = "TIME")]
    at: Option<String>,
    /// Let JSON actions (invoke, serve's /actions) sign with keys they carry themselves
    /// (Camunda's `authentication.type: credentials`), still under the policy; refused otherwise.
    #[arg(long, global = true)]
    allow_request_credentials: bool,
    /// PEM file of CA certificates to trust besides the system's (else ca_bundle in --config,
    /// AWS_CA_BUNDLE, the profile's ca_bundle).
    #[arg(long, global = true, value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
    /// Seconds a connection (TCP and TLS handshake) may take [default: 30].
    #[arg(long, global = true, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    cli_connect_timeout: Option<u64>,
    /// Seconds to wait for an answer to begin, and then for each next piece of it [default: 300].
    #[arg(long, global = true, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    cli_read_timeout: Option<u64>,
    /// Send requests to S3 through this proxy (http://[USER:PASSWORD@]HOST:PORT; else
    /// HTTPS_PROXY / HTTP_PROXY, hosts in NO_PROXY reached directly).
    #[arg(long, global = true, value_name = "URL")]
    proxy: Option<String>,
    /// Dial ADDR for HOST:PORT instead of resolving HOST, as curl's --resolve (HOST may be
    /// *.DOMAIN for every name under DOMAIN, or * for any); the URL, SNI and the certificate
    /// check keep the name. Repeatable.
    #[arg(long, global = true, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// Send requests unsigned, without looking for credentials (public buckets), as the aws
    /// CLI's --no-sign-request; still under the --allow rules (else no_sign_request in --config).
    #[arg(long, global = true, conflicts_with_all = ["access_key_id", "secret_access_key", "session_token", "role_arn"])]
    no_sign_request: bool,
    /// Confirm that you pay for requests to a requester-pays bucket: every request says
    /// x-amz-request-payer: requester (else request_payer in --config).
    #[arg(long, global = true, value_name = "PAYER", value_parser = ["requester"])]
    request_payer: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List buckets, or the keys and prefixes under s3://BUCKET[/PREFIX].
    Ls {
        /// s3://BUCKET[/PREFIX]; none lists the buckets.
        location: Option<String>,
        /// List every key under the prefix instead of one level.
        #[arg(long)]
        recursive: bool,
        #[command(flatten)]
        view: ls_view::LsFlags,
        #[command(flatten)]
        filters: filters::FilterFlags,
    },
    /// Copy a local file or stdin (-) to s3://BUCKET/KEY, an object to a file or stdout (-),
    /// or an object to another S3 location (server-side).
    Cp {
        /// Source: a path, -, or s3://BUCKET/KEY.
        source: String,
        /// Destination: a path, -, or s3://BUCKET/KEY (a key ending in / takes the file name).
        destination: String,
        /// Copy a whole directory to a folder, a folder to a directory, or a folder to another
        /// folder; one call per object.
        #[arg(long)]
        recursive: bool,
        /// Print each copy as `(dryrun) upload: A to B`, make none.
        #[arg(long)]
        dryrun: bool,
        #[command(flatten)]
        output: quiet_flags::QuietFlags,
        #[command(flatten)]
        upload: Box<UploadFlags>,
        #[command(flatten)]
        download: DownloadFlags,
        #[command(flatten)]
        filters: filters::FilterFlags,
        #[command(flatten)]
        concurrency: concurrency::ConcurrencyFlag,
    },
    /// Move: copy, then delete the source (S3 to S3 server-side, or to and from local files).
    Mv {
        /// Source: a path or s3://BUCKET/KEY.
        source: String,
        /// Destination: a path or s3://BUCKET/KEY.
        destination: String,
        /// Move every object of a folder (or file of a directory), each its own copy and
        /// delete; every move is checked against the policy before the first is made.
        #[arg(long)]
        recursive: bool,
        /// Print each move as `(dryrun) move: A to B` (after the policy check), make none.
        #[arg(long)]
        dryrun: bool,
        #[command(flatten)]
        output: quiet_flags::QuietFlags,
        #[command(flatten)]
        filters: filters::FilterFlags,
        #[command(flatten)]
        concurrency: concurrency::ConcurrencyFlag,
    },
    /// Print a presigned URL for one request on s3://BUCKET/KEY.
    Presign {
        /// s3://BUCKET/KEY
        location: String,
        /// The method the URL is good for.
        #[arg(long, default_value = "GET", value_parser = ["GET", "PUT", "DELETE", "HEAD"], ignore_case = true)]
        method: String,
        /// Lifetime in seconds (at most 604800, 7 days).
        #[arg(long, default_value_t = 3600)]
        expires_in: u32,
    },
    /// Print today's SigV4 signing key of the configured credentials, with the access key id,
    /// date, region and session token, as the edge component's wasi:config values
    /// (key=value lines): give a stock host the key, which expires with the day, instead of the
    /// secret access key.
    SigningKey,
    /// Delete an object, or with --recursive every object in a folder (in batches of 1000).
    Rm {
        /// s3://BUCKET/KEY, or s3://BUCKET/FOLDER with --recursive
        location: String,
        /// Delete every key in the folder: s3://b/d means the keys starting with d/, as in
        /// `aws s3 rm --recursive` (not dx).
        #[arg(long)]
        recursive: bool,
        /// With --recursive: delete every key starting with the location as written, folder or
        /// not (s3://b/d deletes d/a and dx too).
        #[arg(long, requires = "recursive")]
        raw_prefix: bool,
        /// Print each delete as `(dryrun) delete: s3://B/K`, make none.
        #[arg(long)]
        dryrun: bool,
        #[command(flatten)]
        output: quiet_flags::QuietFlags,
        #[command(flatten)]
        filters: filters::FilterFlags,
    },
    /// Make DST like SRC, copying only what differs (local to S3, S3 to local, S3 to S3).
    Sync {
        /// A directory or s3://BUCKET[/FOLDER].
        source: String,
        /// A directory or s3://BUCKET[/FOLDER].
        destination: String,
        #[command(flatten)]
        flags: Box<sync::SyncFlags>,
    },
    /// Make a bucket.
    Mb {
        /// s3://BUCKET
        location: String,
    },
    /// Remove an empty bucket.
    Rb {
        /// s3://BUCKET
        location: String,
    },
    /// Print an object's metadata as JSON.
    Head {
        /// s3://BUCKET/KEY
        location: String,
        /// The SSE-C key the object was stored with: a file of 32 raw bytes or their base64.
        #[arg(long, value_name = "FILE")]
        sse_c_key_file: Option<PathBuf>,
    },
    /// Run one JSON action (uploadDocument, downloadDocument, listObjects, ...; see docs/actions.md)
    /// and print its JSON answer, or its JSON error, on stdout.
    Invoke {
        /// The request: JSON text, @FILE, or - for stdin.
        request: String,
        /// The document store directory (storeId "fs") for uploadDocument and downloadDocument.
        #[arg(long, value_name = "DIR")]
        documents: Option<PathBuf>,
        /// Largest object returned inline (createDocument: false), in bytes.
        #[arg(long, value_name = "BYTES", default_value_t = s3_connector_host::actions::DEFAULT_MAX_INLINE_BYTES)]
        max_inline_bytes: u64,
    },
    /// Serve the edge component over HTTP: GET/HEAD/PUT/DELETE /BUCKET/KEY, GET /BUCKET/?prefix=,
    /// POST /actions. One fresh sandbox per request; SIGINT/SIGTERM drain, then exit.
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        listen: std::net::SocketAddr,
        /// The token clients send as `Authorization: Bearer TOKEN` (one tenant, named by --tenant).
        #[arg(long, env = "S3_CONNECTOR_TOKEN", hide_env_values = true, value_name = "TOKEN")]
        token: Option<String>,
        /// A TOML file of tenants (name, token hashes, policy, credentials, limits), reread on
        /// SIGHUP and when it changes; see docs/serve.md.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["token", "insecure_no_auth"])]
        tenants: Option<PathBuf>,
        /// Serve Prometheus metrics at http://ADDR/metrics (a listener of its own).
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<std::net::SocketAddr>,
        /// Log lines as text or JSON, on stderr; RUST_LOG filters them (default info).
        #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
        log_format: String,
        /// Accept clients without a token (loopback addresses only).
        #[arg(long)]
        insecure_no_auth: bool,
        /// Speak TLS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM); needs --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Serve plain HTTP on a non-loopback address (tokens and objects unencrypted).
        #[arg(long, conflicts_with = "tls_cert")]
        insecure_plaintext: bool,
        /// The document store directory (storeId "fs") of the JSON actions at /actions
        /// (uploadDocument, downloadDocument); with --tenants, each tenant's `documents` instead.
        #[arg(long, value_name = "DIR", conflicts_with = "tenants")]
        documents: Option<PathBuf>,
        /// Sandboxes that may run at once (the pooling allocator's size); more requests wait.
        #[arg(long, default_value_t = s3_connector_host::instances::MAX_INSTANCES, value_name = "N")]
        max_instances: u32,
        /// Client connections open at once; a full server closes an idle one (of the tenant
        /// holding the most) for a newcomer, and is lowered to fit the file descriptor limit.
        #[arg(long, default_value_t = 1024, value_name = "N")]
        max_connections: usize,
        /// Connections one tenant may hold (default: all with one tenant, half with more).
        #[arg(long, value_name = "N")]
        max_connections_per_tenant: Option<usize>,
        /// Seconds a request body may go without a byte before it is answered 408 and its
        /// sandbox freed.
        #[arg(long, default_value_t = s3_connector_serve::BODY_READ_TIMEOUT.as_secs(), value_name = "SECONDS")]
        body_read_timeout: u64,
        /// The edge component: p2 (wasi:http/incoming-handler@0.2.12) or p3
        /// (wasi:http/handler@0.3.0, async with stream bodies); the same routes and policy.
        #[arg(long, default_value = "p2", value_name = "WASI", value_parser = ["p2", "p3"])]
        edge: String,
    },
    /// Run a guided tour on an embedded local S3 store: no account, no network.
    Demo,
    /// Manage the tokens of a `serve --tenants` file.
    ServeToken {
        #[command(subcommand)]
        action: serve_token::Action,
    },
}

/// Runs the CLI with `args` (the program name first) and returns the exit code.
pub async fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    print::quiet_panics();
    let args: Vec<OsString> = args.into_iter().collect();
    // Parsed through the matches, which keep where each --exclude and --include was written.
    let parsed = Cli::command().try_get_matches_from(&args).and_then(|matches| {
        let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut Cli::command()))?;
        Ok((cli, filters::from_matches(&matches)))
    });
    let (cli, filters) = match parsed {
        Ok(parsed) => parsed,
        Err(e) if e.use_stderr() && args.iter().any(|a| a == "--json") => {
            // A script that asked for JSON gets its usage error as the JSON error object too.
            output::print_error(&Error::Usage(usage_message(&e)), true);
            return 2;
        }
        Err(e) => {
            // Help and version print to stdout and succeed; usage errors exit 2.
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let json = cli.json;
    match execute(cli, filters).await {
        Ok(0) if print::stdout_failure().is_some() => {
            let reason = print::stdout_failure().unwrap_or_default();
            output::print_error(&Error::local(format!("cannot write the output: {reason}")), json);
            1
        }
        Ok(code) => code,
        Err(error) => {
            // --quiet keeps a failed transfer silent, as the aws CLI's; a usage error is no
            // transfer's and still says what to fix.
            if print::shows_problems() || matches!(error, Error::Usage(_)) {
                output::print_error(&error, json);
            }
            error.exit_code()
        }
    }
}

/// clap's message without its `error: ` label, usage block and help hint: the one line a JSON
/// error object carries.
fn usage_message(error: &clap::Error) -> String {
    let text = error.render().to_string();
    // The message is every line before the usage block (a missing argument is named on the
    // line after "the following required arguments were not provided:").
    let lines: Vec<&str> = text
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let message = lines.join(" ");
    message.strip_prefix("error: ").unwrap_or(&message).to_owned()
}

/// Runs the command; the exit code of a command that reports its own failures (`invoke`).
async fn execute(cli: Cli, filters: filters::Filters) -> Result<i32, Error> {
    // `serve` drains its requests on SIGINT and SIGTERM itself.
    if let Command::Serve { max_instances, .. } = cli.command {
        s3_connector_host::instances::configure(max_instances)?;
        let json_logs = matches!(&cli.command, Command::Serve { log_format, .. } if log_format == "json");
        serve::init_logs(json_logs);
        return match serve_command(cli).await {
            // A failure to start is one more line of the log: JSON under --log-format json.
            Err(error) if json_logs => {
                tracing::error!(code = error.code(), "{error}");
                Ok(error.exit_code())
            }
            done => done,
        };
    }
    if let Command::ServeToken { action } = &cli.command {
        return serve_token::run(action).map(|()| 0);
    }
    match signals::until_interrupted(command(cli, filters)).await {
        Ok(done) => done,
        Err(signal) => {
            print::error_line(format_args!("s3-connector: interrupted by {}", signal.name));
            Ok(signal.exit_code)
        }
    }
}

/// `serve`, once its log is set up: the connectors, then the server until a signal.
async fn serve_command(cli: Cli) -> Result<i32, Error> {
    let served = match &cli.command {
        Command::Serve { tenants: Some(path), .. } => serve::Served::Tenants(tenants(&cli, path)?),
        Command::Serve { documents, .. } => {
            let mut builder = connector(&cli, |name| std::env::var(name).ok()).await?;
            if let Some(dir) = documents {
                let store = s3_connector_host::documents::FsDocumentStore::new(dir)
                    .map_err(|e| Error::Usage(format!("--documents {}: {e}", dir.display())))?;
                builder = builder.documents(Arc::new(store));
            }
            serve::Served::One(Box::new(builder.build()?))
        }
        _ => serve::Served::One(Box::new(connector(&cli, |name| std::env::var(name).ok()).await?.build()?)),
    };
    if let Command::Serve {
        listen,
        token,
        insecure_no_auth,
        tls_cert,
        tls_key,
        insecure_plaintext,
        metrics_listen,
        max_connections,
        max_connections_per_tenant,
        body_read_timeout,
        edge,
        ..
    } = cli.command
    {
        let limits = s3_connector_serve::ServeLimits {
            max_connections,
            max_connections_per_tenant,
            body_read_timeout: std::time::Duration::from_secs(body_read_timeout),
            ..Default::default()
        };
        let listen = serve::Listen {
            address: listen,
            token,
            insecure_no_auth,
            tls: tls_cert.zip(tls_key),
            insecure_plaintext,
            metrics: metrics_listen,
            limits,
            edge: if edge == "p3" { EdgeWorld::P3 } else { EdgeWorld::P2 },
        };
        return serve::run(served, listen).await.map(|()| 0);
    }
    Err(Error::local("internal error: serve_command ran for another command"))
}

/// Runs every command but `serve`; dropped unfinished on SIGINT or SIGTERM.
async fn command(cli: Cli, filters: filters::Filters) -> Result<i32, Error> {
    if let Command::Demo = cli.command {
        return demo::run().await.map(|()| 0);
    }
    // Before the connector, whose allow-all warning `--quiet` silences too.
    let level = match &cli.command {
        Command::Cp { output, .. } | Command::Mv { output, .. } | Command::Rm { output, .. } => {
            output.level()
        }
        Command::Sync { flags, .. } => flags.output.level(),
        _ => print::Level::All,
    };
    print::set_level(level);
    if let Command::Invoke { request, documents, max_inline_bytes } = &cli.command {
        // Whatever fails, before the action or in it, an engine reads one JSON error on stdout.
        let ran = match connector(&cli, |name| std::env::var(name).ok()).await {
            Ok(builder) => invoke::run(builder, request, documents.as_deref(), *max_inline_bytes).await,
            Err(error) => Err(error),
        };
        return Ok(ran.unwrap_or_else(|error| invoke::print_failure(&error)));
    }
    let connector = connector(&cli, |name| std::env::var(name).ok()).await?;
    let json = cli.json;
    let connector = connector.build()?;
    if let Command::Ls { location, recursive, view, .. } = &cli.command {
        let listing = commands::Listing { recursive: *recursive, view: view.clone(), filters };
        return commands::ls(&connector, location.as_deref(), listing, json).await;
    }
    let signed_at = match &cli.at {
        Some(text) => pinned_time::parse(text).map_err(Error::Usage)?,
        None => std::time::SystemTime::now(),
    };
    let default_checksum = upload_checksum_default(&cli, |name| std::env::var(name).ok())?;
    let done = match cli.command {
        Command::Cp { source, destination, recursive, dryrun, mut upload, download, concurrency, .. } => {
            filters.require_recursive(recursive, "cp")?;
            upload.default_checksum = default_checksum;
            let mut transfer =
                cp_flags::transfer(cp_flags::Kind::of(&source, &destination), &upload, &download)?;
            transfer.dryrun = dryrun;
            let many = commands::Many { filters, concurrency: concurrency.concurrency };
            return commands::cp(
                &connector,
                &source,
                &destination,
                transfer,
                recursive.then_some(many),
                json,
            )
            .await;
        }
        Command::Mv { source, destination, recursive, dryrun, concurrency, .. } => {
            filters.require_recursive(recursive, "mv")?;
            let many = commands::Many { filters, concurrency: concurrency.concurrency };
            let many = recursive.then_some(many);
            return commands::mv(&connector, &source, &destination, many, default_checksum, dryrun, json)
                .await;
        }
        Command::Sync { source, destination, flags } => {
            let context = sync::Given { filters: &filters, default_checksum, json };
            return sync::run(&connector, &source, &destination, &flags, context).await;
        }
        Command::Presign { location, method, expires_in } => {
            commands::presign(&connector, &location, &method, expires_in, signed_at, json).await
        }
        Command::Rm { location, recursive, raw_prefix, dryrun, .. } => {
            filters.require_recursive(recursive, "rm")?;
            let scope = match (recursive, raw_prefix) {
                (false, _) => commands::RmScope::One,
                (true, false) => commands::RmScope::Folder,
                (true, true) => commands::RmScope::RawPrefix,
            };
            commands::rm(&connector, &location, scope, &filters, dryrun, json).await
        }
        Command::SigningKey => signing_key::print(&connector, signed_at, json).await,
        Command::Mb { location } => commands::mb(&connector, &location, json).await,
        Command::Rb { location } => commands::rb(&connector, &location, json).await,
        Command::Head { location, sse_c_key_file } => {
            let key = sse_c_key_file.as_deref().map(upload_flags::read_customer_key).transpose();
            commands::head(&connector, &location, key.map_err(Error::Usage)?, json).await
        }
        Command::Ls { .. }
        | Command::Invoke { .. }
        | Command::Serve { .. }
        | Command::Demo
        | Command::ServeToken { .. } => {
            unreachable!("handled above")
        }
    };
    done.map(|()| 0)
}

/// The checksum uploads carry without `--checksum-algorithm`: none under
/// `AWS_REQUEST_CHECKSUM_CALCULATION=when_required` (or the profile's
/// `request_checksum_calculation`), else the default algorithm.
fn upload_checksum_default(
    cli: &Cli,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<s3_connector_host::types::ChecksumAlgorithm>, Error> {
    let profile =
        ProfileSettings::load(&lookup, cli.profile.as_deref()).map_err(|e| Error::Usage(e.to_string()))?;
    let environment = lookup(upload_checksum::ENVIRONMENT);
    let calculation = upload_checksum::Calculation::read(
        environment.as_deref(),
        profile.request_checksum_calculation.as_deref(),
    )
    .map_err(Error::Usage)?;
    Ok(calculation.default_algorithm())
}

/// Whether downloads verify response checksums: `AWS_RESPONSE_CHECKSUM_VALIDATION`, else the
/// profile's `response_checksum_validation`, else `when_supported`; another value is a usage
/// error naming where it came from.
fn response_checksum_validation(
    profile: &ProfileSettings,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<s3_connector_host::ResponseChecksumValidation, Error> {
    let environment = lookup(s3_connector_host::checksum_validation::ENVIRONMENT);
    s3_connector_host::ResponseChecksumValidation::read(
        environment.as_deref(),
        profile.response_checksum_validation.as_deref(),
    )
    .map_err(|e| Error::Usage(e.to_string()))
}

/// The config file, the profile's settings and the connection (endpoint, region, network)
/// from flags, the config file and the environment (`lookup`).
fn connection(
    cli: &Cli,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<(ConfigFile, ProfileSettings, Connection), Error> {
    let file = match &cli.config {
        Some(path) => ConfigFile::load(path).map_err(Error::Usage)?,
        None => ConfigFile::default(),
    };
    let profile =
        ProfileSettings::load(&lookup, cli.profile.as_deref()).map_err(|e| Error::Usage(e.to_string()))?;
    let switches = s3_connector_host::settings::EndpointSwitches {
        fips: cli.use_fips_endpoint.then_some(true),
        dual_stack: cli.use_dualstack_endpoint.then_some(true),
    };
    let connection = Connection::resolve_with_switches(
        cli.endpoint.as_deref().or(file.endpoint.as_deref()),
        cli.region.as_deref().or(file.region.as_deref()),
        cli.path_style || file.path_style.unwrap_or(false),
        switches,
        profile.env_fallback(&lookup),
    )?
    .with_network(network_flags::settings(
        network_flags::Flags {
            ca_bundle: cli.ca_bundle.clone(),
            connect_timeout: cli.cli_connect_timeout,
            read_timeout: cli.cli_read_timeout,
            proxy: cli.proxy.clone(),
            resolve: cli.resolve.clone(),
        },
        file.ca_bundle.clone(),
        &file.proxy(),
        profile.ca_bundle.clone().map(PathBuf::from),
        &lookup,
    )?);
    Ok((file, profile, connection))
}

/// `serve --tenants FILE`: the tenants of the file, each connector on the connection and
/// settings of the command line (endpoint, region, network, --max-attempts, --audit).
fn tenants(cli: &Cli, path: &std::path::Path) -> Result<s3_connector_serve::Tenants, Error> {
    // Each tenant has its own policy and credentials: the command line's would be ignored.
    let per_tenant = [
        ("--allow", !cli.allow.is_empty()),
        ("--access-key-id", cli.access_key_id.is_some()),
        ("--secret-access-key", cli.secret_access_key.is_some()),
        ("--session-token", cli.session_token.is_some()),
        ("--profile", cli.profile.is_some()),
        ("--role-arn", cli.role_arn.is_some()),
    ];
    if let Some((flag, _)) = per_tenant.iter().find(|(_, given)| *given) {
        return Err(Error::Usage(format!(
            "{flag} does not apply with --tenants: each tenant of {} has its own allow rules and credentials",
            path.display()
        )));
    }
    let lookup = |name: &str| std::env::var(name).ok();
    let (_, profile, connection) = connection(cli, &lookup)?;
    let audit = audit_sink(cli)?;
    let base = s3_connector_serve::TenantBase {
        connection,
        max_attempts: cli.max_attempts,
        response_checksum_validation: response_checksum_validation(&profile, &lookup)?,
        allow_request_credentials: cli.allow_request_credentials,
        audit,
        lookup: Arc::new(lookup),
    };
    s3_connector_serve::Tenants::from_file(path, base).map_err(|e| Error::Usage(e.to_string()))
}

/// `--audit`'s sink: standard error for `-`, else the file, appended to.
fn audit_sink(cli: &Cli) -> Result<Option<Arc<dyn AuditSink>>, Error> {
    Ok(match &cli.audit {
        Some(path) if path.as_os_str() == "-" => Some(Arc::new(StderrSink)),
        // A log that cannot be opened is a usage error (exit 2), as every bad flag is.
        Some(path) => Some(Arc::new(FileSink::open(path).map_err(|e| Error::Usage(e.to_string()))?)),
        None => None,
    })
}

/// Builds the connector from flags, the config file and the environment (`lookup`).
async fn connector(cli: &Cli, lookup: impl Fn(&str) -> Option<String>) -> Result<ConnectorBuilder, Error> {
    let (file, profile, connection) = connection(cli, &lookup)?;
    let validation = response_checksum_validation(&profile, &lookup)?;

    let policy_source = PolicySource::resolve(&cli.allow, file.rules().map_err(Error::Usage)?)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let policy = &policy_source.policy;
    if cli.session_token.is_some() && cli.access_key_id.is_none() && cli.secret_access_key.is_none() {
        // Keys from anywhere else come with their own token (or none); pairing them with this one
        // would sign with a mismatched session, and dropping it silently hides the mistake.
        return Err(Error::Usage(
            "--session-token goes with --access-key-id and --secret-access-key; give all three (keys \
             from the environment, a profile or --config carry their own token: AWS_SESSION_TOKEN, \
             aws_session_token, session_token in [credentials])"
                .to_owned(),
        ));
    }

    let (credentials, source) = credentials_source::choose(cli, &file, &connection, policy, &lookup).await?;
    // Said once the command line is known to be usable, so that a usage error stays one line.
    if let Some(warning) = policy_source.default_warning(&connection.endpoint.url()) {
        match cli.command {
            // serve's stderr is its log: every line in --log-format, JSON included.
            Command::Serve { .. } => tracing::warn!(code = "allow-all-default", "{warning}"),
            _ => output::print_warning("allow-all-default", &warning, cli.json),
        }
    }
    if cli.verbose {
        print::error_line(format_args!("s3-connector: credentials from {source}"));
        print::error_line(format_args!("s3-connector: {}", policy_source.describe()));
        for warning in policy_source.prefix_warnings() {
            print::error_line(format_args!("s3-connector: {warning}"));
        }
    }
    let requester_pays = cli.request_payer.is_some() || file.request_payer().map_err(Error::Usage)?;
    let mut connector = Connector::builder(connection, policy.clone(), credentials)
        .requester_pays(requester_pays)
        .tenant(cli.tenant.clone())
        .max_attempts(cli.max_attempts)
        .response_checksum_validation(validation)
        .request_credentials(cli.allow_request_credentials);
    if let Some(sink) = audit_sink(cli)? {
        connector = connector.audit(sink);
    }
    if let Some(text) = &cli.at {
        connector = connector.pinned_time(pinned_time::parse(text).map_err(Error::Usage)?);
    }
    Ok(connector)
}
