//! The command line's `--use-fips-endpoint` and `--use-dualstack-endpoint`: with an explicit
//! endpoint they are a usage error (exit 2, one line naming the flag), as the AWS SDKs refuse
//! FIPS or dual-stack with a custom endpoint; nothing is sent anywhere.

use std::process::Output;

use tokio::process::Command;

fn text(output: &Output) -> (i32, String) {
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_flags_with_an_explicit_endpoint_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    for (flag, what) in [("--use-fips-endpoint", "FIPS"), ("--use-dualstack-endpoint", "dual-stack")] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_s3-connector"));
        command
            .env_clear()
            .env("HOME", home.path())
            .env("AWS_CONFIG_FILE", home.path().join("no-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("no-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", "AKSWITCHTEST00000001")
            .env("AWS_SECRET_ACCESS_KEY", "switch-secret-0123456789abcdefghijklmnopq")
            // A port nothing listens on: were the flag ignored, the error would be exit 1.
            .args(["--endpoint", "http://127.0.0.1:9", "--allow", "*", flag, "ls", "s3://b"])
            .kill_on_drop(true);
        let (code, stderr) = text(&command.output().await.unwrap());
        assert_eq!(code, 2, "{flag}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{flag} cannot be combined with an explicit endpoint (http://127.0.0.1:9)"
            )) && stderr.contains(what)
                && stderr.trim().lines().count() == 1,
            "{flag}: {stderr}"
        );
    }
}
