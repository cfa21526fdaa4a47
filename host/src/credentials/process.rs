//! `credential_process`: a command from a profile that prints credentials as JSON
//! (`{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}`).
//!
//! The command runs through the shell (`sh -c` here, `cmd /C` on Windows) with the host's
//! environment, a bounded time, and its standard output captured. Neither the command line
//! (it may carry a token) nor the output (it carries the secret) appears in messages: they name
//! the profile, the program and the exit status.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::{AwsCredentials, CredentialsError, CredentialsFuture, CredentialsProvider, Secret, time};

const NAME: &str = "credential-process";

/// How long the command may take.
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs a `credential_process` command for credentials.
#[derive(Clone)]
pub struct ProcessProvider {
    command: Secret,
    profile: String,
    timeout: Duration,
}

impl ProcessProvider {
    /// The command of `profile`'s `credential_process`.
    pub fn new(command: impl Into<String>, profile: impl Into<String>) -> Self {
        Self { command: Secret::new(command), profile: profile.into(), timeout: PROCESS_TIMEOUT }
    }

    /// Another time limit than `PROCESS_TIMEOUT`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The program (first word of the command), which messages may show.
    pub fn program(&self) -> &str {
        self.command.expose().split_whitespace().next().unwrap_or_default()
    }

    fn error(&self, reason: String) -> CredentialsError {
        CredentialsError {
            provider: NAME,
            reason: format!("profile `{}`, program `{}`: {reason}", self.profile, self.program()),
        }
    }

    async fn run(&self) -> Result<AwsCredentials, CredentialsError> {
        let mut command = if cfg!(windows) {
            let mut c = tokio::process::Command::new("cmd");
            c.arg("/C");
            c
        } else {
            let mut c = tokio::process::Command::new("sh");
            c.arg("-c");
            c
        };
        command
            .arg(self.command.expose())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let output = tokio::time::timeout(self.timeout, command.output())
            .await
            .map_err(|_| {
                self.error(format!(
                    "no answer within {} s; run the command yourself to see why",
                    self.timeout.as_secs()
                ))
            })?
            .map_err(|e| self.error(format!("cannot start the shell: {e}")))?;
        if !output.status.success() {
            return Err(self.error(format!(
                "the command failed ({}); run it yourself to see its messages",
                output.status
            )));
        }
        parse_output(&output.stdout).map_err(|e| self.error(e))
    }
}

// No Debug: it holds the secret parts as plain strings until they are wrapped.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessOutput {
    version: Option<serde_json::Value>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    expiration: Option<String>,
}

/// Parses a credential process's output (JSON, `Version` 1). Errors never quote the output.
pub(crate) fn parse_output(stdout: &[u8]) -> Result<AwsCredentials, String> {
    let output: ProcessOutput = serde_json::from_slice(stdout).map_err(|e| {
        format!(
            "its output is not the JSON credential_process prints (line {}, column {}); \
             expected {{\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": ...}}",
            e.line(),
            e.column()
        )
    })?;
    match output.version {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(1) => {}
        Some(other) => return Err(format!("its output has Version {other}; only Version 1 is known")),
        None => {
            return Err(
                "its output has no Version; credential_process output needs \"Version\": 1".to_owned()
            );
        }
    }
    let nonempty = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let access_key_id =
        nonempty(output.access_key_id).ok_or_else(|| "its output has no AccessKeyId".to_owned())?;
    let secret =
        nonempty(output.secret_access_key).ok_or_else(|| "its output has no SecretAccessKey".to_owned())?;
    let expires_at = match nonempty(output.expiration) {
        Some(text) => Some(
            time::parse_rfc3339(&text)
                .ok_or_else(|| format!("its Expiration {text:?} is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    Ok(AwsCredentials {
        access_key_id,
        secret_access_key: Secret::new(secret),
        session_token: nonempty(output.session_token).map(Secret::new),
        expires_at,
    })
}

impl fmt::Debug for ProcessProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessProvider")
            .field("profile", &self.profile)
            .field("program", &self.program())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider for ProcessProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_output_parses() {
        let ok = br#"{"Version": 1, "AccessKeyId": "AKID", "SecretAccessKey": "S3CR3T",
                      "SessionToken": "T0K3N", "Expiration": "2030-01-01T00:00:00Z"}"#;
        let c = parse_output(ok).unwrap();
        assert_eq!((c.access_key_id.as_str(), c.secret_access_key.expose()), ("AKID", "S3CR3T"));
        assert_eq!(c.session_token.as_ref().map(Secret::expose), Some("T0K3N"));
        assert_eq!(c.expires_at.map(time::format_rfc3339).as_deref(), Some("2030-01-01T00:00:00Z"));
        let bare = parse_output(br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S"}"#).unwrap();
        assert!(bare.session_token.is_none() && bare.expires_at.is_none());

        let table: &[(&[u8], &str)] = &[
            (b"S3CR3T not json", "its output is not the JSON credential_process prints (line 1, column 1)"),
            (br#"{"AccessKeyId":"A","SecretAccessKey":"S3CR3T"}"#, "its output has no Version"),
            (br#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"S3CR3T"}"#, "its output has Version 2"),
            (br#"{"Version":1,"SecretAccessKey":"S3CR3T"}"#, "its output has no AccessKeyId"),
            (br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":""}"#, "its output has no SecretAccessKey"),
            (
                br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S3CR3T","Expiration":"later"}"#,
                "its Expiration \"later\" is not an RFC 3339 time",
            ),
        ];
        for (output, expected) in table {
            let error = parse_output(output).err().unwrap();
            assert!(error.starts_with(expected), "{error}");
            assert!(!error.contains("S3CR3T"), "{error}");
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_command_runs_and_failures_name_the_program_not_the_command() {
        let ok = ProcessProvider::new(
            r#"printf '{"Version":1,"AccessKeyId":"AKID","SecretAccessKey":"S3CR3T"}'"#,
            "dev",
        );
        assert_eq!(ok.credentials().await.unwrap().access_key_id, "AKID");
        let failing = ProcessProvider::new("false --token=VERYSECRET", "dev");
        let error = failing.credentials().await.unwrap_err().to_string();
        assert!(
            error.starts_with("no credentials from credential-process: profile `dev`, program `false`"),
            "{error}"
        );
        assert!(!error.contains("VERYSECRET") && !format!("{failing:?}").contains("VERYSECRET"), "{error}");
        let slow = ProcessProvider::new("sleep 5", "dev").with_timeout(Duration::from_millis(100));
        assert!(slow.credentials().await.unwrap_err().to_string().contains("no answer within"));
    }
}
